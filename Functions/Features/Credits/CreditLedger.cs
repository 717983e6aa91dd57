using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Credits;

internal static class CreditTypes
{
    public const string TopUp = "TOP_UP";
    public const string Usage = "USAGE";
    public const string Grant = "GRANT";
    public const string Refund = "REFUND";

    public static readonly IReadOnlyList<string> All = [TopUp, Usage, Grant, Refund];

    /// <summary>What an admin may post: usage is only ever written by model calls.</summary>
    public static readonly IReadOnlyList<string> Adjustments = [TopUp, Grant, Refund];
}

/// <summary>Funds a running model call set aside; they lapse at <see cref="ExpiresAt"/> if the call never settles.</summary>
internal sealed record CreditHold(string Id, long Amount, DateTimeOffset ExpiresAt);

/// <summary>A user's balance and the reservations of their calls in flight: what is available is the balance less those.</summary>
internal sealed record CreditAccount(string UserId, long Balance, IReadOnlyList<CreditHold> Holds, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public long Held(DateTimeOffset now) => Holds.Where(h => h.ExpiresAt > now).Sum(h => h.Amount);

    public long Available(DateTimeOffset now) => Balance - Held(now);
}

/// <summary>One change of a balance, never changed afterwards; <see cref="Amount"/> is signed (usage negative).</summary>
internal sealed record CreditTransaction(
    string Id, string UserId, string Type, long Amount, long BalanceAfter, string? Reason, string? ActorId, DateTimeOffset CreatedAt,
    string? WorkspaceId = null, string? Model = null, string? UsageId = null, decimal? CostUsd = null);

/// <summary>A transaction's id taken: a retry with the same id finds it and changes nothing.</summary>
internal sealed record CreditMarker(string RowKey);

/// <summary>A user who has an account, for the admin list of balances.</summary>
internal sealed record CreditAccountEntry(string UserId, DateTimeOffset CreatedAt);

internal enum CreditWriteStatus
{
    Applied,
    /// <summary>A transaction with this id was already written: nothing changed this time.</summary>
    AlreadyApplied,
    /// <summary>The change was refused (it would take the balance below zero); nothing changed.</summary>
    Refused,
}

internal sealed record CreditWrite(CreditWriteStatus Status, CreditAccount Account, CreditTransaction? Transaction);

/// <summary>
/// Credit balances. A user's partition holds their balance row, their transactions (row keys newest first) and one
/// marker per transaction id; a change writes the balance (ETag-conditional) together with its transaction and marker
/// in one atomic batch, so balance and history never drift and a retried change with the same id is applied once.
/// Writers on one instance take turns per user (by a fixed set of lock stripes; fewer ETag conflicts); across instances the ETag decides and the loser
/// retries on the fresh balance. Every transaction is also copied to a platform-wide list (best effort, after the batch)
/// for the admin list; the user's partition is the record.
/// </summary>
internal sealed class CreditLedger(IEntityStore store, IOptions<CreditsOptions> options, TimeProvider time, ILogger<CreditLedger> logger)
{
    private const string BalanceRow = "balance";
    private const string TransactionPrefix = "t:";
    private const string MarkerPrefix = "i:";
    private const string AllPartition = "all";
    private const int MaxAttempts = 100;

    private readonly EntityTable<CreditAccount> _credits = new(store, "credits");
    private readonly EntityTable<CreditAccountEntry> _accounts = new(store, "creditaccounts");
    private readonly EntityTable<CreditTransaction> _all = new(store, "credittransactions");
    // Turns by stripe, not by user: a fixed set whatever the number of users (two users of one stripe take turns too,
    // which costs them little; a dictionary of one lock per user would grow for as long as the instance lives).
    private readonly SemaphoreSlim[] _turns = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    /// <summary>The user's account, opened (with the initial grant) when it does not exist yet.</summary>
    public async Task<CreditAccount> GetAsync(string userId, CancellationToken cancellationToken) =>
        (await ReadAsync(userId, cancellationToken)).Value;

    /// <summary>Sets <paramref name="amount"/> aside for a call; refused when less than that is available.</summary>
    public Task<CreditWrite> ReserveAsync(string userId, string holdId, long amount, CancellationToken cancellationToken)
    {
        var expires = time.GetUtcNow().AddMinutes(options.Value.ReservationMinutes);
        return ChangeAsync(userId, null, (account, now) =>
            account.Available(now) < amount
                ? null
                : (account with { Holds = [.. Live(account, now), new CreditHold(holdId, amount, expires)] }, null), cancellationToken);
    }

