using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Storage;

namespace Serverless.Functions.Platform.Search;

/// <summary>
/// The embedded search index, <c>&lt;DataDirectory&gt;/search.db</c>: chunks in a table, BM25 through an FTS5 table
/// kept in step by triggers, vectors as float32 BLOBs scanned exactly (cosine) from an in-memory arena per collection,
/// and hybrid ranking by reciprocal-rank fusion. Filters run inside SQL so TopK counts only matching chunks.
/// </summary>
/// <remarks>
/// Hits carry no vector: callers rank and cite chunks, and shipping 1.5 KB of floats per hit would only cost.
/// </remarks>
internal sealed class SqliteSearchIndex : ISearchIndex, IDisposable
{
    public const string FileName = "search.db";
    private const int RrfK = SearchArguments.RrfK;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS collections (
            workspace_id TEXT    NOT NULL,
            dataset_id   TEXT    NOT NULL,
            dimensions   INTEGER NOT NULL,
            PRIMARY KEY (workspace_id, dataset_id)
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS chunks (
            id           INTEGER PRIMARY KEY,
            workspace_id TEXT    NOT NULL,
            dataset_id   TEXT    NOT NULL,
            document_id  TEXT    NOT NULL,
            chunk_id     TEXT    NOT NULL,
            position     INTEGER NOT NULL,
            title        TEXT    NOT NULL,
            content      TEXT    NOT NULL,
            metadata     TEXT    NOT NULL,
            has_vector   INTEGER NOT NULL,
            scope        TEXT    NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS ux_chunks_chunk ON chunks (workspace_id, dataset_id, chunk_id);
        CREATE INDEX IF NOT EXISTS ix_chunks_document ON chunks (workspace_id, dataset_id, document_id);

        -- Vectors apart from the text, so that full-text joins and filters never page 1.5 KB BLOBs through the cache.
        CREATE TABLE IF NOT EXISTS chunk_vectors (
            id     INTEGER PRIMARY KEY,
            vector BLOB    NOT NULL
        );

        -- scope is one token naming the collection (ScopeToken), so the full-text index itself narrows a query to its
        -- collections and an unfiltered search ranks without joining a chunk row per match.
        CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5 (
            scope, title, content, content = 'chunks', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER IF NOT EXISTS chunks_fts_insert AFTER INSERT ON chunks BEGIN
            INSERT INTO chunks_fts (rowid, scope, title, content) VALUES (new.id, new.scope, new.title, new.content);
        END;
        CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks BEGIN
            INSERT INTO chunks_fts (chunks_fts, rowid, scope, title, content) VALUES ('delete', old.id, old.scope, old.title, old.content);
            DELETE FROM chunk_vectors WHERE id = old.id;
        END;
        """;

    private const string ChunkColumns = "id, workspace_id, dataset_id, document_id, chunk_id, position, title, content, metadata";

    private readonly string _connectionString;
    private readonly ILogger<SqliteSearchIndex> _logger;

    // One writer at a time (SQLite has one anyway); holding it while an arena loads keeps a load from missing a
    // write that commits meanwhile.
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<SearchCollection, VectorArena> _arenas = new();

    public SqliteSearchIndex(IOptions<StorageOptions> options, ILogger<SqliteSearchIndex> logger)
    {
        _logger = logger;
        if (string.Equals(options.Value.Provider, StorageSetup.AzureStorageProvider, StringComparison.OrdinalIgnoreCase))
        {
            // Everything else lives in Azure Storage; this file would stay on one instance's disk and go with it.
            SearchLog.LocalIndexBesideAzureStorage(logger, options.Value.DataDirectory);
        }

        var directory = Path.GetFullPath(options.Value.DataDirectory);
        Directory.CreateDirectory(directory);
        DatabasePath = Path.Combine(directory, FileName);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();

        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;" + Schema;
        command.ExecuteNonQuery();
    }

    public string DatabasePath { get; }

    public async Task UpsertDocumentChunksAsync(SearchCollection collection, IReadOnlyList<IndexedChunk> chunks, CancellationToken cancellationToken)
    {
        SearchArguments.CheckCollection(collection);
        var dimensions = SearchArguments.CheckChunks(chunks);
        if (chunks.Count == 0)
        {
            return;
        }

        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            if (dimensions > 0)
            {
                var known = await DimensionsAsync(connection, collection, cancellationToken);
                if (known != dimensions)
                {
                    // A collection whose vectors are all gone (re-embedding with another model) may change its length.
                    await using var held = Command(connection, "SELECT count(*) FROM chunks WHERE workspace_id = $w AND dataset_id = $d AND has_vector = 1",
                        ("$w", collection.WorkspaceId), ("$d", collection.DatasetId));
                    if (known is not null && (long)(await held.ExecuteScalarAsync(cancellationToken))! > 0)
                    {
                        throw new ArgumentException($"Vectors have {dimensions} dimensions, but the collection holds vectors of {known}.", nameof(chunks));
                    }

                    await using var set = Command(connection, "INSERT OR REPLACE INTO collections (workspace_id, dataset_id, dimensions) VALUES ($w, $d, $n)",
                        ("$w", collection.WorkspaceId), ("$d", collection.DatasetId), ("$n", dimensions));
                    await set.ExecuteNonQueryAsync(cancellationToken);
                    _arenas.TryRemove(collection, out _);
                }
            }

            var removed = new HashSet<long>();
            await using (var select = Command(connection, "SELECT id FROM chunks WHERE workspace_id = $w AND dataset_id = $d AND document_id = $doc",
                ("$w", collection.WorkspaceId), ("$d", collection.DatasetId), ("$doc", "")))
            {
                foreach (var documentId in chunks.Select(c => c.DocumentId).Distinct(StringComparer.Ordinal))
                {
                    select.Parameters["$doc"].Value = documentId;
                    await ReadIdsAsync(select, removed, cancellationToken);
                }

                // A chunk id moving from another document replaces that chunk too.
                select.CommandText = "SELECT id FROM chunks WHERE workspace_id = $w AND dataset_id = $d AND chunk_id = $doc";
                foreach (var chunk in chunks)
                {
                    select.Parameters["$doc"].Value = chunk.ChunkId;
                    await ReadIdsAsync(select, removed, cancellationToken);
                }
            }

            await DeleteRowsAsync(connection, removed, cancellationToken);

            var added = new List<(long RowId, float[] Vector, string Metadata)>();
            await using (var insert = Command(connection,
                "INSERT INTO chunks (workspace_id, dataset_id, document_id, chunk_id, position, title, content, metadata, has_vector, scope) " +
                "VALUES ($w, $d, $doc, $chunk, $pos, $title, $content, $meta, $has, $scope) RETURNING id",
                ("$w", collection.WorkspaceId), ("$d", collection.DatasetId), ("$scope", ScopeToken(collection)), ("$doc", ""), ("$chunk", ""), ("$pos", 0),
                ("$title", ""), ("$content", ""), ("$meta", ""), ("$has", 0)))
            await using (var insertVector = Command(connection, "INSERT INTO chunk_vectors (id, vector) VALUES ($id, $vec)", ("$id", 0L), ("$vec", Array.Empty<byte>())))
            {
                foreach (var chunk in chunks)
                {
                    insert.Parameters["$doc"].Value = chunk.DocumentId;
                    insert.Parameters["$chunk"].Value = chunk.ChunkId;
                    insert.Parameters["$pos"].Value = chunk.Position;
                    insert.Parameters["$title"].Value = chunk.Title;
                    insert.Parameters["$content"].Value = chunk.Content;
                    var metadata = chunk.Metadata.ToJsonString();
                    insert.Parameters["$meta"].Value = metadata;
                    insert.Parameters["$has"].Value = chunk.Vector is null ? 0 : 1;
                    var id = (long)(await insert.ExecuteScalarAsync(cancellationToken))!;
                    if (chunk.Vector is { } vector)
                    {
                        var unit = (float[])vector.Clone();
                        VectorArena.Normalize(unit);
                        insertVector.Parameters["$id"].Value = id;
                        insertVector.Parameters["$vec"].Value = MemoryMarshal.AsBytes(unit.AsSpan()).ToArray();
                        await insertVector.ExecuteNonQueryAsync(cancellationToken);
                        added.Add((id, unit, metadata));
                    }
                }
            }

            await transaction.CommitAsync(cancellationToken);
            if (_arenas.TryGetValue(collection, out var arena))
            {
                _arenas[collection] = arena.With(removed, added);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task<bool> DeleteDocumentAsync(SearchCollection collection, string documentId, CancellationToken cancellationToken)
    {
        SearchArguments.CheckCollection(collection);
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            var removed = new HashSet<long>();
            await using (var select = Command(connection, "SELECT id FROM chunks WHERE workspace_id = $w AND dataset_id = $d AND document_id = $doc",
                ("$w", collection.WorkspaceId), ("$d", collection.DatasetId), ("$doc", documentId)))
            {
                await ReadIdsAsync(select, removed, cancellationToken);
            }

            await DeleteRowsAsync(connection, removed, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            if (removed.Count > 0 && _arenas.TryGetValue(collection, out var arena))
            {
                _arenas[collection] = arena.With(removed, []);
            }

            return removed.Count > 0;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task DeleteCollectionAsync(SearchCollection collection, CancellationToken cancellationToken)
    {
        SearchArguments.CheckCollection(collection);
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            await using (var delete = Command(connection,
                "DELETE FROM chunks WHERE workspace_id = $w AND dataset_id = $d; DELETE FROM collections WHERE workspace_id = $w AND dataset_id = $d",
                ("$w", collection.WorkspaceId), ("$d", collection.DatasetId)))
            {
                await delete.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            _arenas.TryRemove(collection, out _);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task<CollectionStats> GetStatsAsync(SearchCollection collection, CancellationToken cancellationToken)
    {
        SearchArguments.CheckCollection(collection);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, "SELECT count(*), coalesce(sum(has_vector), 0) FROM chunks WHERE workspace_id = $w AND dataset_id = $d",
            ("$w", collection.WorkspaceId), ("$d", collection.DatasetId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new CollectionStats(reader.GetInt64(0), reader.GetInt64(1));
    }

    public async Task<IReadOnlyList<SearchHit>> SearchAsync(IReadOnlyList<SearchCollection> collections, SearchQuery query, CancellationToken cancellationToken)
    {
        SearchArguments.CheckQuery(collections, query);
        var targets = collections.Distinct().ToList();
        if (targets.Count == 0)
        {
            return [];
        }

        await using var connection = await OpenAsync(cancellationToken);
        var depth = query.Mode == SearchMode.Hybrid ? Math.Min(SearchArguments.MaxTopK, Math.Max(query.TopK * 3, 60)) : query.TopK;
        List<(long RowId, double Score)> ranked;
        switch (query.Mode)
        {
            case SearchMode.Fulltext:
                ranked = await FullTextAsync(connection, targets, query.Text!, query.Filter, depth, cancellationToken);
                break;
            case SearchMode.Vector:
                ranked = await VectorAsync(targets, query.Vector!, query.Filter, depth, parallel: true, cancellationToken);
                break;
            default:
                // Both rankings at once, one core each: SQLite ranks the text while another thread scans the vectors.
                var vector = Task.Run(() => VectorAsync(targets, query.Vector!, query.Filter, depth, parallel: false, cancellationToken), cancellationToken);
                var text = FullTextAsync(connection, targets, query.Text!, query.Filter, depth, cancellationToken);
                await Task.WhenAll(vector, text);
                ranked = Fuse(await text, await vector, query.TopK);
                break;
        }

        return await LoadHitsAsync(connection, targets, ranked, cancellationToken);
    }

    public void Dispose()
    {
        _writeLock.Dispose();
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    /// <summary>
    /// User text as an FTS5 query: every word a quoted term, OR-ed, so that no character the user types is FTS
    /// syntax (<c>NEAR(</c>, <c>*</c>, <c>-</c>, <c>"</c>, column filters …). Null when the text has no words.
    /// </summary>
    internal static string? ToMatchQuery(string text)
    {
        var words = SearchArguments.Words(text);
        return words.Count == 0 ? null : string.Join(" OR ", words.Select(w => "\"" + w.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""));
    }

    /// <summary>The collection as one full-text token: a hash, since ids may hold characters the tokenizer splits on.</summary>
    internal static string ScopeToken(SearchCollection collection) =>
        "s" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes($"{collection.WorkspaceId}\n{collection.DatasetId}")), 0, 16);

    // Reciprocal-rank fusion: each list adds 1/(k + rank); a chunk found by both rises above one found by either.
    private static List<(long RowId, double Score)> Fuse(List<(long RowId, double Score)> text, List<(long RowId, double Score)> vector, int topK)
    {
        var fused = new Dictionary<long, double>(text.Count + vector.Count);
        foreach (var list in new[] { text, vector })
        {
            for (var rank = 0; rank < list.Count; rank++)
            {
                fused[list[rank].RowId] = fused.GetValueOrDefault(list[rank].RowId) + (1.0 / (RrfK + rank + 1));
            }
        }

        return [.. fused.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Take(topK).Select(p => (p.Key, SearchArguments.ScaleFused(p.Value)))];
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters) =>
        SqliteDatabase.Command(connection, sql, parameters);

    private static async Task ReadIdsAsync(SqliteCommand command, ICollection<long> into, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            into.Add(reader.GetInt64(0));
        }
    }

    private static async Task DeleteRowsAsync(SqliteConnection connection, IEnumerable<long> ids, CancellationToken cancellationToken)
    {
        await using var delete = Command(connection, "DELETE FROM chunks WHERE id = $id", ("$id", 0L));
        foreach (var id in ids)
        {
            delete.Parameters["$id"].Value = id;
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static async Task<int?> DimensionsAsync(SqliteConnection connection, SearchCollection collection, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, "SELECT dimensions FROM collections WHERE workspace_id = $w AND dataset_id = $d",
            ("$w", collection.WorkspaceId), ("$d", collection.DatasetId));
        return await command.ExecuteScalarAsync(cancellationToken) is long n ? (int)n : null;
    }

    // "c.workspace_id = $w AND c.dataset_id IN (…) [AND filter]", with its parameters bound on the command.
    private static void AppendScope(StringBuilder sql, SqliteCommand command, IReadOnlyList<SearchCollection> collections, SearchFilter? filter)
    {
        sql.Append("c.workspace_id = $w AND c.dataset_id IN (");
        command.Parameters.AddWithValue("$w", collections[0].WorkspaceId);
        for (var i = 0; i < collections.Count; i++)
        {
            var name = "$d" + i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? "" : ", ").Append(name);
            command.Parameters.AddWithValue(name, collections[i].DatasetId);
        }

        sql.Append(')');
        if (filter is not null)
        {
            sql.Append(" AND ");
            SqliteFilterSql.Append(sql, command, filter, "c.metadata");
        }
    }

    private static async Task<List<(long RowId, double Score)>> FullTextAsync(
        SqliteConnection connection, IReadOnlyList<SearchCollection> collections, string text, SearchFilter? filter, int limit, CancellationToken cancellationToken)
    {
        if (ToMatchQuery(text) is not { } match)
        {
            return [];
        }

        await using var command = connection.CreateCommand();
        var scopes = string.Join(" OR ", collections.Select(c => "\"" + ScopeToken(c) + "\""));
        command.Parameters.AddWithValue("$q", $"{{scope}} : ({scopes}) AND {{title content}} : ({match})");
        // The scope column weighs nothing; titles weigh twice as much as body text: a chunk whose title names the
        // term is usually about it.
        var sql = new StringBuilder("SELECT f.rowid, bm25(chunks_fts, 0.0, 2.0, 1.0) AS rank FROM chunks_fts f ");
        if (filter is not null)
        {
            sql.Append("JOIN chunks c ON c.id = f.rowid WHERE chunks_fts MATCH $q AND ");
            AppendScope(sql, command, collections, filter);
        }
        else
        {
            sql.Append("WHERE chunks_fts MATCH $q");
        }

        sql.Append(" ORDER BY rank, f.rowid LIMIT $limit");
        command.Parameters.AddWithValue("$limit", limit);
        command.CommandText = sql.ToString();

        var ranked = new List<(long, double)>(limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            // bm25() is negative, lower is better; negated it is a positive relevance, squashed into [0, 1).
            var relevance = Math.Max(0, -reader.GetDouble(1));
            ranked.Add((reader.GetInt64(0), relevance / (1 + relevance)));
        }

        return ranked;
    }

    private async Task<List<(long RowId, double Score)>> VectorAsync(
        IReadOnlyList<SearchCollection> collections, float[] vector, SearchFilter? filter, int limit, bool parallel, CancellationToken cancellationToken)
    {
        var unit = (float[])vector.Clone();
        VectorArena.Normalize(unit);
        var hits = new List<(long RowId, double Score)>();
        foreach (var collection in collections)
        {
            var arena = await ArenaAsync(collection, cancellationToken);
            // A collection whose vectors are all gone keeps its old length until the next upsert sets a new one (an
            // embedding model changed after its documents went): it has nothing to compare, not a mismatch.
            if (arena is null || arena.Count == 0)
            {
                continue;
            }

            if (arena.Dimensions != unit.Length)
            {
                throw new ArgumentException($"The query vector has {unit.Length} dimensions, but dataset '{collection.DatasetId}' holds vectors of {arena.Dimensions}.", nameof(vector));
            }

            // The filter runs over the arena's metadata columns in memory: a SQL pass over every row costs far more.
            foreach (var (rowId, score) in arena.Search(unit, limit, filter is null ? null : arena.Mask(filter), parallel))
            {
                hits.Add((rowId, score));
            }
        }

        if (collections.Count > 1)
        {
            hits.Sort(static (a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.RowId.CompareTo(b.RowId));
            if (hits.Count > limit)
            {
                hits.RemoveRange(limit, hits.Count - limit);
            }
        }

        return hits;
    }

    private async Task<VectorArena?> ArenaAsync(SearchCollection collection, CancellationToken cancellationToken)
    {
        if (_arenas.TryGetValue(collection, out var cached))
        {
            return cached;
        }

        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            if (_arenas.TryGetValue(collection, out cached))
            {
                return cached;
            }

            await using var connection = await OpenAsync(cancellationToken);
            if (await DimensionsAsync(connection, collection, cancellationToken) is not { } dimensions)
            {
                return null;
            }

            var arena = await LoadArenaAsync(connection, collection, dimensions, cancellationToken);
            _arenas[collection] = arena;
            return arena;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    // Two passes, neither of which sorts BLOBs: the collection's row ids and metadata (small rows, sorted by id), then
    // the vector table in its own rowid order over that id range, merged with the ids. A single join ordered by id
    // made SQLite sort 150 MB of vectors through a temporary B-tree (tens of seconds at 100k chunks).
    private async Task<VectorArena> LoadArenaAsync(SqliteConnection connection, SearchCollection collection, int dimensions, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var ids = new List<long>();
        var metadataOf = new List<string>();
        await using (var select = Command(connection, "SELECT id, metadata FROM chunks WHERE workspace_id = $w AND dataset_id = $d AND has_vector = 1 ORDER BY id",
            ("$w", collection.WorkspaceId), ("$d", collection.DatasetId)))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetInt64(0));
                metadataOf.Add(reader.GetString(1));
            }
        }

        var rowIds = new long[ids.Count];
        var metadata = new string[ids.Count];
        var vectors = new float[(long)ids.Count * dimensions];
        var buffer = new byte[dimensions * sizeof(float)];
        var loaded = 0;
        if (ids.Count > 0)
        {
            await using var select = Command(connection, "SELECT id, vector FROM chunk_vectors WHERE id BETWEEN $min AND $max ORDER BY id",
                ("$min", ids[0]), ("$max", ids[^1]));
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            var next = 0;
            while (next < ids.Count && await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetInt64(0);
                while (next < ids.Count && ids[next] < id)
                {
                    next++;
                }

                // Another collection's vector inside the range, or one of another length (never written: rejected).
                if (next == ids.Count || ids[next] != id || reader.GetBytes(1, 0, null, 0, 0) != buffer.Length)
                {
                    continue;
                }

                reader.GetBytes(1, 0, buffer, 0, buffer.Length);
                rowIds[loaded] = id;
                metadata[loaded] = metadataOf[next];
                MemoryMarshal.Cast<byte, float>(buffer).CopyTo(vectors.AsSpan(loaded * dimensions, dimensions));
                loaded++;
                next++;
            }
        }

        var arena = new VectorArena(dimensions, rowIds, vectors, metadata, loaded);
        SearchLog.VectorsLoaded(_logger, loaded, arena.Bytes >> 20, collection.WorkspaceId, collection.DatasetId, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return arena;
    }

    private static async Task<IReadOnlyList<SearchHit>> LoadHitsAsync(
        SqliteConnection connection, List<SearchCollection> collections, List<(long RowId, double Score)> ranked, CancellationToken cancellationToken)
    {
        if (ranked.Count == 0)
        {
            return [];
        }

        await using var command = connection.CreateCommand();
        var sql = new StringBuilder($"SELECT {ChunkColumns} FROM chunks WHERE id IN (");
        for (var i = 0; i < ranked.Count; i++)
        {
            var name = "$id" + i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? "" : ", ").Append(name);
            command.Parameters.AddWithValue(name, ranked[i].RowId);
        }

        command.CommandText = sql.Append(')').ToString();
        var rows = new Dictionary<long, SearchHit>(ranked.Count);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var chunk = new IndexedChunk(
                    reader.GetString(4), reader.GetString(3), reader.GetInt32(5), reader.GetString(6), reader.GetString(7),
                    JsonNode.Parse(reader.GetString(8)) as JsonObject ?? [], null);
                var collection = new SearchCollection(reader.GetString(1), reader.GetString(2));
                // Scope tokens are hashes; this makes even a collision unable to return another collection's chunk.
                if (collections.Contains(collection))
                {
                    rows[reader.GetInt64(0)] = new SearchHit(collection, chunk, 0);
                }
            }
        }

        // A chunk deleted between ranking and loading is simply left out.
        var hits = new List<SearchHit>(ranked.Count);
        foreach (var (rowId, score) in ranked)
        {
            if (rows.TryGetValue(rowId, out var hit))
            {
                hits.Add(hit with { Score = score });
            }
        }

        return hits;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
