namespace Serverless.Functions.Platform.Storage;

/// <summary>A connection a <see cref="SqliteWriter{TConnection}"/> runs its group transactions on.</summary>
internal interface ISqliteWriteConnection : IDisposable
{
    /// <summary>Starts a transaction that takes the write lock at once (BEGIN IMMEDIATE).</summary>
    void Begin();

    void Commit();

    void Rollback();

    /// <summary>Rolls back whatever transaction is open, if any, ignoring that it is already gone.</summary>
    void RollbackQuietly();
}

/// <summary>
/// The single writer of one SQLite file. Every write runs on one writer thread that groups whatever is queued into
/// one transaction (group commit): a commit costs about the same for one change as for fifty (the lock, the WAL
/// frames of the pages it touched, the WAL index), so under load the file sees few large transactions instead of many
/// small ones, and writers queue here instead of in SQLite's busy handler, which sleeps between retries. A caller's
/// task completes only after its transaction committed and its in-memory effect was applied, in commit order.
/// </summary>
internal sealed class SqliteWriter<TConnection> : IDisposable
    where TConnection : class, ISqliteWriteConnection
{
    private const int MaxBatch = 256;

    private readonly string _name;
    private readonly Action<Exception, int> _writeFailed;
    private readonly Action<Exception> _applyFailed;
    private readonly object _lock = new();
    private readonly Queue<IPendingWrite> _writes = new();
    // Little spinning: on two cores a spinning writer takes the CPU from the threads that would give it work.
    private readonly ManualResetEventSlim _signal = new(false, spinCount: 1);
    private TConnection? _connection;
    private Thread? _thread;
    private bool _awake;
    private bool _stopping;
    private bool _disposed;

    /// <param name="name">The writer thread's name.</param>
    /// <param name="writeFailed">Told when a group transaction failed as a whole (every write in it fails).</param>
    /// <param name="applyFailed">Told when a committed write's in-memory effect threw (the write still completes).</param>
    public SqliteWriter(string name, Action<Exception, int> writeFailed, Action<Exception> applyFailed)
    {
        _name = name;
        _writeFailed = writeFailed;
        _applyFailed = applyFailed;
    }

    /// <summary>Starts the writer thread on <paramref name="connection"/>, which it owns and disposes from now on. Writes queued before wait for it.</summary>
    public void Start(TConnection connection)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            if (_thread is not null)
            {
                throw new InvalidOperationException($"The writer {_name} is already running.");
            }

            _connection = connection;
            _thread = new Thread(Loop) { IsBackground = true, Name = _name };
            _thread.Start();
        }
    }

    /// <summary>True once <see cref="Start"/> ran.</summary>
    public bool Started => Volatile.Read(ref _thread) is not null;

    /// <summary>
    /// Runs <paramref name="execute"/> inside the next group transaction; after the commit <paramref name="apply"/> runs
    /// on the writer thread, before any later transaction's, and then the task completes with the result. If
    /// <paramref name="execute"/> throws, its changes are rolled back (the others in the group are not) and the task
    /// fails with that exception. <paramref name="execute"/> may run more than once, so it must only touch the database.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<TConnection, T> execute, Action<T>? apply = null)
    {
        var write = new PendingWrite<T>(execute, apply);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            _writes.Enqueue(write);
            if (!_awake)
            {
                _awake = true;
                _signal.Set();
            }
        }

        return write.Completion.Task;
    }

    /// <summary>Lets the queued writes finish, stops the thread and closes the connection; later writes are refused.</summary>
    public void Dispose()
    {
        Thread? thread;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _stopping = true;
            _signal.Set();
            thread = _thread;
        }

        if (thread is not null && thread != Thread.CurrentThread)
        {
            thread.Join();
        }

        // Writes that never ran: the writer was not started, or it left.
        lock (_lock)
        {
            while (_writes.TryDequeue(out var write))
            {
                write.Fail(new ObjectDisposedException(_name));
            }
        }

        _connection?.Dispose();
        _signal.Dispose();
    }

    private void Loop()
    {
        var batch = new List<IPendingWrite>(MaxBatch);
        while (true)
        {
            _signal.Wait();
            bool stop;
            lock (_lock)
            {
                while (batch.Count < MaxBatch && _writes.TryDequeue(out var write))
                {
                    batch.Add(write);
                }

                if (_writes.Count == 0)
                {
                    _awake = false;
                    if (!_stopping)
                    {
                        _signal.Reset();
                    }
                }

                stop = _stopping && batch.Count == 0;
            }

            if (stop)
            {
                return;
            }

            RunBatch(batch);
            batch.Clear();
        }
    }

    // Optimistic grouping: run every write in one transaction; when one throws, roll the transaction back, fail that
    // write alone and run the others again. Failures are rare, savepoints on every write would cost each of them two
    // more statements.
    private void RunBatch(List<IPendingWrite> batch)
    {
        var connection = _connection!;
        while (batch.Count > 0)
        {
            var failed = -1;
            try
            {
                connection.Begin();
                for (var i = 0; i < batch.Count; i++)
                {
                    try
                    {
                        batch[i].Execute(connection);
                    }
                    catch (Exception exception)
                    {
                        failed = i;
                        batch[i].Fail(exception);
                        break;
                    }
                }

                if (failed >= 0)
                {
                    connection.Rollback();
                    batch.RemoveAt(failed);
                    continue;
                }

                connection.Commit();
            }
            catch (Exception exception)
            {
                _writeFailed(exception, batch.Count);
                connection.RollbackQuietly();
                foreach (var write in batch)
                {
                    write.Fail(exception);
                }

                return;
            }

            foreach (var write in batch)
            {
                try
                {
                    write.Apply();
                }
                catch (Exception exception)
                {
                    _applyFailed(exception);
                }

                write.Complete();
            }

            return;
        }
    }

    private interface IPendingWrite
    {
        void Execute(TConnection connection);

        void Apply();

        void Complete();

        void Fail(Exception exception);
    }

    private sealed class PendingWrite<T>(Func<TConnection, T> execute, Action<T>? apply) : IPendingWrite
    {
        private T _result = default!;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Execute(TConnection connection) => _result = execute(connection);

        public void Apply() => apply?.Invoke(_result);

        public void Complete() => Completion.TrySetResult(_result);

        public void Fail(Exception exception) => Completion.TrySetException(exception);
    }
}
