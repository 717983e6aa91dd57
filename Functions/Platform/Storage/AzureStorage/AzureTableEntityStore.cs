using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage.AzureStorage;

/// <summary>
/// <see cref="IEntityStore"/> on Azure Table Storage: one Azure table per logical table, the JSON document in a
/// string property. A document too large for one table property is written to a blob first and the entity holds
/// its name; readers follow it transparently.
/// </summary>
/// <remarks>
/// Each spilled version gets a blob of its own, so an entity never points at bytes another write is changing. A
/// superseded version's blob is deleted once a later write to the same entity has succeeded — when this process
/// knows that blob (it read or wrote that version, as the read-modify-write callers do); otherwise it is left
/// behind, which costs storage but never a reference to a missing blob.
/// </remarks>
internal sealed class AzureTableEntityStore(TableServiceClient tables, BlobServiceClient blobs, ILogger<AzureTableEntityStore> logger) : IEntityStore
{
    /// <summary>The container that holds documents too large for a table property.</summary>
    public const string SpillContainer = "entity-spill";

    /// <summary>A table string property holds 64 KiB of UTF-16: 32 Ki characters.</summary>
    public const int MaxInlineChars = 32 * 1024;

    private const string JsonProperty = "Json";
    private const string BlobProperty = "JsonBlob";
    private const string AnyETag = "*";

    // Enough to serve one page of round trips on a sparse filter without letting one call run unbounded.
    private const int MaxRoundTripsPerPage = 10;
    private const int MaxKnownSpills = 10_000;

    private readonly ConcurrentDictionary<string, SpillRef> _knownSpills = new(StringComparer.Ordinal);
    private readonly BlobContainerClient _spills = blobs.GetBlobContainerClient(SpillContainer);

    public async Task<Entity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        PortArguments.Address(table, partitionKey, rowKey);
        // A spilled version's blob disappears only after a newer version is written: reading again finds that one.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var stored = await ReadAsync(tables.GetTableClient(table), partitionKey, rowKey, cancellationToken);
            if (stored is null)
            {
                return null;
            }

