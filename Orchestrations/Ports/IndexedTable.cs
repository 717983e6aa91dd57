using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Serverless.Orchestrations.Ports;

/// <summary>An item as stored, with the ETag of its row.</summary>
/// <param name="Value">The item.</param>
/// <param name="ETag">Its row's ETag.</param>
public sealed record StoredItem<T>(T Value, string ETag);

/// <summary>
/// A page request against an <see cref="IndexedTable{T}"/>: one order and direction, at most one indexed equality
/// filter, an optional range of sort keys, and checks the store cannot evaluate (applied while scanning, bounded by
/// <see cref="ScanLimit"/>).
/// </summary>
public sealed record IndexQuery<T>
{
    /// <summary>The order (a key of <see cref="ListIndex{T}.Orders"/>).</summary>
    public required string Order { get; init; }

    /// <summary>Newest/largest first.</summary>
    public bool Descending { get; init; }

    /// <summary>Items per page.</summary>
    public int Limit { get; init; } = 20;

    /// <summary>An indexed equality filter (a key of <see cref="ListIndex{T}.Filters"/>) and its value.</summary>
    public (string Name, string Value)? Filter { get; init; }

    /// <summary>Only sort keys ≥ this (ordinal).</summary>
    public string? From { get; init; }

    /// <summary>Only sort keys &lt; this (ordinal).</summary>
    public string? To { get; init; }

    /// <summary>The <see cref="IndexPage{T}.Next"/> of the previous page.</summary>
    public string? After { get; init; }

    /// <summary>Maps a listed item to what the page shows (e.g. its live state), or null to leave it out.</summary>
    public Func<T, CancellationToken, ValueTask<T?>>? Resolve { get; init; }

    /// <summary>A check the index cannot make (search text, a second filter).</summary>
    public Func<T, bool>? Where { get; init; }

    /// <summary>Most index rows one page reads when <see cref="Where"/> or <see cref="Resolve"/> drop items.</summary>
    public int ScanLimit { get; init; } = 2000;
}

/// <summary>A page of an index scan.</summary>
/// <param name="Items">The items, in list order.</param>
/// <param name="Next">Pass as <see cref="IndexQuery{T}.After"/> to read on; null when the list is complete.</param>
public sealed record IndexPage<T>(IReadOnlyList<T> Items, string? Next);

/// <summary>
/// Items of <typeparamref name="T"/> in partitions of one table, each partition listable in every order of its
/// <see cref="ListIndex{T}"/>. An item's row and its index rows share the partition and change in one atomic batch,
/// so a list never shows a state that was not stored; a page costs one range scan whatever the partition holds.
/// </summary>
/// <remarks>
/// Partitions written before the index existed are indexed on their first list or write (<see cref="EnsureIndexedAsync"/>):
/// every item is rewritten under its ETag with its index rows, then a marker row records the index version. A new
/// partition gets its marker before its first item, so its items are never rewritten.
/// </remarks>
public sealed class IndexedTable<T> where T : class
{
    private const string MarkerRow = "~iv";
    private const string Reference = "null";
    private const int MaxInlineChars = 8 * 1024;
    private const int MaxKnownPartitions = 100_000;

    private readonly IEntityStore _store;
    private readonly string _table;
    private readonly JsonSerializerOptions _json;
    private readonly Func<Entity, T?>? _legacy;
    private readonly ConcurrentDictionary<string, byte> _indexed = new(StringComparer.Ordinal);

    /// <summary>Creates the table.</summary>
    /// <param name="store">The entity store.</param>
    /// <param name="table">The table's name.</param>
    /// <param name="index">How its partitions are listed.</param>
    /// <param name="json">How items are serialized.</param>
    /// <param name="legacy">Reads a row written before the index existed whose row key is not the item's id (it is moved under its id); null when every row is keyed by id.</param>
    public IndexedTable(IEntityStore store, string table, ListIndex<T> index, JsonSerializerOptions json, Func<Entity, T?>? legacy = null)
    {
        _store = store;
        _table = table;
        Index = index;
        _json = json;
        _legacy = legacy;
    }

    /// <summary>The index definition.</summary>
    public ListIndex<T> Index { get; }

    /// <summary>The table's name.</summary>
    public string Name => _table;

