using System.Buffers.Text;
using System.Text;
using Microsoft.Data.Sqlite;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage;

/// <summary>
/// <see cref="IEntityStore"/> on the embedded SQLite database: every logical table lives in the one
/// <c>entities</c> table, keyed by (table, partition key, row key).
/// </summary>
internal sealed class SqliteEntityStore : IEntityStore
{
    private const string AnyETag = "*";
    private const char TokenSeparator = '\0';

    private readonly SqliteDatabase _database;
    private readonly TimeProvider _timeProvider;

    public SqliteEntityStore(SqliteDatabase database, TimeProvider? timeProvider = null)
    {
        _database = database;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    public async Task<Entity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        PortArguments.Address(table, partitionKey, rowKey);
        await using var connection = await _database.OpenConnectionAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(
            connection,
            "SELECT json, etag, ts FROM entities WHERE tbl = $tbl AND pk = $pk AND rk = $rk",
            ("$tbl", table), ("$pk", partitionKey), ("$rk", rowKey));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new Entity(partitionKey, rowKey, reader.GetString(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)))
            : null;
    }

    public Task<WriteResult> InsertAsync(string table, string partitionKey, string rowKey, string json, CancellationToken cancellationToken) =>
        WriteAsync(BatchWriteKind.Insert, table, partitionKey, rowKey, json, ifMatch: null, cancellationToken);

    public Task<WriteResult> UpsertAsync(string table, string partitionKey, string rowKey, string json, CancellationToken cancellationToken) =>
        WriteAsync(BatchWriteKind.Upsert, table, partitionKey, rowKey, json, ifMatch: null, cancellationToken);

    public Task<WriteResult> ReplaceAsync(string table, string partitionKey, string rowKey, string json, string ifMatch, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(ifMatch);
        return WriteAsync(BatchWriteKind.Replace, table, partitionKey, rowKey, json, ifMatch, cancellationToken);
    }

    public Task<WriteResult> DeleteAsync(string table, string partitionKey, string rowKey, string? ifMatch, CancellationToken cancellationToken)
    {
        PortArguments.Address(table, partitionKey, rowKey);
        var now = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        return _database.WriteAsync(session => Write(session, BatchWriteKind.Delete, table, partitionKey, rowKey, null, ifMatch, now), cancellationToken);
    }

    public async Task<EntityPage> QueryAsync(string table, EntityQuery query, CancellationToken cancellationToken)
    {
        PortArguments.Query(table, query);

        var (from, to) = query.RowKeyPrefix is { } prefix ? (prefix, PrefixSuccessor(prefix)) : (query.RowKeyFrom, query.RowKeyTo);
        var after = query.ContinuationToken is { } token ? DecodeToken(token) : default((string Pk, string Rk)?);

        var sql = new StringBuilder("SELECT pk, rk, json, etag, ts FROM entities WHERE tbl = $tbl");
        if (query.PartitionKey is not null)
        {
            sql.Append(" AND pk = $pk");
        }

        if (from is not null)
        {
            sql.Append(" AND rk >= $from");
        }

        if (to is not null)
        {
            sql.Append(" AND rk < $to");
        }

        if (after is not null)
        {
            if (query.PartitionKey is not null && !string.Equals(after.Value.Pk, query.PartitionKey, StringComparison.Ordinal))
            {
                throw new ArgumentException("The continuation token belongs to another partition.", nameof(query));
            }

            // Within one partition the row key alone resumes the scan and keeps it an index range; across
            // partitions the row-value comparison resumes after the last (pk, rk) pair.
            sql.Append(query.PartitionKey is null ? " AND (pk, rk) > ($afterPk, $afterRk)" : " AND rk > $afterRk");
        }

        // One row beyond the page tells whether another page exists, so the last page carries no token.
        sql.Append(" ORDER BY pk, rk LIMIT $limit");

        await using var connection = await _database.OpenConnectionAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(
            connection,
            sql.ToString(),
            ("$tbl", table), ("$pk", query.PartitionKey), ("$from", from), ("$to", to),
            ("$afterPk", after?.Pk), ("$afterRk", after?.Rk), ("$limit", query.Take + 1));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var items = new List<Entity>(Math.Min(query.Take, 128));
        var more = false;
        while (await reader.ReadAsync(cancellationToken))
        {
            if (items.Count == query.Take)
            {
                more = true;
                break;
            }

            items.Add(new Entity(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4))));
        }

        return new EntityPage(items, more ? EncodeToken(items[^1]) : null);
    }

    public Task<BatchResult> SubmitBatchAsync(string table, string partitionKey, IReadOnlyList<BatchWrite> writes, CancellationToken cancellationToken)
    {
        PortArguments.Batch(table, partitionKey, writes);
        var now = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        return _database.WriteAsync(
            session =>
            {
                var etags = new string?[writes.Count];
                BatchResult? failed = null;
                // All or nothing inside the group transaction: the first write that misses undoes the batch's others.
                session.Atomically(() =>
                {
                    for (var i = 0; i < writes.Count; i++)
                    {
                        var write = writes[i];
                        var result = Write(session, write.Kind, table, partitionKey, write.RowKey, write.Json, write.IfMatch, now);
                        if (result.Status != WriteStatus.Ok)
                        {
                            failed = new BatchResult(result.Status, i, []);
                            return false;
                        }

                        etags[i] = result.ETag;
                    }

                    return true;
                });
                return failed ?? new BatchResult(WriteStatus.Ok, null, etags);
            },
            cancellationToken);
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenConnectionAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(connection, "SELECT 1");
        await command.ExecuteScalarAsync(cancellationToken);
    }

    private Task<WriteResult> WriteAsync(
        BatchWriteKind kind, string table, string partitionKey, string rowKey, string json, string? ifMatch, CancellationToken cancellationToken)
    {
        PortArguments.Write(table, partitionKey, rowKey, json);
        var now = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        return _database.WriteAsync(session => Write(session, kind, table, partitionKey, rowKey, json, ifMatch, now), cancellationToken);
    }

    /// <summary>
    /// Runs one write statement on the writer's session; when it touches no row the outcome is what its kind says
    /// (an insert: Conflict; a replace or delete: NotFound), or, for a conditional write, whichever of NotFound and
    /// PreconditionFailed holds. Every write that stores a row gives it a fresh ETag.
    /// </summary>
    private static WriteResult Write(SqliteSession session, BatchWriteKind kind, string table, string partitionKey, string rowKey, string? json, string? ifMatch, long now)
    {
        var condition = ifMatch is null or AnyETag ? null : ifMatch;
        var etag = kind == BatchWriteKind.Delete ? null : NewETag();
        var (sql, miss) = kind switch
        {
            BatchWriteKind.Insert => ("INSERT INTO entities (tbl, pk, rk, json, etag, ts) VALUES ($tbl, $pk, $rk, $json, $etag, $ts) ON CONFLICT DO NOTHING", WriteStatus.Conflict),
            BatchWriteKind.Upsert => (
                """
                INSERT INTO entities (tbl, pk, rk, json, etag, ts) VALUES ($tbl, $pk, $rk, $json, $etag, $ts)
                ON CONFLICT (tbl, pk, rk) DO UPDATE SET json = excluded.json, etag = excluded.etag, ts = excluded.ts
                """, WriteStatus.Ok),
            BatchWriteKind.Replace => (
                """
                UPDATE entities SET json = $json, etag = $etag, ts = $ts
                WHERE tbl = $tbl AND pk = $pk AND rk = $rk AND ($ifMatch IS NULL OR etag = $ifMatch)
                """, WriteStatus.NotFound),
            _ => ("DELETE FROM entities WHERE tbl = $tbl AND pk = $pk AND rk = $rk AND ($ifMatch IS NULL OR etag = $ifMatch)", WriteStatus.NotFound),
        };
        // Parameters a statement does not name are ignored, so every kind binds the same set.
        var command = session.Command(
            sql, ("$tbl", table), ("$pk", partitionKey), ("$rk", rowKey), ("$json", json), ("$etag", etag), ("$ts", now), ("$ifMatch", condition));
        if (command.ExecuteNonQuery() == 1)
        {
            return new WriteResult(WriteStatus.Ok, etag);
        }

        if (condition is null)
        {
            return new WriteResult(miss, null);
        }

        // Same transaction as the write, so the answer is exact: the row is there (with another ETag) or it is not.
        var exists = session.Command("SELECT 1 FROM entities WHERE tbl = $tbl AND pk = $pk AND rk = $rk", ("$tbl", table), ("$pk", partitionKey), ("$rk", rowKey));
        return new WriteResult(exists.ExecuteScalar() is null ? WriteStatus.NotFound : WriteStatus.PreconditionFailed, null);
    }

    private static string NewETag() => $"W/\"{Guid.NewGuid():N}\"";

    /// <summary>The smallest string above every string that starts with <paramref name="prefix"/>, or <c>null</c> when none exists.</summary>
    /// <remarks>
    /// SQLite's BINARY collation compares UTF-8 bytes, whose order is code-point order, so the successor is taken
    /// on code points (skipping the surrogate range) rather than on UTF-16 units; a range scan then replaces LIKE,
    /// which would neither respect ordinal order nor use the primary-key index.
    /// </remarks>
    private static string? PrefixSuccessor(string prefix)
    {
        var runes = prefix.EnumerateRunes().ToArray();
        for (var i = runes.Length - 1; i >= 0; i--)
        {
            var value = runes[i].Value;
            if (value == 0x10FFFF)
            {
                continue;
            }

            var successor = new StringBuilder(prefix.Length + 1);
            foreach (var rune in runes.AsSpan(0, i))
            {
                successor.Append(rune.ToString());
            }

            successor.Append(new Rune(value + 1 == 0xD800 ? 0xE000 : value + 1).ToString());
            return successor.ToString();
        }

        return null;
    }

    private static string EncodeToken(Entity last) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(last.PartitionKey + TokenSeparator + last.RowKey));

    private static (string Pk, string Rk) DecodeToken(string token)
    {
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
        }
        catch (FormatException e)
        {
            throw new ArgumentException("The continuation token is malformed.", "query", e);
        }

        // Keys cannot hold control characters, so the separator appears exactly once in a token this store wrote.
        var parts = text.Split(TokenSeparator);
        if (parts.Length != 2 || !StoreKeys.IsValidKey(parts[0]) || !StoreKeys.IsValidKey(parts[1]))
        {
            throw new ArgumentException("The continuation token is malformed.", "query");
        }

        return (parts[0], parts[1]);
    }
}
