using Microsoft.Data.Sqlite;

namespace Serverless.Functions.Platform.Storage;

/// <summary>
/// One long-lived SQLite connection that keeps its prepared commands (a statement is compiled once per connection, not
/// once per call) and runs the transactions of a <see cref="SqliteWriter{TConnection}"/>.
/// </summary>
internal class SqliteSession : ISqliteWriteConnection
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private SqliteTransaction? _transaction;
    private int _savepoints;

    protected SqliteSession(SqliteConnection connection) => Connection = connection;

    /// <summary>The connection, for statements run once (loading at start-up) rather than kept prepared.</summary>
    protected SqliteConnection Connection { get; }

    /// <summary>Opens a plain session (a connection string of a pooled database gets its own handle all the same).</summary>
    public static SqliteSession OpenSession(string connectionString) => Open(connectionString, c => new SqliteSession(c));

    public void Begin() => _transaction = Connection.BeginTransaction(deferred: false);

    public void Commit()
    {
        _transaction!.Commit();
        _transaction.Dispose();
        _transaction = null;
    }

    public void Rollback()
    {
        _transaction!.Rollback();
        _transaction.Dispose();
        _transaction = null;
    }

    public void RollbackQuietly()
    {
        try
        {
            _transaction?.Rollback();
        }
        catch (SqliteException)
        {
            // The transaction is already gone (a failed COMMIT rolls back by itself).
        }

        _transaction?.Dispose();
        _transaction = null;
    }

    /// <summary>
    /// Runs <paramref name="change"/> inside the open transaction as one unit: when it returns false (or throws) what it
    /// wrote is undone and the rest of the transaction stays.
    /// </summary>
    public bool Atomically(Func<bool> change)
    {
        var name = "s" + _savepoints++;
        _transaction!.Save(name);
        bool keep;
        try
        {
            keep = change();
        }
        catch
        {
            _transaction.Rollback(name);
            _transaction.Release(name);
            throw;
        }

        if (!keep)
        {
            _transaction.Rollback(name);
        }

        _transaction.Release(name);
        return keep;
    }

    public void Execute(string sql)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>The prepared command for <paramref name="sql"/>, enlisted in the open transaction; bind every parameter on each use.</summary>
    public SqliteCommand Command(string sql)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            _commands[sql] = command;
        }

        command.Transaction = _transaction;
        return command;
    }

    /// <summary>The prepared command for <paramref name="sql"/> with every parameter bound (names the statement lacks are ignored).</summary>
    public SqliteCommand Command(string sql, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var command = Command(sql);
        foreach (var (name, value) in parameters)
        {
            Bind(command, name, value);
        }

        return command;
    }

    /// <summary>Sets a parameter of a cached command (which keeps its parameters; each call sets every one of them again).</summary>
    public static void Bind(SqliteCommand command, string name, object? value)
    {
        var parameters = command.Parameters;
        var index = parameters.IndexOf(name);
        if (index < 0)
        {
            parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        else
        {
            parameters[index].Value = value ?? DBNull.Value;
        }
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _transaction?.Dispose();
        Connection.Dispose();
    }

    protected static T Open<T>(string connectionString, Func<SqliteConnection, T> create)
        where T : SqliteSession
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;";
            command.ExecuteNonQuery();
            return create(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }
}
