using System.Runtime.CompilerServices;
using System.Text.Json;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage;

internal sealed record Stored<T>(string PartitionKey, string RowKey, T Value, string ETag);

/// <summary>One logical table of typed JSON documents over the entity-store port.</summary>
internal sealed class EntityTable<T>(IEntityStore store, string table) where T : class
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string Name => table;

    public async Task<Stored<T>?> GetAsync(string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        var entity = await store.GetAsync(table, partitionKey, rowKey, cancellationToken);
        return entity is null ? null : ToStored(entity);
    }

    /// <summary>
    /// Reads an entity addressed by caller-supplied keys: a key no entity can have (it holds a character the store
    /// forbids) simply names nothing, so the caller gets <c>null</c> rather than an exception.
    /// </summary>
    public Task<Stored<T>?> FindAsync(string partitionKey, string rowKey, CancellationToken cancellationToken) =>
        StoreKeys.IsValidKey(partitionKey) && StoreKeys.IsValidKey(rowKey)
            ? GetAsync(partitionKey, rowKey, cancellationToken)
            : Task.FromResult<Stored<T>?>(null);

    public Task<WriteResult> InsertAsync(string partitionKey, string rowKey, T value, CancellationToken cancellationToken) =>
        store.InsertAsync(table, partitionKey, rowKey, Serialize(value), cancellationToken);

    public Task<WriteResult> UpsertAsync(string partitionKey, string rowKey, T value, CancellationToken cancellationToken) =>
        store.UpsertAsync(table, partitionKey, rowKey, Serialize(value), cancellationToken);

    public Task<WriteResult> ReplaceAsync(Stored<T> current, T value, CancellationToken cancellationToken) =>
        store.ReplaceAsync(table, current.PartitionKey, current.RowKey, Serialize(value), current.ETag, cancellationToken);

    public Task<WriteResult> DeleteAsync(string partitionKey, string rowKey, string? ifMatch, CancellationToken cancellationToken) =>
        store.DeleteAsync(table, partitionKey, rowKey, ifMatch, cancellationToken);

    /// <summary>
    /// Read-modify-write under optimistic concurrency: <paramref name="change"/> sees the current value and returns
    /// the new one (or null to leave it); a concurrent write makes it run again on the fresh value.
    /// </summary>
    public async Task<Stored<T>?> UpdateAsync(string partitionKey, string rowKey, Func<T, T?> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var current = await GetAsync(partitionKey, rowKey, cancellationToken);
            if (current is null || change(current.Value) is not { } updated)
            {
                return current;
            }

            var result = await ReplaceAsync(current, updated, cancellationToken);
            if (result.Succeeded)
            {
                return current with { Value = updated, ETag = result.ETag! };
            }

            if (result.Status == WriteStatus.NotFound)
            {
                return null;
            }
        }

        throw new InvalidOperationException($"Entity {table}/{partitionKey}/{rowKey} kept changing under ten attempts to update it.");
    }

    /// <summary>Every entity the query selects, following continuation tokens.</summary>
    public async IAsyncEnumerable<Stored<T>> QueryAllAsync(EntityQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var next = query;
        while (true)
        {
            var page = await store.QueryAsync(table, next, cancellationToken);
            foreach (var entity in page.Items)
            {
                yield return ToStored(entity);
            }

            if (page.ContinuationToken is null)
            {
                yield break;
            }

            next = next with { ContinuationToken = page.ContinuationToken };
        }
    }

    private static string Serialize(T value) => JsonSerializer.Serialize(value, Json);

    private static Stored<T> ToStored(Entity entity) =>
        new(entity.PartitionKey, entity.RowKey, JsonSerializer.Deserialize<T>(entity.Json, Json)!, entity.ETag);
}