    /// <summary>Reads an item, or null; a key no item can have names nothing.</summary>
    public async Task<StoredItem<T>?> GetAsync(string partitionKey, string id, CancellationToken cancellationToken)
    {
        if (!StoreKeys.IsValidKey(partitionKey) || !StoreKeys.IsValidKey(id) || id.StartsWith(ListIndex<T>.Reserved, StringComparison.Ordinal))
        {
            return null;
        }

        var entity = await _store.GetAsync(_table, partitionKey, id, cancellationToken);
        return entity is null ? null : new StoredItem<T>(Read(entity.Json), entity.ETag);
    }

    /// <summary>Inserts a new item with its index rows; Conflict when its id exists.</summary>
    public async Task<WriteResult> InsertAsync(string partitionKey, T item, CancellationToken cancellationToken)
    {
        await EnsureIndexedAsync(partitionKey, cancellationToken);
        var json = Write(item);
        var writes = new List<BatchWrite> { BatchWrite.Insert(Index.Id(item), json) };
        writes.AddRange(IndexRows(item, json));
        var result = await _store.SubmitBatchAsync(_table, partitionKey, writes, cancellationToken);
        return new WriteResult(result.Status, result.Succeeded ? result.ETags[0] : null);
    }

    /// <summary>
    /// Writes items that never change once written (an append-only log) with their index rows, as many whole items per
    /// batch as fit, so a bulk write costs a few batches rather than one per item. Each item lands atomically with its
    /// rows. Rows are upserted: writing an item again (a retry) is harmless while it is unchanged; its old index rows are
    /// not looked for. Ids must be distinct.
    /// </summary>
    /// <exception cref="InvalidOperationException">A batch was refused.</exception>
    public async Task AppendAsync(string partitionKey, IEnumerable<T> items, CancellationToken cancellationToken)
    {
        var writes = new List<BatchWrite>(EntityBatch.MaxWrites);
        foreach (var item in items)
        {
            var json = Write(item);
            var rows = new List<BatchWrite> { BatchWrite.Upsert(Index.Id(item), json) };
            rows.AddRange(IndexRows(item, json));
            if (writes.Count + rows.Count > EntityBatch.MaxWrites)
            {
                await SubmitAppendAsync(partitionKey, writes, cancellationToken);
                writes.Clear();
            }

            writes.AddRange(rows);
        }

        if (writes.Count > 0)
        {
            await SubmitAppendAsync(partitionKey, writes, cancellationToken);
        }
    }

    /// <summary>
    /// Replaces <paramref name="current"/> (as read, ETag included) with <paramref name="item"/> and moves its index
    /// rows; PreconditionFailed when it changed since it was read, NotFound when it is gone.
    /// </summary>
    public async Task<WriteResult> ReplaceAsync(string partitionKey, StoredItem<T> current, T item, CancellationToken cancellationToken)
    {
        var id = Index.Id(item);
        if (!string.Equals(id, Index.Id(current.Value), StringComparison.Ordinal))
        {
            throw new ArgumentException("A replace keeps the item's id.", nameof(item));
        }

        await EnsureIndexedAsync(partitionKey, cancellationToken);
        var json = Write(item);
        var upserts = IndexRows(item, json).ToList();
        var keep = upserts.Select(w => w.RowKey).ToHashSet(StringComparer.Ordinal);
        var stale = Index.RowKeys(current.Value).Where(k => !keep.Contains(k)).ToList();
        var result = await SubmitWithStaleRowsAsync(partitionKey, BatchWrite.Replace(id, json, current.ETag), stale, upserts, cancellationToken);
        return new WriteResult(result.Status, result.Succeeded ? result.ETags[0] : null);
    }

    /// <summary>Inserts or replaces an item, whatever is stored under its id.</summary>
    public async Task<WriteResult> UpsertAsync(string partitionKey, T item, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var current = await GetAsync(partitionKey, Index.Id(item), cancellationToken);
            var result = current is null
                ? await InsertAsync(partitionKey, item, cancellationToken)
                : await ReplaceAsync(partitionKey, current, item, cancellationToken);
            if (result.Status is not (WriteStatus.Conflict or WriteStatus.PreconditionFailed or WriteStatus.NotFound))
            {
                return result;
            }
        }

