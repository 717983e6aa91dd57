using System.Globalization;
using System.Text.Json;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Scheduling;

/// <summary>
/// A time index of things that come due (schedule triggers, processes): one row per (due time, id) in a single "due"
/// partition, keyed so a timer reads everything due up to now with one range scan, oldest first, however many things
/// there are. The owner's own record is the truth; a row that disagrees with it is stale and is dropped when found.
/// </summary>
internal sealed class DueIndex<T>(IEntityStore store, string table) where T : class
{
    private const string Partition = "due";
    private readonly EntityTable<T> _rows = new(store, table);

    public Task AddAsync(DateTimeOffset dueAt, string id, T value, CancellationToken cancellationToken) =>
        _rows.UpsertAsync(Partition, Key(dueAt, id), value, cancellationToken);

    public Task DropAsync(DateTimeOffset dueAt, string id, CancellationToken cancellationToken) =>
        _rows.DeleteAsync(Partition, Key(dueAt, id), null, cancellationToken);

    /// <summary>Up to <paramref name="max"/> rows due at or before <paramref name="now"/>, oldest first.</summary>
    public async Task<IReadOnlyList<(DateTimeOffset DueAt, T Value)>> UpToAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var page = await store.QueryAsync(_rows.Name, new EntityQuery
        {
            PartitionKey = Partition,
            RowKeyTo = Ticks(now.UtcTicks + 1),
            Take = Math.Clamp(max, 1, EntityQuery.MaxTake),
        }, cancellationToken);
        return [.. page.Items.Select(e => (
            new DateTimeOffset(long.Parse(e.RowKey.AsSpan(0, 19), CultureInfo.InvariantCulture), TimeSpan.Zero),
            JsonSerializer.Deserialize<T>(e.Json, EntityTable<T>.Json)!))];
    }

    private static string Key(DateTimeOffset at, string id) => Ticks(at.UtcTicks) + "_" + id;

    /// <summary>Fixed-width ticks: row keys sort in time order.</summary>
    public static string Ticks(long ticks) => ticks.ToString("D19", CultureInfo.InvariantCulture);
}

/// <summary>
/// Things that must happen once across instances (a schedule's slot, a process's reaction to one event): the first
/// conditional insert of (owner, what) wins, any later one conflicts. Claims expire after they can matter.
/// </summary>
internal sealed class OnceClaims(IEntityStore store, Expirations expirations, string table)
{
    private readonly EntityTable<Claim> _claims = new(store, table);

    internal sealed record Claim(string Owner, string What, DateTimeOffset ExpiresAt) : IExpiring;

    /// <summary>The claim of a time slot.</summary>
    public static string Slot(DateTimeOffset slot) => "slot_" + DueIndex<Claim>.Ticks(slot.UtcTicks);

    /// <summary>True when this call took (owner, what); false when someone already had.</summary>
    public async Task<bool> ClaimAsync(string owner, string what, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        if (!(await _claims.InsertAsync(owner, what, new Claim(owner, what, expiresAt), cancellationToken)).Succeeded)
        {
            return false;
        }

        await expirations.ScheduleAsync(_claims.Name, owner, what, expiresAt, cancellationToken);
        return true;
    }
}
