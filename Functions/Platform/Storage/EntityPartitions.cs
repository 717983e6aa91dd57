using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage;

/// <summary>Whole-partition work over the entity store, for partitions that belong to one thing and go with it.</summary>
internal static class EntityPartitions
{
    /// <summary>
    /// Deletes every row of a partition: items, the index rows that list them and the index's marker, so nothing of
    /// the owner is left to list or to index again. One batch per page, never the whole partition in memory. Returns
    /// how many item rows (below the index's reserved range) this call deleted.
    /// </summary>
    public static async Task<int> DeleteAllAsync(IEntityStore store, string table, string partitionKey, CancellationToken cancellationToken)
    {
        var count = 0;
        var query = new EntityQuery { PartitionKey = partitionKey, Take = EntityBatch.MaxWrites };
        while (true)
        {
            // The rows read are gone after each round, so every round reads from the start of the partition.
            var page = await store.QueryAsync(table, query, cancellationToken);
            if (page.Items.Count == 0)
            {
                return count;
            }

            // A concurrent writer moved or deleted one of the rows first: the batch fails and the rows go one by one.
            var batch = await store.SubmitBatchAsync(table, partitionKey, [.. page.Items.Select(e => BatchWrite.Delete(e.RowKey))], cancellationToken);
            foreach (var entity in page.Items)
            {
                var gone = batch.Succeeded || (await store.DeleteAsync(table, partitionKey, entity.RowKey, null, cancellationToken)).Succeeded;
                count += gone && !entity.RowKey.StartsWith(ListIndex<object>.Reserved, StringComparison.Ordinal) ? 1 : 0;
            }
        }
    }
}
