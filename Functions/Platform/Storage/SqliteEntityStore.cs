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
    private readonly SemaphoreSlim _batchGate = new(1, 1);

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
        WriteAsync(
            "INSERT INTO entities (tbl, pk, rk, json, etag, ts) VALUES ($tbl, $pk, $rk, $json, $etag, $ts) ON CONFLICT DO NOTHING",
            table, partitionKey, rowKey, json, ifMatch: null, WriteStatus.Conflict, cancellationToken);

    public Task<WriteResult> UpsertAsync(string table, string partitionKey, string rowKey, string json, CancellationToken cancellationToken) =>
        WriteAsync(
            """
            INSERT INTO entities (tbl, pk, rk, json, etag, ts) VALUES ($tbl, $pk, $rk, $json, $etag, $ts)
            ON CONFLICT (tbl, pk, rk) DO UPDATE SET json = excluded.json, etag = excluded.etag, ts = excluded.ts
            """,
            table, partitionKey, rowKey, json, ifMatch: null, WriteStatus.Ok, cancellationToken);

    public Task<WriteResult> ReplaceAsync(string table, string partitionKey, string rowKey, string json, string ifMatch, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(ifMatch);
        return WriteAsync(
            """
            UPDATE entities SET json = $json, etag = $etag, ts = $ts
            WHERE tbl = $tbl AND pk = $pk AND rk = $rk AND ($ifMatch IS NULL OR etag = $ifMatch)
            """,
            table, partitionKey, rowKey, json, ifMatch, WriteStatus.NotFound, cancellationToken);
    }

    public async Task<WriteResult> DeleteAsync(string table, string partitionKey, string rowKey, string? ifMatch, CancellationToken cancellationToken)
    {
        PortArguments.Address(table, partitionKey, rowKey);
        var condition = ifMatch is null or AnyETag ? null : ifMatch;
        await using var connection = await _database.OpenConnectionAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(
            connection,
            "DELETE FROM entities WHERE tbl = $tbl AND pk = $pk AND rk = $rk AND ($ifMatch IS NULL OR etag = $ifMatch)",
            ("$tbl", table), ("$pk", partitionKey), ("$rk", rowKey), ("$ifMatch", condition));
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 1)
        {
            return new WriteResult(WriteStatus.Ok, null);
        }

        return new WriteResult(await MissStatusAsync(connection, table, partitionKey, rowKey, condition, cancellationToken), null);
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

    public async Task<BatchResult> SubmitBatchAsync(string table, string partitionKey, IReadOnlyList<BatchWrite> writes, CancellationToken cancellationToken)
    {
        PortArguments.Batch(table, partitionKey, writes);
        var now = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        // Batches queue here rather than in SQLite's busy handler, which sleeps between retries: under many concurrent
        // writers the sleeps, not the writes, would bound throughput.
        await _batchGate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await _database.OpenConnectionAsync(cancellationToken);
            // Not deferred (BEGIN IMMEDIATE): the write lock is taken up front, so no condition checked below can change before commit.
            await using var transaction = connection.BeginTransaction(deferred: false);
            var statements = new BatchStatements(connection, transaction, table, partitionKey, now);
            try
            {
                var etags = new string?[writes.Count];
                for (var i = 0; i < writes.Count; i++)
                {
                    var status = await statements.ApplyAsync(writes[i], cancellationToken);
                    if (status.Status != WriteStatus.Ok)
                    {
                        await transaction.RollbackAsync(cancellationToken);
                        return new BatchResult(status.Status, i, []);
                    }

                    etags[i] = status.ETag;
                }

                await transaction.CommitAsync(cancellationToken);
                return new BatchResult(WriteStatus.Ok, null, etags);
            }
            finally
            {
                statements.Dispose();
            }
        }
        finally
        {
            _batchGate.Release();
        }
    }

    /// <summary>One prepared statement per kind of write, reused for every write of a batch.</summary>
    private sealed class BatchStatements(SqliteConnection connection, SqliteTransaction transaction, string table, string partitionKey, long now) : IDisposable
    {
        private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

        public async Task<WriteResult> ApplyAsync(BatchWrite write, CancellationToken cancellationToken)
        {
            var condition = write.IfMatch is null or AnyETag ? null : write.IfMatch;
            var etag = write.Kind == BatchWriteKind.Delete ? null : NewETag();
            var (sql, miss) = write.Kind switch
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
            var command = Statement(sql);
            Bind(command, write.RowKey, write.Json, etag, condition);
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                return new WriteResult(WriteStatus.Ok, etag);
            }

            if (condition is null)
            {
                return new WriteResult(miss, null);
            }

            var exists = Statement("SELECT 1 FROM entities WHERE tbl = $tbl AND pk = $pk AND rk = $rk");
            Bind(exists, write.RowKey, null, null, null);
            return new WriteResult(await exists.ExecuteScalarAsync(cancellationToken) is null ? WriteStatus.NotFound : WriteStatus.PreconditionFailed, null);
        }

        public void Dispose()
        {
            foreach (var command in _commands.Values)
            {
                command.Dispose();
            }
        }

        private SqliteCommand Statement(string sql)
        {
            if (!_commands.TryGetValue(sql, out var command))
            {
                command = SqliteDatabase.Command(
                    connection, sql, ("$tbl", table), ("$pk", partitionKey), ("$rk", null), ("$json", null), ("$etag", null), ("$ts", now), ("$ifMatch", null));
                command.Transaction = transaction;
                _commands[sql] = command;
            }

            return command;
        }

        private static void Bind(SqliteCommand command, string rowKey, string? json, string? etag, string? ifMatch)
        {
            command.Parameters["$rk"].Value = rowKey;
            command.Parameters["$json"].Value = (object?)json ?? DBNull.Value;
            command.Parameters["$etag"].Value = (object?)etag ?? DBNull.Value;
            command.Parameters["$ifMatch"].Value = (object?)ifMatch ?? DBNull.Value;
        }
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenConnectionAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(connection, "SELECT 1");
        await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>
    /// Runs one write statement; when it touches no row the outcome is <paramref name="missStatus"/>, or, for a
    /// conditional write, whichever of NotFound and PreconditionFailed holds.
    /// </summary>
    private async Task<WriteResult> WriteAsync(
        string sql, string table, string partitionKey, string rowKey, string json, string? ifMatch, WriteStatus missStatus, CancellationToken cancellationToken)
    {
        PortArguments.Write(table, partitionKey, rowKey, json);
        var condition = ifMatch is AnyETag ? null : ifMatch;
        var etag = NewETag();
        await using var connection = await _database.OpenConnectionAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(
            connection,
            sql,
            ("$tbl", table), ("$pk", partitionKey), ("$rk", rowKey), ("$json", json), ("$etag", etag),
            ("$ts", _timeProvider.GetUtcNow().ToUnixTimeMilliseconds()), ("$ifMatch", condition));
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 1)
        {
            return new WriteResult(WriteStatus.Ok, etag);
        }

        var status = condition is null ? missStatus : await MissStatusAsync(connection, table, partitionKey, rowKey, condition, cancellationToken);
        return new WriteResult(status, null);
    }

    /// <summary>Why a write that touched no row missed: NotFound, or PreconditionFailed when it was conditional and the entity exists.</summary>
    /// <remarks>
    /// The write and this check are separate statements, so the entity may change in between; every write gives
    /// a fresh ETag, so an entity found here can never carry the ETag the caller expected, and the answer stays true.
    /// </remarks>
    private static async Task<WriteStatus> MissStatusAsync(
        SqliteConnection connection, string table, string partitionKey, string rowKey, string? condition, CancellationToken cancellationToken)
    {
        if (condition is null)
        {
            return WriteStatus.NotFound;
        }

        await using var command = SqliteDatabase.Command(
            connection,
            "SELECT 1 FROM entities WHERE tbl = $tbl AND pk = $pk AND rk = $rk",
            ("$tbl", table), ("$pk", partitionKey), ("$rk", rowKey));
        return await command.ExecuteScalarAsync(cancellationToken) is null ? WriteStatus.NotFound : WriteStatus.PreconditionFailed;
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
