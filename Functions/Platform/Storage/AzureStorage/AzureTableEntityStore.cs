using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
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
internal sealed class AzureTableEntityStore(TableRestClient tables, BlobRestClient blobs, ILogger<AzureTableEntityStore> logger) : IEntityStore
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

    public async Task<Entity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        PortArguments.Address(table, partitionKey, rowKey);
        // A spilled version's blob disappears only after a newer version is written: reading again finds that one.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var stored = await tables.GetAsync(table, partitionKey, rowKey, cancellationToken);
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
        var known = Known(table, partitionKey, rowKey);
        var (properties, blob) = await PropertiesAsync(table, partitionKey, rowKey, json, cancellationToken);
        var result = await tables.InsertAsync(table, partitionKey, rowKey, properties, cancellationToken);
        await AfterWriteAsync(table, partitionKey, rowKey, known, blob, result, cancellationToken);
        return result;
    }

    public async Task<WriteResult> UpsertAsync(string table, string partitionKey, string rowKey, string json, CancellationToken cancellationToken)
    {
        PortArguments.Write(table, partitionKey, rowKey, json);
        var known = Known(table, partitionKey, rowKey);
        var (properties, blob) = await PropertiesAsync(table, partitionKey, rowKey, json, cancellationToken);
        var result = await tables.PutAsync(table, partitionKey, rowKey, properties, ifMatch: null, cancellationToken);
        await AfterWriteAsync(table, partitionKey, rowKey, known, blob, result, cancellationToken);
        return result;
    }

    public async Task<WriteResult> ReplaceAsync(string table, string partitionKey, string rowKey, string json, string ifMatch, CancellationToken cancellationToken)
    {
        PortArguments.Write(table, partitionKey, rowKey, json);
        ArgumentException.ThrowIfNullOrEmpty(ifMatch);
        var known = Known(table, partitionKey, rowKey);
        var (properties, blob) = await PropertiesAsync(table, partitionKey, rowKey, json, cancellationToken);
        var result = await WithETagCheckAsync(
            table, partitionKey, rowKey, ifMatch, () => tables.PutAsync(table, partitionKey, rowKey, properties, ifMatch, cancellationToken), cancellationToken);
        await AfterWriteAsync(table, partitionKey, rowKey, known, blob, result, cancellationToken);
        return result;
    }

    public async Task<WriteResult> DeleteAsync(string table, string partitionKey, string rowKey, string? ifMatch, CancellationToken cancellationToken)
    {
        PortArguments.Address(table, partitionKey, rowKey);
        var known = Known(table, partitionKey, rowKey);
        var condition = ifMatch ?? AnyETag;
        var result = await WithETagCheckAsync(
            table, partitionKey, rowKey, condition, () => tables.DeleteAsync(table, partitionKey, rowKey, condition, cancellationToken), cancellationToken);
        await AfterWriteAsync(table, partitionKey, rowKey, known, null, result, cancellationToken);
        return result;
    }

    // Placeholder until the adapter moves onto Azure.Data.Tables (entity group transactions).
    public Task<BatchResult> SubmitBatchAsync(string table, string partitionKey, IReadOnlyList<BatchWrite> writes, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Batches are not implemented on the REST client.");

    public async Task<EntityPage> QueryAsync(string table, EntityQuery query, CancellationToken cancellationToken)
    {
        PortArguments.Query(table, query);
        var resume = query.ContinuationToken is { } token ? QueryToken.Decode(token) : null;
        if (resume is { IsAfter: true } && query.PartitionKey is not null && !string.Equals(resume.PartitionKey, query.PartitionKey, StringComparison.Ordinal))
        {
            throw new ArgumentException("The continuation token belongs to another partition.", nameof(query));
        }

        var filter = Filter(query, resume);
        (string, string)? next = resume is { IsAfter: false } ? (resume.PartitionKey, resume.RowKey) : null;

        // One entity beyond the page tells whether another page exists, so the last page carries no token. The
        // service may return short pages (even empty ones) with a continuation, so this follows them for a while.
        var found = new List<TableEntity>(Math.Min(query.Take + 1, 128));
        for (var trip = 0; trip < MaxRoundTripsPerPage && found.Count <= query.Take; trip++)
        {
            var page = await tables.QueryAsync(table, filter, Math.Min(EntityQuery.MaxTake, query.Take + 1 - found.Count), next, cancellationToken);
            // The service's order and this port's (ordinal) may differ beyond ASCII, so a prefix is rechecked here.
            found.AddRange(query.RowKeyPrefix is { } prefix ? page.Entities.Where(e => e.RowKey.StartsWith(prefix, StringComparison.Ordinal)) : page.Entities);
            next = page.Next;
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
        else if (next is { } more)
        {
            continuation = found.Count > 0 ? QueryToken.Following(found[^1].PartitionKey, found[^1].RowKey) : QueryToken.Continuing(more.Item1, more.Item2);
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
        await tables.QueryAsync("health", filter: null, top: 1, continuation: null, cancellationToken);

    private static string? Filter(EntityQuery query, QueryToken? resume)
    {
        var clauses = new List<string>();
        if (query.PartitionKey is not null)
        {
            clauses.Add($"PartitionKey eq {TableRestClient.Literal(query.PartitionKey)}");
        }

        var (from, to) = query.RowKeyPrefix is { } prefix ? (prefix, PrefixSuccessor(prefix)) : (query.RowKeyFrom, query.RowKeyTo);
        if (from is not null)
        {
            clauses.Add($"RowKey ge {TableRestClient.Literal(from)}");
        }

        if (to is not null)
        {
            clauses.Add($"RowKey lt {TableRestClient.Literal(to)}");
        }

        if (resume is { IsAfter: true })
        {
            var rowAfter = $"RowKey gt {TableRestClient.Literal(resume.RowKey)}";
            clauses.Add(query.PartitionKey is not null
                ? rowAfter
                : $"(PartitionKey gt {TableRestClient.Literal(resume.PartitionKey)} or (PartitionKey eq {TableRestClient.Literal(resume.PartitionKey)} and {rowAfter}))");
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
    /// Runs a conditional write. A caller's ETag the service cannot even parse (it was never one of its ETags) is
    /// answered 400; the port's answer is then NotFound or PreconditionFailed, whichever holds.
    /// </summary>
    private async Task<WriteResult> WithETagCheckAsync(
        string table, string partitionKey, string rowKey, string ifMatch, Func<Task<WriteResult>> write, CancellationToken cancellationToken)
    {
        try
        {
            return await write();
        }
        catch (StorageRequestException e) when (e.Status == System.Net.HttpStatusCode.BadRequest && ifMatch != AnyETag)
        {
            var exists = await tables.GetAsync(table, partitionKey, rowKey, cancellationToken) is not null;
            return new WriteResult(exists ? WriteStatus.PreconditionFailed : WriteStatus.NotFound, null);
        }
    }

    /// <summary>The entity's properties; a document too large for one property is uploaded and referenced.</summary>
    private async Task<(Dictionary<string, string> Properties, string? Blob)> PropertiesAsync(
        string table, string partitionKey, string rowKey, string json, CancellationToken cancellationToken)
    {
        if (json.Length <= MaxInlineChars)
        {
            return (new Dictionary<string, string> { [JsonProperty] = json }, null);
        }

        var blob = $"{table}/{EntityHash(partitionKey, rowKey)}/{Guid.NewGuid():N}";
        await blobs.PutAsync(SpillContainer, blob, Encoding.UTF8.GetBytes(json), "application/json", overwrite: true, cancellationToken);
        return (new Dictionary<string, string> { [BlobProperty] = blob }, blob);
    }

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

    private async Task DeleteSpillAsync(string blob, CancellationToken cancellationToken)
    {
        try
        {
            await blobs.DeleteAsync(SpillContainer, blob, cancellationToken);
        }
        catch (Exception e) when (e is StorageRequestException or StorageUnavailableException)
        {
            // The write itself succeeded; a blob left behind only costs storage.
            AzureStorageLog.SpillCleanupFailed(logger, e, blob);
        }
    }

    /// <summary>The port's entity, or null when its spilled document is gone (a newer version replaced it).</summary>
    private async Task<Entity?> ToEntityAsync(string table, TableEntity stored, CancellationToken cancellationToken)
    {
        if (stored.Properties.TryGetValue(JsonProperty, out var json))
        {
            return new Entity(stored.PartitionKey, stored.RowKey, json, stored.ETag, stored.Timestamp);
        }

        if (!stored.Properties.TryGetValue(BlobProperty, out var blob))
        {
            throw new InvalidOperationException($"Entity {table}/{stored.PartitionKey}/{stored.RowKey} has neither a {JsonProperty} nor a {BlobProperty} property.");
        }

        Remember(Key(table, stored.PartitionKey, stored.RowKey), new SpillRef(stored.ETag, blob));
        if (await blobs.GetAsync(SpillContainer, blob, cancellationToken) is not { } download)
        {
            return null;
        }

        await using var content = download.Content;
        using var reader = new StreamReader(content, Encoding.UTF8);
        return new Entity(stored.PartitionKey, stored.RowKey, await reader.ReadToEndAsync(cancellationToken), stored.ETag, stored.Timestamp);
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
    private sealed record QueryToken(bool IsAfter, string PartitionKey, string RowKey)
    {
        public static string Following(string partitionKey, string rowKey) => Encode(new QueryToken(true, partitionKey, rowKey));

        public static string Continuing(string partitionKey, string rowKey) => Encode(new QueryToken(false, partitionKey, rowKey));

        public static QueryToken Decode(string token)
        {
            try
            {
                var parts = JsonSerializer.Deserialize<string[]>(Base64Url.DecodeFromChars(token));
                if (parts is [var kind and ("a" or "s"), var partitionKey, var rowKey])
                {
                    return new QueryToken(kind == "a", partitionKey, rowKey);
                }
            }
            catch (Exception e) when (e is FormatException or JsonException)
            {
                throw new ArgumentException("The continuation token is malformed.", "query", e);
            }

            throw new ArgumentException("The continuation token is malformed.", "query");
        }

        private static string Encode(QueryToken token) =>
            Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new[] { token.IsAfter ? "a" : "s", token.PartitionKey, token.RowKey }));
    }
}
