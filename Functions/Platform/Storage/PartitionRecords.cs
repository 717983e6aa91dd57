using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage;

/// <summary>
/// A small set of records per partition (a workspace's webhooks, its stored credentials), few enough to list whole,
/// each addressed by an id a caller supplies: an id no row can have names nothing (null, false), never an exception.
/// </summary>
internal class PartitionRecords<T>(IEntityStore store, string table, Func<T, string> idOf) where T : class
{
    private readonly EntityTable<T> _records = new(store, table);

    public async Task<IReadOnlyList<T>> ListAsync(string partitionKey, CancellationToken cancellationToken)
    {
        var all = new List<T>();
        await foreach (var row in _records.QueryAllAsync(new EntityQuery { PartitionKey = partitionKey }, cancellationToken))
        {
            all.Add(row.Value);
        }

        return all;
    }

    public async Task<T?> GetAsync(string partitionKey, string id, CancellationToken cancellationToken) =>
        (await _records.FindAsync(partitionKey, id, cancellationToken))?.Value;

    public Task<WriteResult> InsertAsync(string partitionKey, T record, CancellationToken cancellationToken) =>
        _records.InsertAsync(partitionKey, idOf(record), record, cancellationToken);

    /// <summary>Applies <paramref name="change"/> (null: leave the record as it is); null when there is no such record.</summary>
    public async Task<T?> UpdateAsync(string partitionKey, string id, Func<T, T?> change, CancellationToken cancellationToken) =>
        StoreKeys.IsValidKey(id) ? (await _records.UpdateAsync(partitionKey, id, change, cancellationToken))?.Value : null;

    public async Task<bool> DeleteAsync(string partitionKey, string id, CancellationToken cancellationToken) =>
        StoreKeys.IsValidKey(id) && (await _records.DeleteAsync(partitionKey, id, null, cancellationToken)).Succeeded;
}