    /// <summary>
    /// Ends a hold and charges <paramref name="cost"/> credits as one USAGE transaction. A cost above what is available
    /// (the hold plus what no other call holds) is clamped to it, so a balance never goes below zero.
    /// </summary>
    public Task<CreditWrite> SettleAsync(string userId, string holdId, long cost, CreditTransaction usage, CancellationToken cancellationToken) =>
        ChangeAsync(userId, cost > 0 ? usage.Id : null, (account, now) =>
        {
            var hold = account.Holds.FirstOrDefault(h => h.Id == holdId);
            var others = Live(account, now).Where(h => h.Id != holdId).ToList();
            var charge = Math.Clamp(cost, 0, Math.Max(0, account.Balance - others.Sum(h => h.Amount)));
            if (charge < cost)
            {
                CreditsLog.Clamped(logger, usage.UsageId ?? usage.Id, userId, cost, charge, hold?.Amount ?? 0);
            }

            var after = account with { Balance = account.Balance - charge, Holds = others };
            return charge == 0
                ? (hold is null ? null : (after, null))
                : (after, usage with { Amount = -charge, BalanceAfter = after.Balance });
        }, cancellationToken, alwaysWrite: true);

    /// <summary>Adds <paramref name="amount"/> (negative: takes it away); refused when less would remain available than zero.</summary>
    public Task<CreditWrite> AdjustAsync(string userId, long amount, string type, string? reason, string actorId, CancellationToken cancellationToken)
    {
        var id = Secrets.NewId("ctx");
        return ChangeAsync(userId, id, (account, now) =>
        {
            if (account.Available(now) + amount < 0)
            {
                return null;
            }

            var after = account with { Balance = account.Balance + amount, Holds = Live(account, now).ToList() };
            return (after, new CreditTransaction(id, userId, type, amount, after.Balance, reason, actorId, now));
        }, cancellationToken);
    }

    /// <summary>The user's transactions, newest first.</summary>
    public Task<PageResult<CreditTransaction>?> ListAsync(string userId, ListQuery query, string? type, CancellationToken cancellationToken) =>
        ScanPaging.PageAsync<CreditTransaction>(store, _credits.Name, new EntityQuery { PartitionKey = userId, RowKeyPrefix = TransactionPrefix }, query,
            TypeFilter(type), cancellationToken);

    /// <summary>Every user's transactions, newest first.</summary>
    public Task<PageResult<CreditTransaction>?> ListAllAsync(ListQuery query, string? type, CancellationToken cancellationToken) =>
        ScanPaging.PageAsync<CreditTransaction>(store, _all.Name, new EntityQuery { PartitionKey = AllPartition, RowKeyPrefix = TransactionPrefix }, query,
            TypeFilter(type), cancellationToken);

    /// <summary>The users who have an account, in id order.</summary>
    public Task<PageResult<CreditAccountEntry>?> ListAccountsAsync(ListQuery query, CancellationToken cancellationToken) =>
        ScanPaging.PageAsync<CreditAccountEntry>(store, _accounts.Name, new EntityQuery { PartitionKey = AllPartition }, query, null, cancellationToken);

    private static Func<CreditTransaction, bool>? TypeFilter(string? type) => type is null ? null : t => t.Type == type;

    private static IEnumerable<CreditHold> Live(CreditAccount account, DateTimeOffset now) => account.Holds.Where(h => h.ExpiresAt > now);

