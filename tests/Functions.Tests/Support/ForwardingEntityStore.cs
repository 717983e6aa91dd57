using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Tests.Support;

/// <summary>An entity store that hands every call to <paramref name="inner"/>: tests override the calls they watch or change.</summary>
internal abstract class ForwardingEntityStore(IEntityStore inner) : IEntityStore
{
    public virtual Task<Entity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken) =>
        inner.GetAsync(table, partitionKey, rowKey, cancellationToken);

    public virtual Task<WriteResult> InsertAsync(string table, string partitionKey, string rowKey, string json, CancellationToken cancellationToken) =>
        inner.InsertAsync(table, partitionKey, rowKey, json, cancellationToken);

    public virtual Task<WriteResult> UpsertAsync(string table, string partitionKey, string rowKey, string json, CancellationToken cancellationToken) =>
        inner.UpsertAsync(table, partitionKey, rowKey, json, cancellationToken);

    public virtual Task<WriteResult> ReplaceAsync(string table, string partitionKey, string rowKey, string json, string ifMatch, CancellationToken cancellationToken) =>
        inner.ReplaceAsync(table, partitionKey, rowKey, json, ifMatch, cancellationToken);

    public virtual Task<WriteResult> DeleteAsync(string table, string partitionKey, string rowKey, string? ifMatch, CancellationToken cancellationToken) =>
        inner.DeleteAsync(table, partitionKey, rowKey, ifMatch, cancellationToken);

    public virtual Task<EntityPage> QueryAsync(string table, EntityQuery query, CancellationToken cancellationToken) =>
        inner.QueryAsync(table, query, cancellationToken);

    public virtual Task<BatchResult> SubmitBatchAsync(string table, string partitionKey, IReadOnlyList<BatchWrite> writes, CancellationToken cancellationToken) =>
        inner.SubmitBatchAsync(table, partitionKey, writes, cancellationToken);

    public virtual Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);
}
