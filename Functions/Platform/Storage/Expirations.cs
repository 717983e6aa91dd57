using System.Globalization;
using System.Text.Json;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage;

/// <summary>A record that stops mattering after a moment: tokens, idempotency records.</summary>
internal interface IExpiring
{
    DateTimeOffset ExpiresAt { get; }
}

/// <summary>
/// An index of records to delete when they expire: one row per record, ordered by expiry, so the cleanup timer
/// reads only what is due instead of scanning every table. A record whose expiry moved later is left alone.
/// </summary>
internal sealed class Expirations(IEntityStore store, TimeProvider time)
{
    private const string Table = "expirations";
    private const string Partition = "due";

    public Task ScheduleAsync(string table, string partitionKey, string rowKey, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var rowKey2 = expiresAt.ToUnixTimeMilliseconds().ToString("D15", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N");
        var target = JsonSerializer.Serialize(new Target(table, partitionKey, rowKey), EntityTable<Target>.Json);
        return store.InsertAsync(Table, Partition, rowKey2, target, cancellationToken);
    }

    /// <summary>Deletes what is due, at most <paramref name="max"/> index rows per call; returns the number of records deleted.</summary>
    public async Task<int> DeleteDueAsync(int max, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var page = await store.QueryAsync(Table, new EntityQuery
        {
            PartitionKey = Partition,
            RowKeyTo = now.ToUnixTimeMilliseconds().ToString("D15", CultureInfo.InvariantCulture),
            Take = Math.Clamp(max, 1, EntityQuery.MaxTake),
        }, cancellationToken);

        var deleted = 0;
        foreach (var row in page.Items)
        {
            var target = JsonSerializer.Deserialize<Target>(row.Json, EntityTable<Target>.Json)!;
            var entity = await store.GetAsync(target.Table, target.PartitionKey, target.RowKey, cancellationToken);
            if (entity is not null && ExpiresAt(entity.Json) is { } expiresAt && expiresAt <= now)
            {
                var result = await store.DeleteAsync(target.Table, target.PartitionKey, target.RowKey, entity.ETag, cancellationToken);
                deleted += result.Succeeded ? 1 : 0;
            }

            await store.DeleteAsync(Table, row.PartitionKey, row.RowKey, row.ETag, cancellationToken);
        }

        return deleted;
    }

    private static DateTimeOffset? ExpiresAt(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.TryGetProperty("expiresAt", out var value) && value.TryGetDateTimeOffset(out var at) ? at : null;
    }

    private sealed record Target(string Table, string PartitionKey, string RowKey);
}
