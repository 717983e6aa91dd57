using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CsvHelper;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Analytics;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Analytics;

internal static class ExportStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
}

/// <summary>An export job and, once done, where its file is.</summary>
internal sealed record ExportRecord(
    string Id, string WorkspaceId, string Kind, string Format, DateTimeOffset From, DateTimeOffset To, string Status, string RequestedBy,
    DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt = null, long? Rows = null, long? Bytes = null, string? Error = null);

/// <summary>The message of the <c>analytics-exports</c> queue.</summary>
internal sealed record ExportMessage(string WorkspaceId, string ExportId)
{
    public const string QueueName = "analytics-exports";
}

/// <summary>
/// Exports of usage rows, runs or daily costs as CSV or JSON: a job row per export, a queue message that writes the
/// file to the blob store, and download links signed with the platform's signing key that expire (the link works
/// without a credential, like a SAS URL, so a browser or a script can fetch it). CSV cells that a spreadsheet would
/// read as a formula are escaped.
/// </summary>
internal sealed class AnalyticsExports(
    IEntityStore store, IWorkQueue queue, IBlobStore blobs, UsageLedger usage, WorkflowRuns runs, AnalyticsRollups rollups, SigningKeys keys,
    IOptions<AnalyticsOptions> options, TimeProvider time)
{
    public const string Container = "analytics-exports";
    public static readonly IReadOnlyList<string> Kinds = ["usage", "runs", "costs"];
    public static readonly IReadOnlyList<string> Formats = ["csv", "json"];

    private readonly EntityTable<ExportRecord> _jobs = new(store, "analyticsexports");

    public async Task<ExportRecord> StartAsync(string workspaceId, string kind, string format, DateTimeOffset from, DateTimeOffset to, string userId, CancellationToken cancellationToken)
    {
        var job = new ExportRecord(Secrets.NewId("exp"), workspaceId, kind, format, from, to, ExportStatus.Queued, userId, time.GetUtcNow());
        await _jobs.InsertAsync(workspaceId, job.Id, job, cancellationToken);
        await queue.EnqueueAsync(ExportMessage.QueueName, JsonSerializer.Serialize(new ExportMessage(workspaceId, job.Id), JsonSerializerOptions.Web), null, cancellationToken);
        return job;
    }

    public async Task<ExportRecord?> GetAsync(string workspaceId, string id, CancellationToken cancellationToken) =>
        (await _jobs.FindAsync(workspaceId, id, cancellationToken))?.Value;

    /// <summary>Writes the export's file (again, if a delivery repeats: the file is overwritten with the same content).</summary>
    public async Task RunAsync(ExportMessage message, CancellationToken cancellationToken)
    {
        var job = await GetAsync(message.WorkspaceId, message.ExportId, cancellationToken);
        if (job is null || job.Status is ExportStatus.Completed)
        {
            return;
        }

        await _jobs.UpdateAsync(job.WorkspaceId, job.Id, j => j with { Status = ExportStatus.Running }, cancellationToken);
        try
        {
            await using var file = new MemoryStream();
            var rows = await WriteAsync(job, file, cancellationToken);
            file.Position = 0;
            await blobs.UploadAsync(Container, BlobName(job), file, ContentType(job.Format), overwrite: true, cancellationToken);
            await _jobs.UpdateAsync(job.WorkspaceId, job.Id,
                j => j with { Status = ExportStatus.Completed, CompletedAt = time.GetUtcNow(), Rows = rows, Bytes = file.Length }, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            await _jobs.UpdateAsync(job.WorkspaceId, job.Id,
                j => j with { Status = ExportStatus.Failed, CompletedAt = time.GetUtcNow(), Error = "The export could not be written; start a new one." }, cancellationToken);
            throw;
        }
    }

    public Task<BlobDownload?> OpenAsync(ExportRecord job, CancellationToken cancellationToken) => blobs.OpenReadAsync(Container, BlobName(job), cancellationToken);

    /// <summary>A download path valid until the returned time.</summary>
    public (string Path, DateTimeOffset ExpiresAt) Link(ExportRecord job)
    {
        var expires = time.GetUtcNow().AddMinutes(options.Value.ExportLinkMinutes);
        var stamp = expires.ToUnixTimeSeconds();
        var path = $"/api/v1/analytics/exports/{job.Id}/download?workspace={Uri.EscapeDataString(job.WorkspaceId)}&expires={stamp}&signature={Sign(job.WorkspaceId, job.Id, stamp)}";
        return (path, DateTimeOffset.FromUnixTimeSeconds(stamp));
    }

    /// <summary>Whether a link's signature is the platform's and it has not expired.</summary>
    public bool Verify(string workspaceId, string id, long expires, string signature)
    {
        if (DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(expires, 0, 253_402_300_799)) <= time.GetUtcNow())
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(workspaceId, id, expires));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature));
    }

    public static string ContentType(string format) => format == "csv" ? "text/csv; charset=utf-8" : "application/json";

    public static string FileName(ExportRecord job) => $"{job.Kind}-{job.From:yyyyMMdd}-{job.To:yyyyMMdd}.{job.Format}";

    private static string BlobName(ExportRecord job) => $"{job.WorkspaceId}/{job.Id}.{job.Format}";

    private string Sign(string workspaceId, string id, long expires)
    {
        var mac = HMACSHA256.HashData(keys.Key.Key, Encoding.UTF8.GetBytes($"analytics-export\n{workspaceId}\n{id}\n{expires}"));
        return Convert.ToHexStringLower(mac);
    }

    private async Task<long> WriteAsync(ExportRecord job, Stream file, CancellationToken cancellationToken)
    {
        var records = job.Kind switch
        {
            "usage" => UsageRowsAsync(job, cancellationToken),
            "runs" => RunRowsAsync(job, cancellationToken),
            _ => CostRowsAsync(job, cancellationToken),
        };
        long count = 0;
        if (job.Format == "json")
        {
            await using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = false });
            json.WriteStartArray();
            await foreach (var row in records)
            {
                json.WriteStartObject();
                foreach (var (name, value) in row)
                {
                    WriteJsonValue(json, name, value);
                }

                json.WriteEndObject();
                count++;
            }

            json.WriteEndArray();
            return count;
        }

        await using var writer = new StreamWriter(file, new UTF8Encoding(false), leaveOpen: true);
        using (var csv = CsvWriter.Create(writer, new CsvWriterOptions { Injection = CsvInjection.Escape }, true))
        {
            var header = false;
            await foreach (var row in records)
            {
                if (!header)
                {
                    csv.WriteRecord([.. row.Select(f => f.Item1)]);
                    header = true;
                }

                csv.WriteRecord([.. row.Select(f => Text(f.Item2))]);
                count++;
            }
        }

        return count;
    }

    private static string Text(object? value) => value switch
    {
        null => "",
        DateTimeOffset at => at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static void WriteJsonValue(Utf8JsonWriter json, string name, object? value)
    {
        switch (value)
        {
            case null: json.WriteNull(name); break;
            case string text: json.WriteString(name, text); break;
            case bool flag: json.WriteBoolean(name, flag); break;
            case int number: json.WriteNumber(name, number); break;
            case long number: json.WriteNumber(name, number); break;
            case decimal number: json.WriteNumber(name, number); break;
            case double number: json.WriteNumber(name, number); break;
            case DateTimeOffset at: json.WriteString(name, at); break;
            default: json.WriteString(name, value.ToString()); break;
        }
    }

    private async IAsyncEnumerable<IReadOnlyList<(string, object?)>> UsageRowsAsync(ExportRecord job, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var u in usage.ReadAsync(job.WorkspaceId, job.From, job.To, null, cancellationToken))
        {
            yield return [("id", u.Id), ("createdAt", u.CreatedAt), ("model", u.Model), ("provider", u.Provider), ("operation", u.Operation), ("stream", u.Stream),
                ("promptTokens", u.PromptTokens), ("completionTokens", u.CompletionTokens), ("totalTokens", u.TotalTokens), ("costUsd", u.CostUsd),
                ("latencyMs", u.LatencyMs), ("timeToFirstTokenMs", u.TimeToFirstTokenMs), ("status", u.Status), ("source", u.Source),
                ("userId", u.UserId), ("apiKeyId", u.ApiKeyId), ("workflowId", u.WorkflowId), ("appId", u.AppId)];
        }
    }

    private async IAsyncEnumerable<IReadOnlyList<(string, object?)>> RunRowsAsync(ExportRecord job, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var query = new IndexQuery<ExecutionSummary>
        {
            Order = "createdAt", From = ExecutionIndex.SortKey(job.From), To = ExecutionIndex.SortKey(job.To), Limit = EntityQuery.MaxTake,
        };
        while (true)
        {
            var page = await runs.Index.Runs.ListAsync(job.WorkspaceId, query, cancellationToken);
            foreach (var r in page.Items)
            {
                yield return [("id", r.Id), ("workflowId", r.WorkflowId), ("version", r.Version), ("status", r.Status), ("createdAt", r.CreatedAt),
                    ("completedAt", r.CompletedAt), ("durationMs", r.CompletedAt is { } end ? (long)(end - r.CreatedAt).TotalMilliseconds : null)];
            }

            if (page.Next is null)
            {
                yield break;
            }

            query = query with { After = page.Next };
        }
    }

    private async IAsyncEnumerable<IReadOnlyList<(string, object?)>> CostRowsAsync(ExportRecord job, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var rows = await rollups.ReadAsync(job.WorkspaceId, Dimensions.Model, Granularity.Day, job.From, job.To, cancellationToken);
        foreach (var row in rows.OrderBy(r => r.Start).ThenBy(r => r.Value, StringComparer.Ordinal))
        {
            yield return [("date", row.Start.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), ("model", row.Value), ("requests", row.Cell.Requests),
                ("promptTokens", row.Cell.PromptTokens), ("completionTokens", row.Cell.CompletionTokens), ("costUsd", row.Cell.CostUsd)];
        }
    }
}
