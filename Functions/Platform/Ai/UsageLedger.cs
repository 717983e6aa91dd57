using System.Globalization;
using System.Threading.Channels;
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
    DateTimeOffset CreatedAt);

internal static class UsageStatus
{
    public const string Ok = "ok";
    public const string Error = "error";
    public const string Timeout = "timeout";
    public const string Cancelled = "cancelled";
    public const string Rejected = "rejected";
}

/// <summary>
/// Usage rows, one per model call, in the workspace's partition under a time-ordered row key. Calls hand their row
/// over and go on: a background writer persists them, so the store's latency never adds to a model call's.
/// </summary>
internal sealed class UsageLedger(IEntityStore store, ILogger<UsageLedger> logger) : BackgroundService
{
    private const string RowTimeFormat = "yyyyMMddHHmmssfffffff";
    private readonly EntityTable<UsageRecord> _rows = new(store, "modelusage");
    private readonly Channel<UsageRecord> _pending = Channel.CreateUnbounded<UsageRecord>(new UnboundedChannelOptions { SingleReader = true });

    public void Record(UsageRecord record)
    {
        if (!_pending.Writer.TryWrite(record))
        {
            ModelGatewayLog.UsageDropped(logger, record.Id);
        }
    }

    /// <summary>The workspace's usage rows from <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive), oldest first.</summary>
    public async Task<List<UsageRecord>> ListAsync(string workspaceId, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        var query = new EntityQuery
        {
            PartitionKey = workspaceId,
            RowKeyFrom = from is { } f ? RowPrefix(f) : null,
            RowKeyTo = to is { } t ? RowPrefix(t) : null,
            Take = EntityQuery.MaxTake,
        };
        var rows = new List<UsageRecord>();
        await foreach (var row in _rows.QueryAllAsync(query, cancellationToken))
        {
            rows.Add(row.Value);
        }

        return rows;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _pending.Reader.WaitToReadAsync(stoppingToken))
            {
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
        while (_pending.Reader.TryRead(out var record))
        {
            try
            {
                await _rows.UpsertAsync(record.WorkspaceId, RowKey(record), record, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // A lost usage row must not stop the writer; the log says which call it was.
                ModelGatewayLog.UsageWriteFailed(logger, exception, record.Id);
            }
        }
    }

    private static string RowKey(UsageRecord record) => RowPrefix(record.CreatedAt) + "_" + record.Id;

    private static string RowPrefix(DateTimeOffset at) => at.UtcDateTime.ToString(RowTimeFormat, CultureInfo.InvariantCulture);
}
