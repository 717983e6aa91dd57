using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Ai;

/// <summary>One model call as it is billed and reported.</summary>
internal sealed record UsageRecord(
    string Id,
    string WorkspaceId,
    string? UserId,
    string? ApiKeyId,
    string Model,
    string? Provider,
    string Operation,
    bool Stream,
    int PromptTokens,
    int CompletionTokens,
    int TotalTokens,
    decimal CostUsd,
    long LatencyMs,
    long? TimeToFirstTokenMs,
    string Status,
    string Source,
    DateTimeOffset CreatedAt,
    string? WorkflowId = null,
    string? AppId = null);

internal static class UsageStatus
{
    public const string Ok = "ok";
    public const string Error = "error";
    public const string Timeout = "timeout";
    public const string Cancelled = "cancelled";
    public const string Rejected = "rejected";
}

/// <summary>A slice of a workspace's usage rows written together (one entity), oldest first: how the first release stored them.</summary>
internal sealed record UsageBatch(IReadOnlyList<UsageRecord> Records);

/// <summary>
/// Usage rows, one per model call. Calls hand their row over and go on: a background writer persists them, so the
/// store's latency never adds to a model call's. Each row is stored in its workspace's partition beside index rows
/// that list it newest or oldest first, narrowed by status, model, user or API key, so a page of the list, a key's
/// month of spend or a user's period reads only those rows. The writer packs the rows of a flush into as few atomic
/// batches as their index rows allow.
/// </summary>
/// <remarks>
/// Each call writes 11 rows (its row and 10 index rows of about its own size). Orders other than creation time and
/// the provider filter are not indexed: readers sort or check those over a time range (see ListUsage).
/// </remarks>
internal sealed class UsageLedger(IEntityStore store, Analytics.AnalyticsRecorder analytics, ILogger<UsageLedger> logger) : BackgroundService
{
    /// <summary>How long the writer gathers rows before a flush; it bounds how stale usage reads are.</summary>
    public static readonly TimeSpan FlushDelay = TimeSpan.FromMilliseconds(100);

    public const string CreatedOrder = "createdAt";

    public static readonly ListIndex<UsageRecord> Index = new(
        version: 1,
        r => r.Id,
        new Dictionary<string, Func<UsageRecord, string>> { [CreatedOrder] = r => SortKey(r.CreatedAt) },
        new Dictionary<string, Func<UsageRecord, string?>>
        {
            ["status"] = r => r.Status,
            ["model"] = r => r.Model,
            ["user"] = r => r.UserId,
            ["apiKey"] = r => r.ApiKeyId,
        });

    // Rows of one flush per try: a refused write loses (and logs) at most these.
    private const int MaxWrite = 100;
    private const int MaxKnownWorkspaces = 100_000;

    private readonly IndexedTable<UsageRecord> _rows = new(store, "usagerows", Index, EntityTable<UsageRecord>.Json);
    // The first release kept rows in batches of up to 100 per entity; a workspace's move on its first read.
    private readonly EntityTable<UsageBatch> _batches = new(store, "modelusage");
    private readonly ConcurrentDictionary<string, byte> _moved = new(StringComparer.Ordinal);
    private readonly Channel<UsageRecord> _pending = Channel.CreateUnbounded<UsageRecord>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>The list: newest first by default; <c>status</c> binds to the status filter.</summary>
    public IndexedList<UsageRecord> List => new(_rows, CreatedOrder, DefaultDescending: true,
        Matches: (u, s) => u.Model.Contains(s, StringComparison.OrdinalIgnoreCase) || (u.Provider ?? "").Contains(s, StringComparison.OrdinalIgnoreCase),
        StatusFilter: "status");

    /// <summary>The sort key of a time (ordinal order is time order); ranges of the list are given in it.</summary>
    public static string SortKey(DateTimeOffset at) => at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    public void Record(UsageRecord record)
    {
        analytics.Usage(record);
        if (!_pending.Writer.TryWrite(record))
        {
            ModelGatewayLog.UsageDropped(logger, record.Id);
        }
    }