            if (await ToEntityAsync(table, stored, cancellationToken) is { } entity)
            {
                return entity;
            }
        }

        throw new InvalidOperationException($"Entity {table}/{partitionKey}/{rowKey} kept changing while its spilled document was read.");
    }

    public async Task<WriteResult> InsertAsync(string table, string partitionKey, string rowKey, string json, CancellationToken cancellationToken)
    {
        PortArguments.Write(table, partitionKey, rowKey, json);
        var client = tables.GetTableClient(table);
        var known = Known(table, partitionKey, rowKey);
        var (entity, blob) = await ToStoredAsync(table, partitionKey, rowKey, json, cancellationToken);
        WriteResult result;
        try
        {
            var response = await StorageResources.CreatingTableAsync(client, () => client.AddEntityAsync(entity, cancellationToken), logger, cancellationToken);
            result = Written(response);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            result = new WriteResult(WriteStatus.Conflict, null);
        }

        await AfterWriteAsync(table, partitionKey, rowKey, known, blob, result, cancellationToken);
        return result;
    }

    public async Task<WriteResult> UpsertAsync(string table, string partitionKey, string rowKey, string json, CancellationToken cancellationToken)
    {
        PortArguments.Write(table, partitionKey, rowKey, json);
        var client = tables.GetTableClient(table);
        var known = Known(table, partitionKey, rowKey);
        var (entity, blob) = await ToStoredAsync(table, partitionKey, rowKey, json, cancellationToken);
        var response = await StorageResources.CreatingTableAsync(
            client, () => client.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken), logger, cancellationToken);
        var result = Written(response);
        await AfterWriteAsync(table, partitionKey, rowKey, known, blob, result, cancellationToken);
        return result;
    }

    public async Task<WriteResult> ReplaceAsync(string table, string partitionKey, string rowKey, string json, string ifMatch, CancellationToken cancellationToken)
    {
        PortArguments.Write(table, partitionKey, rowKey, json);
        ArgumentException.ThrowIfNullOrEmpty(ifMatch);
        var client = tables.GetTableClient(table);
        var known = Known(table, partitionKey, rowKey);
        var (entity, blob) = await ToStoredAsync(table, partitionKey, rowKey, json, cancellationToken);
        // Only an unconditional write may create the table: a conditional one on a missing table is simply NotFound.
        var result = await ConditionalAsync(
            client, partitionKey, rowKey, ifMatch, async () => Written(await client.UpdateEntityAsync(entity, new ETag(ifMatch), TableUpdateMode.Replace, cancellationToken)), cancellationToken);
        await AfterWriteAsync(table, partitionKey, rowKey, known, blob, result, cancellationToken);
        return result;
    }

    public async Task<WriteResult> DeleteAsync(string table, string partitionKey, string rowKey, string? ifMatch, CancellationToken cancellationToken)
    {
        PortArguments.Address(table, partitionKey, rowKey);
        var client = tables.GetTableClient(table);
        var known = Known(table, partitionKey, rowKey);
        var condition = ifMatch ?? AnyETag;
        var result = await ConditionalAsync(client, partitionKey, rowKey, condition, async () =>
        {
            // The SDK reports a delete that found nothing as a 404 response rather than an exception.
            var response = await client.DeleteEntityAsync(partitionKey, rowKey, new ETag(condition), cancellationToken);
            return new WriteResult(response.Status == 404 ? WriteStatus.NotFound : WriteStatus.Ok, null);
        }, cancellationToken);
        await AfterWriteAsync(table, partitionKey, rowKey, known, null, result, cancellationToken);
        return result;
    }

    public async Task<BatchResult> SubmitBatchAsync(string table, string partitionKey, IReadOnlyList<BatchWrite> writes, CancellationToken cancellationToken)
    {
        PortArguments.Batch(table, partitionKey, writes);
        var client = tables.GetTableClient(table);
        var known = writes.Select(w => Known(table, partitionKey, w.RowKey)).ToArray();
        var spilled = new string?[writes.Count];
        var actions = new List<TableTransactionAction>(writes.Count);
        try
        {
            for (var i = 0; i < writes.Count; i++)
            {
                var write = writes[i];
                if (write.Kind == BatchWriteKind.Delete)
                {
                    actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partitionKey, write.RowKey), new ETag(write.IfMatch ?? AnyETag)));
                    continue;
                }

                // Large documents go to their blobs before the transaction, as single writes do: the transaction then
                // holds only references, and a failed one leaves blobs that nothing refers to (deleted below).
                var (entity, blob) = await ToStoredAsync(table, partitionKey, write.RowKey, write.Json!, cancellationToken);
                spilled[i] = blob;
                actions.Add(write.Kind switch
                {
                    BatchWriteKind.Insert => new TableTransactionAction(TableTransactionActionType.Add, entity),
                    BatchWriteKind.Upsert => new TableTransactionAction(TableTransactionActionType.UpsertReplace, entity),
                    _ => new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, new ETag(write.IfMatch!)),
                });
            }
        }
        catch
        {
            await DeleteSpillsAsync(spilled, cancellationToken);
            throw;
        }

        // An exception here leaves the outcome unknown (the service may have applied the batch), so its blobs stay.
        var result = await TransactAsync(client, partitionKey, writes, actions, cancellationToken);
        for (var i = 0; i < writes.Count; i++)
        {
            var written = new WriteResult(result.Status, result.Succeeded ? result.ETags[i] : null);
            await AfterWriteAsync(table, partitionKey, writes[i].RowKey, known[i], spilled[i], written, cancellationToken);
        }

        return result;
    }

    public async Task<EntityPage> QueryAsync(string table, EntityQuery query, CancellationToken cancellationToken)
    {
        PortArguments.Query(table, query);
        var client = tables.GetTableClient(table);
        var resume = query.ContinuationToken is { } token ? QueryToken.Decode(token) : null;
        if (resume is { IsAfter: true } && query.PartitionKey is not null && !string.Equals(resume.PartitionKey, query.PartitionKey, StringComparison.Ordinal))
        {
            throw new ArgumentException("The continuation token belongs to another partition.", nameof(query));
        }

        var filter = Filter(query, resume);
        var next = resume is { IsAfter: false } ? resume.ServiceToken : null;

        // One entity beyond the page tells whether another page exists, so the last page carries no token. The
        // service may return short pages (even empty ones) with a continuation, so this follows them for a while.
        var found = new List<TableEntity>(Math.Min(query.Take + 1, 128));
        for (var trip = 0; trip < MaxRoundTripsPerPage && found.Count <= query.Take; trip++)
        {
            var (entities, following) = await QueryPageAsync(client, filter, Math.Min(EntityQuery.MaxTake, query.Take + 1 - found.Count), next, cancellationToken);
            // The service's order and this port's (ordinal) may differ beyond ASCII, so a prefix is rechecked here.
            found.AddRange(query.RowKeyPrefix is { } prefix ? entities.Where(e => e.RowKey.StartsWith(prefix, StringComparison.Ordinal)) : entities);
            next = following;
            if (next is null)
            {
                break;
            }
        }

        string? continuation = null;
        if (found.Count > query.Take)
        {
            found.RemoveRange(query.Take, found.Count - query.Take);
            continuation = QueryToken.Following(found[^1].PartitionKey, found[^1].RowKey);
        }
        else if (next is not null)
        {
            continuation = found.Count > 0 ? QueryToken.Following(found[^1].PartitionKey, found[^1].RowKey) : QueryToken.Continuing(next);
        }

        var items = new List<Entity>(found.Count);
        foreach (var stored in found)
        {
            if (await ToEntityAsync(table, stored, cancellationToken) is { } entity)
            {
                items.Add(entity);
            }
            else if (await GetAsync(table, stored.PartitionKey, stored.RowKey, cancellationToken) is { } current)
            {
                // Rewritten since the query read it: report the version that replaced it.
                items.Add(current);
            }
        }

        return new EntityPage(items, continuation);
    }

    public async Task PingAsync(CancellationToken cancellationToken) =>
        await QueryPageAsync(tables.GetTableClient("health"), filter: null, top: 1, continuation: null, cancellationToken);

    private static async Task<TableEntity?> ReadAsync(TableClient client, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        try
        {
            var response = await client.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken);
            return response.HasValue ? response.Value : null;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // The table does not exist yet.
            return null;
        }
    }

    /// <summary>One page of a query and the service's continuation, when it has more; a missing table has nothing.</summary>
    private static async Task<(IReadOnlyList<TableEntity> Entities, string? Next)> QueryPageAsync(
        TableClient client, string? filter, int top, string? continuation, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var page in client.QueryAsync<TableEntity>(filter, top, cancellationToken: cancellationToken).AsPages(continuation, top))
            {
                return (page.Values, page.ContinuationToken);
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }

        return ([], null);
    }

    private static string? Filter(EntityQuery query, QueryToken? resume)
    {
        var clauses = new List<string>();
        if (query.PartitionKey is not null)
        {
            clauses.Add(TableClient.CreateQueryFilter($"PartitionKey eq {query.PartitionKey}"));
        }

        var (from, to) = query.RowKeyPrefix is { } prefix ? (prefix, PrefixSuccessor(prefix)) : (query.RowKeyFrom, query.RowKeyTo);
        if (from is not null)
        {
            clauses.Add(TableClient.CreateQueryFilter($"RowKey ge {from}"));
        }

        if (to is not null)
        {
            clauses.Add(TableClient.CreateQueryFilter($"RowKey lt {to}"));
        }

        if (resume is { IsAfter: true })
        {
            var rowAfter = TableClient.CreateQueryFilter($"RowKey gt {resume.RowKey}");
            clauses.Add(query.PartitionKey is not null
                ? rowAfter
                : $"({TableClient.CreateQueryFilter($"PartitionKey gt {resume.PartitionKey}")} or ({TableClient.CreateQueryFilter($"PartitionKey eq {resume.PartitionKey}")} and {rowAfter}))");
        }

        return clauses.Count == 0 ? null : string.Join(" and ", clauses);
    }

    /// <summary>The smallest UTF-16 string above every string starting with <paramref name="prefix"/>, or null when none exists.</summary>
    private static string? PrefixSuccessor(string prefix)
    {
        var end = prefix.Length;
        while (end > 0 && prefix[end - 1] == char.MaxValue)
        {
            end--;
        }

        return end == 0 ? null : string.Concat(prefix.AsSpan(0, end - 1), ((char)(prefix[end - 1] + 1)).ToString());
    }

    /// <summary>
    /// Runs a conditional write: NotFound when the entity (or its table) is missing, PreconditionFailed when the ETag
    /// differs. A caller's ETag the service cannot even parse (it was never one of its ETags) is answered 400; the
    /// port's answer is then NotFound or PreconditionFailed, whichever holds.
    /// </summary>
    private static async Task<WriteResult> ConditionalAsync(
        TableClient client, string partitionKey, string rowKey, string ifMatch, Func<Task<WriteResult>> write, CancellationToken cancellationToken)
    {
        try
        {
            return await write();
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return new WriteResult(e.Status == 404 ? WriteStatus.NotFound : WriteStatus.PreconditionFailed, null);
        }
        catch (RequestFailedException e) when (e.Status == 400 && ifMatch != AnyETag)
        {
            return new WriteResult(await ExistsAsync(client, partitionKey, rowKey, cancellationToken) ? WriteStatus.PreconditionFailed : WriteStatus.NotFound, null);
        }
    }

    private static async Task<bool> ExistsAsync(TableClient client, string partitionKey, string rowKey, CancellationToken cancellationToken) =>
        await ReadAsync(client, partitionKey, rowKey, cancellationToken) is not null;

    /// <summary>
    /// Submits the batch as one entity group transaction and maps the write the service names as failed to the
    /// port's outcome. A missing table fails the first replace or delete (nothing is there to change); a batch of
    /// inserts and upserts creates it and runs once more.
    /// </summary>
    private async Task<BatchResult> TransactAsync(
        TableClient client, string partitionKey, IReadOnlyList<BatchWrite> writes, List<TableTransactionAction> actions, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var response = await client.SubmitTransactionAsync(actions, cancellationToken);
                return new BatchResult(
                    WriteStatus.Ok,
                    null,
                    [.. response.Value.Select((r, i) => writes[i].Kind == BatchWriteKind.Delete ? null : r.Headers.ETag?.ToString())]);
            }
            catch (TableTransactionFailedException e) when (StorageResources.IsMissingTable(e))
            {
                var firstChange = writes.ToList().FindIndex(w => w.Kind is BatchWriteKind.Replace or BatchWriteKind.Delete);
                if (firstChange >= 0)
                {
                    return new BatchResult(WriteStatus.NotFound, firstChange, []);
                }

                if (attempt > 0)
                {
                    throw;
                }

                await StorageResources.CreateTableAsync(client, logger, cancellationToken);
            }
            catch (TableTransactionFailedException e) when (FailedWrite(e, writes) is { } index)
            {
                var status = e.Status switch
                {
                    409 => WriteStatus.Conflict,
                    404 => WriteStatus.NotFound,
                    412 => WriteStatus.PreconditionFailed,
                    // 400: an ETag the service cannot parse, as with single writes.
                    _ => await ExistsAsync(client, partitionKey, writes[index].RowKey, cancellationToken) ? WriteStatus.PreconditionFailed : WriteStatus.NotFound,
                };
                return new BatchResult(status, index, []);
            }
        }
    }

    /// <summary>The index of the write whose condition failed the batch, or null when the failure is not one the port answers.</summary>
    private static int? FailedWrite(TableTransactionFailedException e, IReadOnlyList<BatchWrite> writes) =>
        e.FailedTransactionActionIndex is { } index && index >= 0 && index < writes.Count
        && (e.Status is 409 or 404 or 412 || (e.Status == 400 && writes[index].IfMatch is { } ifMatch && ifMatch != AnyETag))
            ? index
            : null;

    /// <summary>The entity to store; a document too large for one property is uploaded and referenced.</summary>
    private async Task<(TableEntity Entity, string? Blob)> ToStoredAsync(string table, string partitionKey, string rowKey, string json, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(partitionKey, rowKey);
        if (json.Length <= MaxInlineChars)
        {
            entity[JsonProperty] = json;
            return (entity, null);
        }

        var blob = $"{table}/{EntityHash(partitionKey, rowKey)}/{Guid.NewGuid():N}";
        var upload = new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" } };
        await StorageResources.CreatingContainerAsync(
            _spills, () => _spills.GetBlobClient(blob).UploadAsync(BinaryData.FromString(json), upload, cancellationToken), logger, cancellationToken);
        entity[BlobProperty] = blob;
        return (entity, blob);
    }

    private static WriteResult Written(Response response) => new(WriteStatus.Ok, response.Headers.ETag?.ToString());

    private async Task AfterWriteAsync(
        string table, string partitionKey, string rowKey, SpillRef? known, string? written, WriteResult result, CancellationToken cancellationToken)
    {
        var key = Key(table, partitionKey, rowKey);
        if (result.Succeeded)
        {
            // The version 'known' describes existed before this write began; the write replaced it or something newer.
            if (known is not null && known.Blob != written)
            {
                await DeleteSpillAsync(known.Blob, cancellationToken);
            }

            if (written is not null && result.ETag is not null)
            {
                Remember(key, new SpillRef(result.ETag, written));
            }
            else
            {
                _knownSpills.TryRemove(key, out _);
            }
        }
        else if (written is not null)
        {
            // The write definitely did not happen, so nothing refers to the blob uploaded for it.
            await DeleteSpillAsync(written, cancellationToken);
        }
    }

    private async Task DeleteSpillsAsync(IEnumerable<string?> spilled, CancellationToken cancellationToken)
    {
        foreach (var blob in spilled.OfType<string>())
        {
            await DeleteSpillAsync(blob, cancellationToken);
        }
    }

    private async Task DeleteSpillAsync(string blob, CancellationToken cancellationToken)
    {
        try
        {
            await _spills.GetBlobClient(blob).DeleteIfExistsAsync(cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is RequestFailedException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The write itself is decided; a blob left behind only costs storage.
            AzureStorageLog.SpillCleanupFailed(logger, e, blob);
        }
    }

    /// <summary>The port's entity, or null when its spilled document is gone (a newer version replaced it).</summary>
    private async Task<Entity?> ToEntityAsync(string table, TableEntity stored, CancellationToken cancellationToken)
    {
        var etag = stored.ETag.ToString();
        var timestamp = stored.Timestamp ?? DateTimeOffset.MinValue;
        if (stored.GetString(JsonProperty) is { } json)
        {
            return new Entity(stored.PartitionKey, stored.RowKey, json, etag, timestamp);
        }

        if (stored.GetString(BlobProperty) is not { } blob)
        {
            throw new InvalidOperationException($"Entity {table}/{stored.PartitionKey}/{stored.RowKey} has neither a {JsonProperty} nor a {BlobProperty} property.");
        }

        Remember(Key(table, stored.PartitionKey, stored.RowKey), new SpillRef(etag, blob));
        try
        {
            var download = await _spills.GetBlobClient(blob).DownloadContentAsync(cancellationToken);
            return new Entity(stored.PartitionKey, stored.RowKey, download.Value.Content.ToString(), etag, timestamp);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private SpillRef? Known(string table, string partitionKey, string rowKey) =>
        _knownSpills.TryGetValue(Key(table, partitionKey, rowKey), out var known) ? known : null;

    private void Remember(string key, SpillRef spill)
    {
        // A bounded memory of spills: forgetting one only means its blob may be left behind.
        if (_knownSpills.Count >= MaxKnownSpills)
        {
            _knownSpills.Clear();
        }

        _knownSpills[key] = spill;
    }

    // Keys cannot hold control characters, so '\0' separates the parts unambiguously.
    private static string Key(string table, string partitionKey, string rowKey) => $"{table}\0{partitionKey}\0{rowKey}";

    private static string EntityHash(string partitionKey, string rowKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(partitionKey + "\0" + rowKey)))[..32];

    private sealed record SpillRef(string ETag, string Blob);

    /// <summary>
    /// A continuation: either after the last entity returned (the next page is filtered to what follows it), or
    /// the service's own continuation when a page came back empty.
    /// </summary>
    private sealed record QueryToken(bool IsAfter, string PartitionKey, string RowKey, string? ServiceToken)
    {
        public static string Following(string partitionKey, string rowKey) => Encode(["a", partitionKey, rowKey]);

        public static string Continuing(string serviceToken) => Encode(["s", serviceToken]);

        public static QueryToken Decode(string token)
        {
            try
            {
                switch (JsonSerializer.Deserialize<string[]>(Base64Url.DecodeFromChars(token)))
                {
                    case ["a", var partitionKey, var rowKey]:
                        return new QueryToken(true, partitionKey, rowKey, null);
                    case ["s", var serviceToken]:
                        return new QueryToken(false, "", "", serviceToken);
                }
            }
            catch (Exception e) when (e is FormatException or JsonException)
            {
                throw new ArgumentException("The continuation token is malformed.", "query", e);
            }

            throw new ArgumentException("The continuation token is malformed.", "query");
        }

        private static string Encode(string[] parts) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(parts));
    }
}
