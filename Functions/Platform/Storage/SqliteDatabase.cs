using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using SQLitePCL;

namespace Serverless.Functions.Platform.Storage;

/// <summary>
/// The embedded platform database, <c>&lt;DataDirectory&gt;/platform.db</c>: owns its schema, hands out short-lived
/// pooled connections for reads, one per operation, so that concurrent requests never share a connection, and runs
/// every write through one <see cref="SqliteWriter{TConnection}"/> (group commit on a single writer connection).
/// </summary>
internal sealed class SqliteDatabase : IDisposable
{
    public const string FileName = "platform.db";

    // Writers wait for one another inside SQLite instead of failing with SQLITE_BUSY; 5 s outlasts any
    // transaction these adapters run, so only a stuck process makes a caller fail.
    private const string ConnectionPragmas = "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;";

    // WITHOUT ROWID clusters entities by key, so a point read is one B-tree descent and a scan reads neighbouring
    // pages. The default BINARY collation compares UTF-8 bytes, which gives the ordinal order the ports promise.
    // seq keeps FIFO order among messages that become visible in the same millisecond.
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS entities (
            tbl  TEXT    NOT NULL,
            pk   TEXT    NOT NULL,
            rk   TEXT    NOT NULL,
            json TEXT    NOT NULL,
            etag TEXT    NOT NULL,
            ts   INTEGER NOT NULL,
            PRIMARY KEY (tbl, pk, rk)
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS queue_messages (
            seq           INTEGER PRIMARY KEY,
            queue         TEXT    NOT NULL,
            id            TEXT    NOT NULL,
            body          TEXT    NOT NULL,
            inserted_at   INTEGER NOT NULL,
            visible_at    INTEGER NOT NULL,
            dequeue_count INTEGER NOT NULL DEFAULT 0,
            pop_receipt   TEXT
        );
        CREATE UNIQUE INDEX IF NOT EXISTS ix_queue_messages_id ON queue_messages (queue, id);
        CREATE INDEX IF NOT EXISTS ix_queue_messages_visible ON queue_messages (queue, visible_at);
        """;

    private static readonly object Prepared = new();

    // The pool reuses native handles; remembering which ones already carry the per-connection pragmas keeps
    // opening a pooled connection (every point read does) down to a table lookup instead of an extra statement.
    private readonly ConditionalWeakTable<sqlite3, object> _preparedHandles = new();
    private readonly SqliteWriter<SqliteSession> _writer;
    private readonly object _startLock = new();

    public SqliteDatabase(IOptions<StorageOptions> options, ILogger<SqliteDatabase>? logger = null)
    {
        var log = (ILogger?)logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _writer = new SqliteWriter<SqliteSession>(
            "platform-sqlite-writer",
            (exception, count) => StorageLog.WriteFailed(log, exception, count),
            exception => StorageLog.ApplyFailed(log, exception));
        var directory = Path.GetFullPath(options.Value.DataDirectory);
        Directory.CreateDirectory(directory);
        DatabasePath = Path.Combine(directory, FileName);
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
        }.ToString();

        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        Prepare(connection);
        using var command = connection.CreateCommand();
        // journal_mode is stored in the file, so setting it once here covers every later connection; WAL lets
        // readers run while a writer commits.
        command.CommandText = "PRAGMA journal_mode = WAL;" + Schema;
        command.ExecuteNonQuery();
    }

    /// <summary>Full path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>Connection string of the database (pooled).</summary>
    public string ConnectionString { get; }

    /// <summary>Opens a pooled connection ready for use; the caller disposes it, which returns it to the pool.</summary>
    public async Task<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            Prepare(connection);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="execute"/> (synchronously, on the writer connection, inside a transaction shared with the
    /// other writes queued beside it) and completes after the commit. It may run more than once and must only touch the
    /// database; a throw undoes its own changes only. Use <see cref="SqliteSession.Atomically"/> for several statements
    /// that stand or fall together.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<SqliteSession, T> execute, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!_writer.Started)
        {
            // The writer thread starts with the first write: a database only read (or only created) costs no thread.
            lock (_startLock)
            {
                if (!_writer.Started)
                {
                    var session = SqliteSession.OpenSession(ConnectionString);
                    try
                    {
                        _writer.Start(session);
                    }
                    catch
                    {
                        session.Dispose();
                        throw;
                    }
                }
            }
        }

        return _writer.WriteAsync(execute);
    }

    /// <summary>Creates a command with named parameters; a <c>null</c> value binds SQL NULL.</summary>
    public static SqliteCommand Command(SqliteConnection connection, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    /// <summary>Closes the pooled connections so the file can be moved or deleted.</summary>
    public void Dispose()
    {
        _writer.Dispose();
        using var connection = new SqliteConnection(ConnectionString);
        SqliteConnection.ClearPool(connection);
    }

    private void Prepare(SqliteConnection connection)
    {
        var handle = connection.Handle!;
        if (_preparedHandles.TryGetValue(handle, out _))
        {
            return;
        }

        using var command = connection.CreateCommand();
        command.CommandText = ConnectionPragmas;
        command.ExecuteNonQuery();
        _preparedHandles.AddOrUpdate(handle, Prepared);
    }
}
