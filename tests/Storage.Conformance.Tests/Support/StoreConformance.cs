namespace Serverless.Storage.Conformance.Tests.Support;

/// <summary>
/// Base of every conformance suite: a subclass says how to create the store under test (embedded, or Azure
/// against Azurite) and inherits every test. Each test makes its own table, queue or container names, so a
/// subclass may hand every test the same store.
/// </summary>
public abstract class StoreConformance<TStore> : IAsyncLifetime
    where TStore : class
{
    // Bounds every call, so that a hung adapter fails its own test instead of stalling the run.
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _timeout = new();
    private TStore? _store;

    protected TStore Store => _store ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    protected CancellationToken Cancellation => _timeout.Token;

    public async Task InitializeAsync()
    {
        _store = await CreateStoreAsync();
        // Counted from here, not from construction: the first test of a run also waits for its store to come up
        // (Azurite installed with npm ci and started), which on a busy machine took the whole budget.
        _timeout.CancelAfter(TestTimeout);
    }

    public async Task DisposeAsync()
    {
        await DisposeStoreAsync();
        _timeout.Dispose();
    }

    protected abstract Task<TStore> CreateStoreAsync();

    protected virtual Task DisposeStoreAsync() => Task.CompletedTask;
}
