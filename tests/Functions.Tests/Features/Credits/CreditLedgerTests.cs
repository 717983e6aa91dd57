using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Functions.Features.Credits;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Storage;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Credits;

/// <summary>
/// The ledger on the embedded store, below HTTP. Two ledgers over one store stand for two instances: each lets its own
/// writers take turns, so between them only the balance row's ETag keeps the balance right.
/// </summary>
public sealed class CreditLedgerTests : IDisposable
{
    private const string User = "usr_ledger";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "credits-" + Guid.NewGuid().ToString("N"));
    private readonly SqliteDatabase _database;
    private readonly SqliteEntityStore _store;
    private readonly ManualClock _clock = new();

    public CreditLedgerTests()
    {
        _database = new SqliteDatabase(Options.Create(new StorageOptions { DataDirectory = _directory }));
        _store = new SqliteEntityStore(_database);
    }

    public void Dispose()
    {
        _database.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private CreditLedger NewLedger(long initialGrant = 0) =>
        new(_store, Options.Create(new CreditsOptions { InitialGrant = initialGrant, ReservationMinutes = 5 }), _clock, NullLogger<CreditLedger>.Instance);

    private static CreditTransaction Usage(string id) => new(id, User, CreditTypes.Usage, 0, 0, "chat", null, DateTimeOffset.UtcNow);

    [Fact]
    public async Task TwoInstances_ReservingAtOnce_NeverHoldMoreThanTheBalance_AndSettleToExactlyTheirCosts()
    {
        var (a, b) = (NewLedger(), NewLedger());
        await a.AdjustAsync(User, 20, CreditTypes.Grant, "seed", "usr_admin", CancellationToken.None);

        var reserved = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => (i % 2 == 0 ? a : b).ReserveAsync(User, $"hold{i}", 3, CancellationToken.None)));
        var holds = Enumerable.Range(0, 40).Where(i => reserved[i].Status == CreditWriteStatus.Applied).ToList();
        await Task.WhenAll(holds.Select(i => (i % 2 == 0 ? b : a).SettleAsync(User, $"hold{i}", 2, Usage($"use{i}"), CancellationToken.None)));
        var retried = await a.SettleAsync(User, $"hold{holds[0]}", 2, Usage($"use{holds[0]}"), CancellationToken.None);

        Assert.Equal(6, holds.Count);
        Assert.Equal(CreditWriteStatus.AlreadyApplied, retried.Status);
        var account = await b.GetAsync(User, CancellationToken.None);
        Assert.Equal(8, account.Balance);
        Assert.Empty(account.Holds);
        var history = (await a.ListAsync(User, ListQuery.Default with { Limit = 100 }, null, CancellationToken.None))!.Items;
        Assert.Equal(6, history.Count(t => t.Type == CreditTypes.Usage));
        Assert.Equal(20 - account.Balance, -history.Where(t => t.Type == CreditTypes.Usage).Sum(t => t.Amount));
        // Newest first, and each row's balance after follows from the one before it.
        Assert.Equal(account.Balance, history[0].BalanceAfter);
        for (var i = 0; i < history.Count - 1; i++)
        {
            Assert.Equal(history[i + 1].BalanceAfter + history[i].Amount, history[i].BalanceAfter);
        }
    }

    [Fact]
    public async Task Hold_NeverSettled_LapsesAfterTheReservationTime()
    {
        var ledger = NewLedger(initialGrant: 5);

        var first = await ledger.ReserveAsync(User, "crashed", 5, CancellationToken.None);
        var blocked = await ledger.ReserveAsync(User, "next", 1, CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(6));
        var later = await ledger.ReserveAsync(User, "later", 1, CancellationToken.None);

        Assert.Equal(CreditWriteStatus.Applied, first.Status);
        Assert.Equal(CreditWriteStatus.Refused, blocked.Status);
        Assert.Equal(CreditWriteStatus.Applied, later.Status);
        Assert.Equal(["later"], later.Account.Holds.Select(h => h.Id));
        var grant = Assert.Single((await ledger.ListAsync(User, ListQuery.Default, null, CancellationToken.None))!.Items);
        Assert.Equal(CreditTypes.Grant, grant.Type);
        Assert.Equal(5, grant.Amount);
    }
}