        throw Contention(partitionKey, Index.Id(item));
    }

    /// <summary>
    /// Read-modify-write under optimistic concurrency: <paramref name="change"/> sees the current item and returns the
    /// new one (or null to leave it); a concurrent write makes it run again on the fresh item. Null when missing.
    /// </summary>
    public async Task<StoredItem<T>?> UpdateAsync(string partitionKey, string id, Func<T, T?> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var current = await GetAsync(partitionKey, id, cancellationToken);
            if (current is null || change(current.Value) is not { } updated)
            {
                return current;
            }

            var result = await ReplaceAsync(partitionKey, current, updated, cancellationToken);
            if (result.Succeeded)
            {
                return new StoredItem<T>(updated, result.ETag!);
            }

            if (result.Status == WriteStatus.NotFound)
            {
                return null;
            }
        }

        throw Contention(partitionKey, id);
    }

    /// <summary>Deletes an item and its index rows (conditionally when <paramref name="ifMatch"/> is given); NotFound when missing.</summary>
    public async Task<WriteResult> DeleteAsync(string partitionKey, string id, string? ifMatch, CancellationToken cancellationToken)
    {
        await EnsureIndexedAsync(partitionKey, cancellationToken);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var current = await GetAsync(partitionKey, id, cancellationToken);
            if (current is null)
            {
                return new WriteResult(WriteStatus.NotFound, null);
            }

            if (ifMatch is not null && ifMatch != "*" && ifMatch != current.ETag)
            {
                return new WriteResult(WriteStatus.PreconditionFailed, null);
            }

            var result = await SubmitWithStaleRowsAsync(partitionKey, BatchWrite.Delete(id, current.ETag), [.. Index.RowKeys(current.Value)], [], cancellationToken);
            if (result.Status != WriteStatus.PreconditionFailed)
            {
                return new WriteResult(result.Status, null);
            }
        }

        throw Contention(partitionKey, id);
    }

    /// <summary>Every item of the partition, in id order (for whole-partition work: a workspace's deletion, exports).</summary>
    public async IAsyncEnumerable<StoredItem<T>> ScanAsync(string partitionKey, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureIndexedAsync(partitionKey, cancellationToken);
        var query = new EntityQuery { PartitionKey = partitionKey, RowKeyTo = ListIndex<T>.Reserved, Take = EntityQuery.MaxTake };
        while (true)
        {
            var page = await _store.QueryAsync(_table, query, cancellationToken);
            foreach (var entity in page.Items)
            {
                yield return new StoredItem<T>(Read(entity.Json), entity.ETag);
            }

            if (page.ContinuationToken is null)
            {
                yield break;
            }

            query = query with { ContinuationToken = page.ContinuationToken };
        }
    }

    /// <summary>
    /// One page of a list. The scan reads at most <see cref="IndexQuery{T}.ScanLimit"/> index rows beyond the page
    /// when items are left out, and then ends the page early (possibly empty) with a <see cref="IndexPage{T}.Next"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The order or filter is not part of the index, or <c>After</c> is not a position of this list.</exception>
    public async Task<IndexPage<T>> ListAsync(string partitionKey, IndexQuery<T> query, CancellationToken cancellationToken)
    {
        if (!Index.Orders.ContainsKey(query.Order))
        {
            throw new ArgumentException($"'{query.Order}' is not an order of this list.", nameof(query));
        }

        if (query.Filter is { } f && !Index.Filters.ContainsKey(f.Name))
        {
            throw new ArgumentException($"'{f.Name}' is not a filter of this list.", nameof(query));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1, nameof(query));
        await EnsureIndexedAsync(partitionKey, cancellationToken);

        var prefix = ListIndex<T>.Prefix(query.Order, query.Descending, query.Filter?.Name, query.Filter?.Value);
        var (lower, upper) = query.Descending
            ? (query.To is { } to ? ListIndex<T>.Boundary(prefix, to, true) : prefix, query.From is { } from ? ListIndex<T>.Boundary(prefix, from, true) : ListIndex<T>.PrefixEnd(prefix))
            : (query.From is { } from2 ? ListIndex<T>.Boundary(prefix, from2, false) : prefix, query.To is { } to2 ? ListIndex<T>.Boundary(prefix, to2, false) : ListIndex<T>.PrefixEnd(prefix));
        if (query.After is { } after)
        {
            if (!after.StartsWith(prefix, StringComparison.Ordinal) || !StoreKeys.IsValidKey(after + " "))
            {
                throw new ArgumentException("The position does not belong to this list.", nameof(query));
            }

            // No legal key lies between a key and the key plus a space (control characters are not allowed).
            var next = after + " ";
            lower = string.CompareOrdinal(next, lower) > 0 ? next : lower;
        }

        var found = new List<(string RowKey, T Item)>(query.Limit + 1);
        if (string.CompareOrdinal(lower, upper) >= 0)
        {
            return new IndexPage<T>([], null);
        }

        var filterValue = query.Filter?.Value;
        var filterOf = query.Filter is { } named ? Index.Filters[named.Name] : null;
        var scan = new EntityQuery { PartitionKey = partitionKey, RowKeyFrom = lower, RowKeyTo = upper, Take = Math.Min(EntityQuery.MaxTake, query.Limit + 1) };
        var scanned = 0;
        string? last = null;
        while (true)
        {
            var page = await _store.QueryAsync(_table, scan, cancellationToken);
            foreach (var entity in page.Items)
            {
                scanned++;
                last = entity.RowKey;
                var item = entity.Json == Reference
                    ? (await GetAsync(partitionKey, IdOf(entity), cancellationToken))?.Value
                    : Read(entity.Json);
                if (item is null || (filterOf is not null && !string.Equals(filterOf(item), filterValue, StringComparison.Ordinal)))
                {
                    continue;
                }

                if (query.Resolve is { } resolve)
                {
                    item = await resolve(item, cancellationToken);
                }

                if (item is null || (query.Where is { } where && !where(item)))
                {
                    continue;
                }

                found.Add((entity.RowKey, item));
                if (found.Count > query.Limit)
                {
                    return new IndexPage<T>([.. found.Take(query.Limit).Select(x => x.Item)], found[query.Limit - 1].RowKey);
                }
            }

            if (page.ContinuationToken is null)
            {
                return new IndexPage<T>([.. found.Select(x => x.Item)], null);
            }

            if (scanned >= query.ScanLimit)
            {
                // A page of what the bounded scan found; the next one goes on from the last row read.
                return new IndexPage<T>([.. found.Select(x => x.Item)], last);
            }

            // Items are being left out: read ahead in larger pieces.
            scan = scan with
            {
                ContinuationToken = page.ContinuationToken,
                Take = Math.Min(Math.Min(EntityQuery.MaxTake, Math.Max(scan.Take * 2, 100)), query.ScanLimit - scanned),
            };
        }
    }

    /// <summary>
    /// Indexes a partition written before the index existed (or under another index version), once; later calls cost a
    /// lookup in memory. Safe beside concurrent writers: every item is rewritten under its ETag.
    /// </summary>
    public async Task EnsureIndexedAsync(string partitionKey, CancellationToken cancellationToken)
    {
        var known = partitionKey + "\n" + Index.Version.ToString(CultureInfo.InvariantCulture);
        if (_indexed.ContainsKey(known))
        {
            return;
        }

        var marker = await _store.GetAsync(_table, partitionKey, MarkerRow, cancellationToken);
        var version = marker is null ? (int?)null : JsonSerializer.Deserialize<MarkerDocument>(marker.Json, _json)?.Version;
        if (version != Index.Version)
        {
            if (version is not null)
            {
                await DropIndexRowsAsync(partitionKey, cancellationToken);
            }

            await BackfillAsync(partitionKey, cancellationToken);
            await _store.UpsertAsync(_table, partitionKey, MarkerRow, JsonSerializer.Serialize(new MarkerDocument(Index.Version), _json), cancellationToken);
        }

        if (_indexed.Count >= MaxKnownPartitions)
        {
            _indexed.Clear();
        }

        _indexed.TryAdd(known, 0);
    }

    private async Task BackfillAsync(string partitionKey, CancellationToken cancellationToken)
    {
        var query = new EntityQuery { PartitionKey = partitionKey, RowKeyTo = ListIndex<T>.Reserved, Take = EntityQuery.MaxTake };
        while (true)
        {
            var page = await _store.QueryAsync(_table, query, cancellationToken);
            foreach (var entity in page.Items)
            {
                if (TryReadLegacy(entity) is { } moved)
                {
                    // Moved under its id unless a newer write already put it there; either way the old row goes.
                    var json = Write(moved);
                    var writes = new List<BatchWrite> { BatchWrite.Delete(entity.RowKey, entity.ETag), BatchWrite.Insert(Index.Id(moved), json) };
                    writes.AddRange(IndexRows(moved, json));
                    if ((await _store.SubmitBatchAsync(_table, partitionKey, writes, cancellationToken)).Status == WriteStatus.Conflict)
                    {
                        await _store.DeleteAsync(_table, partitionKey, entity.RowKey, entity.ETag, cancellationToken);
                    }

                    continue;
                }

                // A concurrent writer (PreconditionFailed) wrote this item's rows itself.
                var item = Read(entity.Json);
                var rewrite = new List<BatchWrite> { BatchWrite.Replace(entity.RowKey, entity.Json, entity.ETag) };
                rewrite.AddRange(IndexRows(item, entity.Json));
                await _store.SubmitBatchAsync(_table, partitionKey, rewrite, cancellationToken);
            }

            if (page.ContinuationToken is null)
            {
                return;
            }

            query = query with { ContinuationToken = page.ContinuationToken };
        }
    }

    private async Task DropIndexRowsAsync(string partitionKey, CancellationToken cancellationToken)
    {
        var query = new EntityQuery { PartitionKey = partitionKey, RowKeyPrefix = "~ix|", Take = EntityBatch.MaxWrites };
        while (true)
        {
            var page = await _store.QueryAsync(_table, query, cancellationToken);
            if (page.Items.Count > 0)
            {
                await _store.SubmitBatchAsync(_table, partitionKey, [.. page.Items.Select(e => BatchWrite.Delete(e.RowKey))], cancellationToken);
            }

            if (page.ContinuationToken is null)
            {
                return;
            }

            // The rows just read are gone, so the scan starts over rather than resuming after them.
            query = query with { ContinuationToken = null };
        }
    }

    /// <summary>
    /// Submits the item's write with the deletion of its old index rows and the writing of its new ones. A row to
    /// delete may be missing (a partition not yet indexed): then the batch goes again without the missing rows.
    /// </summary>
    private async Task<BatchResult> SubmitWithStaleRowsAsync(
        string partitionKey, BatchWrite itemWrite, IReadOnlyList<string> stale, IReadOnlyList<BatchWrite> upserts, CancellationToken cancellationToken)
    {
        var deletes = stale.ToList();
        for (var attempt = 0; ; attempt++)
        {
            var writes = new List<BatchWrite>(1 + deletes.Count + upserts.Count) { itemWrite };
            writes.AddRange(deletes.Select(k => BatchWrite.Delete(k)));
            writes.AddRange(upserts);
            var result = await _store.SubmitBatchAsync(_table, partitionKey, writes, cancellationToken);
            if (result.Succeeded || result.FailedIndex is not { } failed || failed == 0 || failed > deletes.Count || attempt == 3)
            {
                return result;
            }

            var present = await Task.WhenAll(deletes.Select(async k => (Key: k, Entity: await _store.GetAsync(_table, partitionKey, k, cancellationToken))));
            deletes = [.. present.Where(p => p.Entity is not null).Select(p => p.Key)];
        }
    }

    private async Task SubmitAppendAsync(string partitionKey, IReadOnlyList<BatchWrite> writes, CancellationToken cancellationToken)
    {
        var result = await _store.SubmitBatchAsync(_table, partitionKey, writes, cancellationToken);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"Appending {writes.Count} rows to {_table}/{partitionKey} failed: {result.Status}.");
        }
    }

    private IEnumerable<BatchWrite> IndexRows(T item, string json)
    {
        var rowJson = json.Length <= MaxInlineChars ? json : Reference;
        return Index.RowKeys(item).Distinct(StringComparer.Ordinal).Select(k => BatchWrite.Upsert(k, rowJson));
    }

    private T? TryReadLegacy(Entity entity)
    {
        if (_legacy is null || _legacy(entity) is not { } item)
        {
            return null;
        }

        return string.Equals(Index.Id(item), entity.RowKey, StringComparison.Ordinal) ? null : item;
    }

    // The id is the last hex-encoded field of an index row key; a reference row is only written for large items.
    private static string IdOf(Entity row)
    {
        var key = row.RowKey;
        var descending = key.EndsWith('~');
        var body = key[..^1];
        var start = body.LastIndexOf(descending ? '~' : ' ') + 1;
        var hex = body[start..];
        var chars = new char[hex.Length / 4];
        for (var i = 0; i < chars.Length; i++)
        {
            var value = int.Parse(hex.AsSpan(i * 4, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            chars[i] = (char)(descending ? 0xFFFF - value : value);
        }

        return new string(chars);
    }

    private T Read(string json) => JsonSerializer.Deserialize<T>(json, _json)!;

    private string Write(T item) => JsonSerializer.Serialize(item, _json);

    private InvalidOperationException Contention(string partitionKey, string id) =>
        new($"Item {_table}/{partitionKey}/{id} kept changing under ten attempts to write it.");

    private sealed record MarkerDocument(int Version);
}