    /// <summary>
    /// Applies <paramref name="change"/> (null: refused) to the fresh account until its write wins. With a transaction
    /// the write is a batch: balance (if-match), transaction, marker. <paramref name="alwaysWrite"/>: a refusal is not
    /// an outcome the change can have (settling), null only means nothing to write.
    /// </summary>
    private async Task<CreditWrite> ChangeAsync(
        string userId, string? transactionId, Func<CreditAccount, DateTimeOffset, (CreditAccount Account, CreditTransaction? Transaction)?> change,
        CancellationToken cancellationToken, bool alwaysWrite = false)
    {
        var turn = _turns[(uint)StringComparer.Ordinal.GetHashCode(userId) % (uint)_turns.Length];
        await turn.WaitAsync(cancellationToken);
        try
        {
            for (var attempt = 0; attempt < MaxAttempts; attempt++)
            {
                var current = await ReadAsync(userId, cancellationToken);
                var now = time.GetUtcNow();
                if (change(current.Value, now) is not { } next)
                {
                    return new CreditWrite(alwaysWrite ? CreditWriteStatus.Applied : CreditWriteStatus.Refused, current.Value, null);
                }

                var account = next.Account with { UpdatedAt = now };
                var balanceJson = JsonSerializer.Serialize(account, EntityTable<CreditAccount>.Json);
                if (next.Transaction is not { } transaction)
                {
                    var replaced = await store.ReplaceAsync(_credits.Name, userId, BalanceRow, balanceJson, current.ETag, cancellationToken);
                    if (replaced.Succeeded)
                    {
                        return new CreditWrite(CreditWriteStatus.Applied, account, null);
                    }
                }
                else
                {
                    // Dated when applied, not when the caller made it: a change succeeds only on the balance the one before
                    // it wrote, and reads the clock after reading that balance, so newest-first by this time is the order
                    // the balance changed in, and each row's balance-after follows from the row before it.
                    transaction = transaction with { CreatedAt = now };
                    var rowKey = TransactionKey(transaction);
                    var result = await store.SubmitBatchAsync(_credits.Name, userId,
                    [
                        BatchWrite.Replace(BalanceRow, balanceJson, current.ETag),
                        BatchWrite.Insert(rowKey, JsonSerializer.Serialize(transaction, EntityTable<CreditTransaction>.Json)),
                        BatchWrite.Insert(MarkerPrefix + (transactionId ?? transaction.Id), JsonSerializer.Serialize(new CreditMarker(rowKey), EntityTable<CreditMarker>.Json)),
                    ], cancellationToken);
                    if (result.Succeeded)
                    {
                        await _all.UpsertAsync(AllPartition, rowKey, transaction, cancellationToken);
                        return new CreditWrite(CreditWriteStatus.Applied, account, transaction);
                    }

                    if (result is { Status: WriteStatus.Conflict, FailedIndex: 2 })
                    {
                        return new CreditWrite(CreditWriteStatus.AlreadyApplied, current.Value, null);
                    }
                }

                // Another instance wrote the balance first: read it again (after a short pause once it keeps happening).
                if (attempt >= 3)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 25 * Math.Min(attempt, 8))), time, cancellationToken);
                }
            }

            throw new InvalidOperationException($"The credit balance of {userId} kept changing under {MaxAttempts} attempts to update it.");
        }
        finally
        {
            turn.Release();
        }
    }

    private async Task<Stored<CreditAccount>> ReadAsync(string userId, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await _credits.GetAsync(userId, BalanceRow, cancellationToken) is { } stored)
            {
                return stored;
            }

            await OpenAsync(userId, cancellationToken);
        }
    }

    /// <summary>Opens the account with the initial grant; two openers race harmlessly (one batch wins, both read it after).</summary>
    private async Task OpenAsync(string userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        // Listed first: an account never exists without its entry in the admin list.
        await _accounts.UpsertAsync(AllPartition, userId, new CreditAccountEntry(userId, now), cancellationToken);
        var grant = options.Value.InitialGrant;
        var account = new CreditAccount(userId, grant, [], now, now);
        var writes = new List<BatchWrite> { BatchWrite.Insert(BalanceRow, JsonSerializer.Serialize(account, EntityTable<CreditAccount>.Json)) };
        CreditTransaction? transaction = null;
        if (grant > 0)
        {
            transaction = new CreditTransaction("initial-" + userId, userId, CreditTypes.Grant, grant, grant, "Initial grant", null, now);
            var rowKey = TransactionKey(transaction);
            writes.Add(BatchWrite.Insert(rowKey, JsonSerializer.Serialize(transaction, EntityTable<CreditTransaction>.Json)));
            writes.Add(BatchWrite.Insert(MarkerPrefix + transaction.Id, JsonSerializer.Serialize(new CreditMarker(rowKey), EntityTable<CreditMarker>.Json)));
        }

        if ((await store.SubmitBatchAsync(_credits.Name, userId, writes, cancellationToken)).Succeeded && transaction is not null)
        {
            await _all.UpsertAsync(AllPartition, TransactionKey(transaction), transaction, cancellationToken);
        }
    }

    /// <summary>Newest first in key order: the time counts down; the id keeps keys of one instant apart.</summary>
    private static string TransactionKey(CreditTransaction transaction) =>
        TransactionPrefix + (DateTimeOffset.MaxValue.UtcTicks - transaction.CreatedAt.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + ":" + transaction.Id;
}