    /// <summary>A page of the workspace's usage list (see <see cref="IndexedPaging.PageAsync"/>).</summary>
    public async Task<PageResult<UsageRecord>?> PageAsync(string workspaceId, ListQuery query, ListRequest<UsageRecord> request, CancellationToken cancellationToken)
    {
        await MoveBatchesAsync(workspaceId, cancellationToken);
        return await IndexedPaging.PageAsync(List, workspaceId, query, request, cancellationToken);
    }

    /// <summary>
    /// The workspace's rows from <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive), oldest first,
    /// only those of <paramref name="filter"/> when given: a range scan of that filter's index rows.
    /// </summary>
    public async IAsyncEnumerable<UsageRecord> ReadAsync(
        string workspaceId, DateTimeOffset from, DateTimeOffset to, (string Name, string Value)? filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await MoveBatchesAsync(workspaceId, cancellationToken);
        var query = new IndexQuery<UsageRecord> { Order = CreatedOrder, Filter = filter, From = SortKey(from), To = SortKey(to), Limit = EntityQuery.MaxTake };
        while (true)
        {
            var page = await _rows.ListAsync(workspaceId, query, cancellationToken);
            foreach (var row in page.Items)
            {
                yield return row;
            }

            if (page.Next is null)
            {
                yield break;
            }

            query = query with { After = page.Next };
        }
    }

    /// <summary>Deletes the workspace's rows created before <paramref name="cutoff"/> (at most <paramref name="max"/>, oldest first); returns how many went.</summary>
    public async Task<int> DeleteBeforeAsync(string workspaceId, DateTimeOffset cutoff, int max, CancellationToken cancellationToken)
    {
        var doomed = new List<string>();
        await foreach (var row in ReadAsync(workspaceId, DateTimeOffset.UnixEpoch, cutoff, null, cancellationToken))
        {
            doomed.Add(row.Id);
            if (doomed.Count >= max)
            {
                break;
            }
        }

        var deleted = 0;
        foreach (var id in doomed)
        {
            if ((await _rows.DeleteAsync(workspaceId, id, null, cancellationToken)).Succeeded)
            {
                deleted++;
            }
        }

        return deleted;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _pending.Reader.WaitToReadAsync(stoppingToken))
            {
                await Task.Delay(FlushDelay, stoppingToken);
                await DrainAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: StopAsync writes what is left.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        _pending.Writer.TryComplete();
        await DrainAsync(cancellationToken);
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        var gathered = new List<UsageRecord>();
        while (_pending.Reader.TryRead(out var record))
        {
            gathered.Add(record);
        }

        foreach (var workspace in gathered.GroupBy(r => r.WorkspaceId, StringComparer.Ordinal))
        {
            foreach (var chunk in workspace.Chunk(MaxWrite))
            {
                try
                {
                    // Marked indexed before its first rows, so a first list never rewrites a partition written with its index.
                    await _rows.EnsureIndexedAsync(workspace.Key, cancellationToken);
                    await _rows.AppendAsync(workspace.Key, chunk, cancellationToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // A lost write must not stop the writer; the log says which calls it held.
                    ModelGatewayLog.UsageWriteFailed(logger, exception, chunk[0].Id, chunk.Length);
                }
            }
        }
    }

    /// <summary>
    /// Moves the workspace's rows of the first release (batches under time keys) into the indexed table, once: each
    /// batch's rows are appended, then the batch goes, so later calls cost one empty read per instance, then a lookup
    /// in memory. Readers on two instances may move a batch twice; appending a row again changes nothing.
    /// </summary>
    private async Task MoveBatchesAsync(string workspaceId, CancellationToken cancellationToken)
    {
        if (_moved.ContainsKey(workspaceId))
        {
            return;
        }

        await _rows.EnsureIndexedAsync(workspaceId, cancellationToken);
        await foreach (var batch in _batches.QueryAllAsync(new EntityQuery { PartitionKey = workspaceId, Take = 50 }, cancellationToken))
        {
            await _rows.AppendAsync(workspaceId, batch.Value.Records, cancellationToken);
            await _batches.DeleteAsync(workspaceId, batch.RowKey, batch.ETag, cancellationToken);
        }

        if (_moved.Count >= MaxKnownWorkspaces)
        {
            _moved.Clear();
        }

        _moved.TryAdd(workspaceId, 0);
    }
}
