using System.Text.Json;
using Serverless.Orchestrations.Ports;
using Serverless.Storage.Conformance.Tests.Support;

namespace Serverless.Storage.Conformance.Tests;

/// <summary>
/// Lists served from index rows (<see cref="IndexedTable{T}"/>) behave alike on every entity-store adapter: every
/// order and direction pages through every item exactly once in the order an in-memory sort gives, filters and ranges
/// narrow in the store, writes move index rows atomically, and partitions written before the index get indexed.
/// </summary>
public abstract class IndexedTableConformance : StoreConformance<IEntityStore>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly ListIndex<Item> Index = Definition(version: 1);

    private readonly string _table = UniqueName.Table();

    public sealed record Item(string Id, string Name, string Status, int Rank);

    private IndexedTable<Item> Table => new(Store, _table, Index, Json);

    public static TheoryData<string, bool> Orders => new() { { "name", false }, { "name", true }, { "rank", false }, { "rank", true } };

    [Theory]
    [MemberData(nameof(Orders))]
    public async Task List_EveryOrderAndDirection_PagesEveryItemOnceInSortedOrder(string order, bool descending)
    {
        var items = Sample();
        foreach (var item in items)
        {
            Assert.True((await Table.InsertAsync("p", item, Cancellation)).Succeeded);
        }

        var listed = await ListAllAsync(new IndexQuery<Item> { Order = order, Descending = descending, Limit = 3 });

        Assert.Equal(Sorted(items, order, descending).Select(i => i.Id), listed.Select(i => i.Id));
    }

    [Theory]
    [MemberData(nameof(Orders))]
    public async Task List_StatusFilter_ListsOnlyThatStatusInOrder(string order, bool descending)
    {
        var items = Sample();
        foreach (var item in items)
        {
            await Table.InsertAsync("p", item, Cancellation);
        }

        var listed = await ListAllAsync(new IndexQuery<Item> { Order = order, Descending = descending, Limit = 2, Filter = ("status", "done") });

        Assert.Equal(Sorted(items.Where(i => i.Status == "done"), order, descending).Select(i => i.Id), listed.Select(i => i.Id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task List_Range_HoldsSortKeysFromInclusiveToExclusive(bool descending)
    {
        var items = Sample();
        foreach (var item in items)
        {
            await Table.InsertAsync("p", item, Cancellation);
        }

        var listed = await ListAllAsync(new IndexQuery<Item> { Order = "rank", Descending = descending, Limit = 4, From = Rank(3), To = Rank(7) });

        Assert.Equal(
            Sorted(items.Where(i => i.Rank is >= 3 and < 7), "rank", descending).Select(i => i.Id),
            listed.Select(i => i.Id));
    }

    [Fact]
    public async Task List_Where_DropsItemsAndABoundedScanEndsThePageEarlyWithAPosition()
    {
        for (var i = 0; i < 30; i++)
        {
            await Table.InsertAsync("p", new Item($"i{i:D2}", $"n{i:D2}", "todo", i), Cancellation);
        }

        var first = await Table.ListAsync("p", new IndexQuery<Item> { Order = "rank", Limit = 5, Where = i => i.Rank >= 25, ScanLimit = 10 }, Cancellation);
        var listed = await ListAllAsync(new IndexQuery<Item> { Order = "rank", Limit = 5, Where = i => i.Rank % 7 == 0, ScanLimit = 10 });

        Assert.Empty(first.Items);
        Assert.NotNull(first.Next);
        Assert.Equal(["i00", "i07", "i14", "i21", "i28"], listed.Select(i => i.Id));
    }

    [Fact]
    public async Task Update_ChangesSortKeyAndStatus_ListsItOnlyUnderItsNewState()
    {
        await Table.InsertAsync("p", new Item("a", "alpha", "todo", 1), Cancellation);
        await Table.InsertAsync("p", new Item("b", "beta", "todo", 2), Cancellation);

        var updated = await Table.UpdateAsync("p", "a", i => i with { Name = "zulu", Status = "done", Rank = 9 }, Cancellation);

        Assert.Equal("zulu", updated?.Value.Name);
        Assert.Equal(["b", "a"], (await ListAllAsync(new IndexQuery<Item> { Order = "name" })).Select(i => i.Id));
        Assert.Equal(["b"], (await ListAllAsync(new IndexQuery<Item> { Order = "name", Filter = ("status", "todo") })).Select(i => i.Id));
        Assert.Equal(["a"], (await ListAllAsync(new IndexQuery<Item> { Order = "rank", Filter = ("status", "done") })).Select(i => i.Id));
        Assert.Equal(Index.RowKeys(updated!.Value).Concat(Index.RowKeys(new Item("b", "beta", "todo", 2))).Order(StringComparer.Ordinal), await IndexRowKeysAsync());
    }

    [Fact]
    public async Task Delete_RemovesTheItemAndEveryIndexRow()
    {
        await Table.InsertAsync("p", new Item("a", "alpha", "todo", 1), Cancellation);

        var deleted = await Table.DeleteAsync("p", "a", null, Cancellation);

        Assert.True(deleted.Succeeded);
        Assert.Null(await Table.GetAsync("p", "a", Cancellation));
        Assert.Empty(await IndexRowKeysAsync());
        Assert.Equal(WriteStatus.NotFound, (await Table.DeleteAsync("p", "a", null, Cancellation)).Status);
    }

    [Fact]
    public async Task Replace_StaleItem_FailsAndLeavesIndexAsItWas()
    {
        await Table.InsertAsync("p", new Item("a", "alpha", "todo", 1), Cancellation);
        var read = await Table.GetAsync("p", "a", Cancellation);
        await Table.UpdateAsync("p", "a", i => i with { Status = "done" }, Cancellation);

        var stale = await Table.ReplaceAsync("p", read!, read!.Value with { Status = "blocked" }, Cancellation);

        Assert.Equal(WriteStatus.PreconditionFailed, stale.Status);
        Assert.Equal(Index.RowKeys(new Item("a", "alpha", "done", 1)).Order(StringComparer.Ordinal), await IndexRowKeysAsync());
    }

    [Fact]
    public async Task Update_Concurrent_IndexMatchesTheFinalItem()
    {
        await Table.InsertAsync("p", new Item("a", "alpha", "todo", 0), Cancellation);

        await Task.WhenAll(Enumerable.Range(1, 8).Select(n => Task.Run(() =>
            Table.UpdateAsync("p", "a", i => i with { Rank = i.Rank + n, Status = n % 2 == 0 ? "done" : "todo", Name = $"name{n}" }, Cancellation))));

        var final = (await Table.GetAsync("p", "a", Cancellation))!.Value;
        Assert.Equal(36, final.Rank);
        Assert.Equal(Index.RowKeys(final).Order(StringComparer.Ordinal), await IndexRowKeysAsync());
    }

    [Fact]
    public async Task List_PartitionWrittenWithoutIndex_IsIndexedOnFirstList()
    {
        var items = Sample();
        foreach (var item in items)
        {
            await Store.InsertAsync(_table, "p", item.Id, JsonSerializer.Serialize(item, Json), Cancellation);
        }

        var listed = await ListAllAsync(new IndexQuery<Item> { Order = "name", Limit = 4 });
        await Table.UpdateAsync("p", items[0].Id, i => i with { Status = "archived" }, Cancellation);

        Assert.Equal(Sorted(items, "name", false).Select(i => i.Id), listed.Select(i => i.Id));
        Assert.Equal([items[0].Id], (await ListAllAsync(new IndexQuery<Item> { Order = "name", Filter = ("status", "archived") })).Select(i => i.Id));
    }

    [Fact]
    public async Task List_LegacyRowsUnderOtherKeys_AreMovedUnderTheirIds()
    {
        var legacy = new IndexedTable<Item>(Store, _table, Index, Json, e => JsonSerializer.Deserialize<Item>(e.Json, Json));
        await Store.InsertAsync(_table, "p", "0001_a", JsonSerializer.Serialize(new Item("a", "alpha", "todo", 1), Json), Cancellation);
        await Store.InsertAsync(_table, "p", "0002_b", JsonSerializer.Serialize(new Item("b", "beta", "todo", 2), Json), Cancellation);

        var page = await legacy.ListAsync("p", new IndexQuery<Item> { Order = "rank" }, Cancellation);

        Assert.Equal(["a", "b"], page.Items.Select(i => i.Id));
        var rows = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = "p", RowKeyTo = "~" }, Cancellation);
        Assert.Equal(["a", "b"], rows.Items.Select(e => e.RowKey));
    }

    [Fact]
    public async Task List_NewIndexVersion_RebuildsTheRows()
    {
        await Table.InsertAsync("p", new Item("a", "alpha", "todo", 1), Cancellation);
        await Table.ListAsync("p", new IndexQuery<Item> { Order = "name" }, Cancellation);
        var v2 = new ListIndex<Item>(2, i => i.Id, new Dictionary<string, Func<Item, string>> { ["rank"] = i => Rank(i.Rank) });

        var page = await new IndexedTable<Item>(Store, _table, v2, Json).ListAsync("p", new IndexQuery<Item> { Order = "rank" }, Cancellation);

        Assert.Equal(["a"], page.Items.Select(i => i.Id));
        Assert.Equal(v2.RowKeys(new Item("a", "alpha", "todo", 1)).Order(StringComparer.Ordinal), await IndexRowKeysAsync());
    }

    [Fact]
    public async Task List_LargeItem_IsReadThroughItsRow()
    {
        var large = new Item("a", new string('x', 20_000), "todo", 1);

        await Table.InsertAsync("p", large, Cancellation);
        var page = await Table.ListAsync("p", new IndexQuery<Item> { Order = "rank" }, Cancellation);

        Assert.Equal(large, Assert.Single(page.Items));
    }

    [Fact]
    public async Task List_PositionOfAnotherList_Throws()
    {
        await Table.InsertAsync("p", new Item("a", "alpha", "todo", 1), Cancellation);
        await Table.InsertAsync("p", new Item("b", "beta", "todo", 2), Cancellation);
        var page = await Table.ListAsync("p", new IndexQuery<Item> { Order = "name", Limit = 1 }, Cancellation);

        await Assert.ThrowsAsync<ArgumentException>(() => Table.ListAsync("p", new IndexQuery<Item> { Order = "rank", After = page.Next }, Cancellation));
        await Assert.ThrowsAsync<ArgumentException>(() => Table.ListAsync("p", new IndexQuery<Item> { Order = "nope" }, Cancellation));
    }

    [Fact]
    public async Task Partitions_AreIndependent()
    {
        await Table.InsertAsync("p1", new Item("a", "alpha", "todo", 1), Cancellation);
        await Table.InsertAsync("p2", new Item("b", "beta", "todo", 2), Cancellation);

        var page = await Table.ListAsync("p1", new IndexQuery<Item> { Order = "name" }, Cancellation);

        Assert.Equal(["a"], page.Items.Select(i => i.Id));
    }

    [Fact]
    public async Task List_LongFilterValues_NarrowToExactlyTheirItems()
    {
        var longA = "wf_" + new string('a', 60);
        var longB = "wf_" + new string('a', 59) + "b";
        await Table.InsertAsync("p", new Item("a", "alpha", longA, 1), Cancellation);
        await Table.InsertAsync("p", new Item("b", "beta", longB, 2), Cancellation);

        var page = await Table.ListAsync("p", new IndexQuery<Item> { Order = "rank", Filter = ("status", longB) }, Cancellation);

        Assert.Equal(["b"], page.Items.Select(i => i.Id));
    }

    [Fact]
    public async Task Append_ManyItems_ListsEachOnceInOrder_AndAnAppendAgainChangesNothing()
    {
        // Nine rows an item: the 40 items span four batches.
        var items = Enumerable.Range(0, 40).Select(i => new Item($"a{i:D2}", $"n{(i * 17) % 40:D2}", i % 2 == 0 ? "done" : "todo", i)).ToList();

        await Table.AppendAsync("p", items, Cancellation);
        await Table.AppendAsync("p", items.Take(5), Cancellation);

        Assert.Equal(Sorted(items, "name", true).Select(i => i.Id), (await ListAllAsync(new IndexQuery<Item> { Order = "name", Descending = true, Limit = 7 })).Select(i => i.Id));
        Assert.Equal(Sorted(items.Where(i => i.Status == "done"), "rank", false).Select(i => i.Id),
            (await ListAllAsync(new IndexQuery<Item> { Order = "rank", Filter = ("status", "done"), Limit = 7 })).Select(i => i.Id));
        Assert.Equal(items.SelectMany(Index.RowKeys).Order(StringComparer.Ordinal), await IndexRowKeysAsync());
    }

    [Fact]
    public void Definition_ItemIdInTheReservedRange_Throws() =>
        Assert.Throws<ArgumentException>(() => Index.RowKeys(new Item("~a", "x", "todo", 1)).ToList());

    private static ListIndex<Item> Definition(int version) => new(
        version,
        i => i.Id,
        new Dictionary<string, Func<Item, string>> { ["name"] = i => i.Name, ["rank"] = i => Rank(i.Rank) },
        new Dictionary<string, Func<Item, string?>> { ["status"] = i => i.Status });

    private static string Rank(int rank) => rank.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);

    // Names that stress the key encoding: prefixes of one another, ties, case, punctuation, non-Latin and astral text,
    // and one longer than the kept sort key (ties broken by id).
    private static List<Item> Sample()
    {
        string[] names = ["b", "ab", "a", "abc", "a", "Zed", "zed", "a b", "a-b", "über", "日本", "😀x", "", new string('q', 60) + "1", new string('q', 60) + "0", "~tilde", "ab "];
        string[] statuses = ["todo", "done", "blocked"];
        return [.. names.Select((name, i) => new Item($"id{(i * 7919 % 97):D2}-{i}", name, statuses[i % 3], i % 10))];
    }

    private static IEnumerable<Item> Sorted(IEnumerable<Item> items, string order, bool descending)
    {
        var keyed = items.Select(i => (Key: Cut(order == "name" ? i.Name : Rank(i.Rank)), i.Id, Item: i)).ToList();
        keyed.Sort((a, b) =>
        {
            var c = string.CompareOrdinal(a.Key, b.Key);
            c = c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
            return descending ? -c : c;
        });
        return keyed.Select(k => k.Item);
    }

    private static string Cut(string key) => key.Length > ListIndex<Item>.MaxSortChars ? key[..ListIndex<Item>.MaxSortChars] : key;

    private async Task<List<Item>> ListAllAsync(IndexQuery<Item> query)
    {
        var items = new List<Item>();
        string? after = null;
        for (var pages = 0; pages < 100; pages++)
        {
            var page = await Table.ListAsync("p", query with { After = after }, Cancellation);
            Assert.True(page.Items.Count <= query.Limit);
            items.AddRange(page.Items);
            if (page.Next is null)
            {
                return items;
            }

            after = page.Next;
        }

        throw new InvalidOperationException("The list did not end within 100 pages.");
    }

    private async Task<List<string>> IndexRowKeysAsync()
    {
        var keys = new List<string>();
        var query = new EntityQuery { PartitionKey = "p", RowKeyPrefix = "~ix|", Take = EntityQuery.MaxTake };
        while (true)
        {
            var page = await Store.QueryAsync(_table, query, Cancellation);
            keys.AddRange(page.Items.Select(e => e.RowKey));
            if (page.ContinuationToken is null)
            {
                return [.. keys.Order(StringComparer.Ordinal)];
            }

            query = query with { ContinuationToken = page.ContinuationToken };
        }
    }
}
