using Serverless.Orchestrations.Ports;
using Serverless.Storage.Conformance.Tests.Support;

namespace Serverless.Storage.Conformance.Tests;

/// <summary>What every <see cref="IEntityStore"/> adapter must do; a subclass supplies the adapter.</summary>
public abstract class EntityStoreConformance : StoreConformance<IEntityStore>
{
    private const string Json = """{"value":1}""";

    private readonly string _table = UniqueName.Table();

    [Fact]
    public async Task Get_Missing_ReturnsNull()
    {
        Assert.Null(await Store.GetAsync(_table, "p", "r", Cancellation));
    }

    [Fact]
    public async Task Insert_New_IsReadableWithItsJsonAndETag()
    {
        var before = DateTimeOffset.UtcNow;

        var result = await Store.InsertAsync(_table, "p", "r", Json, Cancellation);

        Assert.Equal(WriteStatus.Ok, result.Status);
        Assert.True(result.Succeeded);
        var entity = await Store.GetAsync(_table, "p", "r", Cancellation);
        Assert.NotNull(entity);
        Assert.Equal(("p", "r", Json, result.ETag), (entity.PartitionKey, entity.RowKey, entity.Json, entity.ETag));
        Assert.InRange(entity.Timestamp, before.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task Insert_Existing_ReturnsConflictAndKeepsOriginal()
    {
        var original = await Store.InsertAsync(_table, "p", "r", Json, Cancellation);

        var second = await Store.InsertAsync(_table, "p", "r", """{"value":2}""", Cancellation);

        Assert.Equal(new WriteResult(WriteStatus.Conflict, null), second);
        var entity = await Store.GetAsync(_table, "p", "r", Cancellation);
        Assert.Equal((Json, original.ETag), (entity?.Json, entity?.ETag));
    }

    [Fact]
    public async Task Upsert_MissingThenExisting_CreatesThenReplaces()
    {
        var created = await Store.UpsertAsync(_table, "p", "r", Json, Cancellation);
        var replaced = await Store.UpsertAsync(_table, "p", "r", """{"value":2}""", Cancellation);

        Assert.Equal((WriteStatus.Ok, WriteStatus.Ok), (created.Status, replaced.Status));
        var entity = await Store.GetAsync(_table, "p", "r", Cancellation);
        Assert.Equal(("""{"value":2}""", replaced.ETag), (entity?.Json, entity?.ETag));
    }

    [Fact]
    public async Task Replace_CurrentETag_ReplacesEntity()
    {
        var inserted = await Store.InsertAsync(_table, "p", "r", Json, Cancellation);

        var replaced = await Store.ReplaceAsync(_table, "p", "r", """{"value":2}""", inserted.ETag!, Cancellation);

        Assert.Equal(WriteStatus.Ok, replaced.Status);
        var entity = await Store.GetAsync(_table, "p", "r", Cancellation);
        Assert.Equal(("""{"value":2}""", replaced.ETag), (entity?.Json, entity?.ETag));
    }

    [Fact]
    public async Task Replace_StaleETag_ReturnsPreconditionFailedAndKeepsEntity()
    {
        var stale = await Store.InsertAsync(_table, "p", "r", Json, Cancellation);
        var current = await Store.UpsertAsync(_table, "p", "r", """{"value":2}""", Cancellation);

        var result = await Store.ReplaceAsync(_table, "p", "r", """{"value":3}""", stale.ETag!, Cancellation);

        Assert.Equal(new WriteResult(WriteStatus.PreconditionFailed, null), result);
        var entity = await Store.GetAsync(_table, "p", "r", Cancellation);
        Assert.Equal(("""{"value":2}""", current.ETag), (entity?.Json, entity?.ETag));
    }

    [Fact]
    public async Task Replace_WildcardETag_ReplacesWhateverIsStored()
    {
        await Store.InsertAsync(_table, "p", "r", Json, Cancellation);
        await Store.UpsertAsync(_table, "p", "r", """{"value":2}""", Cancellation);

        var result = await Store.ReplaceAsync(_table, "p", "r", """{"value":3}""", "*", Cancellation);

        Assert.Equal(WriteStatus.Ok, result.Status);
        Assert.Equal("""{"value":3}""", (await Store.GetAsync(_table, "p", "r", Cancellation))?.Json);
    }

    [Theory]
    [InlineData("*")]
    [InlineData("W/\"no-such-version\"")]
    public async Task Replace_Missing_ReturnsNotFoundAndCreatesNothing(string ifMatch)
    {
        var result = await Store.ReplaceAsync(_table, "p", "r", Json, ifMatch, Cancellation);

        Assert.Equal(new WriteResult(WriteStatus.NotFound, null), result);
        Assert.Null(await Store.GetAsync(_table, "p", "r", Cancellation));
    }

    [Fact]
    public async Task Delete_CurrentETag_RemovesEntity()
    {
        var inserted = await Store.InsertAsync(_table, "p", "r", Json, Cancellation);

        var result = await Store.DeleteAsync(_table, "p", "r", inserted.ETag, Cancellation);

        Assert.Equal(new WriteResult(WriteStatus.Ok, null), result);
        Assert.Null(await Store.GetAsync(_table, "p", "r", Cancellation));
    }

    [Fact]
    public async Task Delete_StaleETag_ReturnsPreconditionFailedAndKeepsEntity()
    {
        var stale = await Store.InsertAsync(_table, "p", "r", Json, Cancellation);
        await Store.UpsertAsync(_table, "p", "r", """{"value":2}""", Cancellation);

        var result = await Store.DeleteAsync(_table, "p", "r", stale.ETag, Cancellation);

        Assert.Equal(new WriteResult(WriteStatus.PreconditionFailed, null), result);
        Assert.Equal("""{"value":2}""", (await Store.GetAsync(_table, "p", "r", Cancellation))?.Json);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("*")]
    public async Task Delete_Unconditional_RemovesWhateverIsStored(string? ifMatch)
    {
        await Store.InsertAsync(_table, "p", "r", Json, Cancellation);
        await Store.UpsertAsync(_table, "p", "r", """{"value":2}""", Cancellation);

        var result = await Store.DeleteAsync(_table, "p", "r", ifMatch, Cancellation);

        Assert.Equal(WriteStatus.Ok, result.Status);
        Assert.Null(await Store.GetAsync(_table, "p", "r", Cancellation));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("*")]
    [InlineData("W/\"no-such-version\"")]
    public async Task Delete_Missing_ReturnsNotFound(string? ifMatch)
    {
        var result = await Store.DeleteAsync(_table, "p", "r", ifMatch, Cancellation);

        Assert.Equal(new WriteResult(WriteStatus.NotFound, null), result);
    }

    [Fact]
    public async Task Write_EveryWrite_GivesNewETag()
    {
        var etags = new List<string?>
        {
            (await Store.InsertAsync(_table, "p", "r", Json, Cancellation)).ETag,
            (await Store.UpsertAsync(_table, "p", "r", Json, Cancellation)).ETag,
        };
        etags.Add((await Store.ReplaceAsync(_table, "p", "r", Json, etags[^1]!, Cancellation)).ETag);
        etags.Add((await Store.ReplaceAsync(_table, "p", "r", Json, "*", Cancellation)).ETag);

        Assert.All(etags, etag => Assert.False(string.IsNullOrEmpty(etag)));
        Assert.Equal(etags.Count, etags.Distinct().Count());
        Assert.Equal(etags[^1], (await Store.GetAsync(_table, "p", "r", Cancellation))?.ETag);
    }

    [Fact]
    public async Task Tables_SameKeys_AreIndependent()
    {
        var other = UniqueName.Table();
        await Store.InsertAsync(_table, "p", "r", Json, Cancellation);

        Assert.Equal(WriteStatus.Ok, (await Store.InsertAsync(other, "p", "r", """{"value":2}""", Cancellation)).Status);
        await Store.DeleteAsync(other, "p", "r", null, Cancellation);

        Assert.Equal(Json, (await Store.GetAsync(_table, "p", "r", Cancellation))?.Json);
        Assert.Empty((await Store.QueryAsync(other, new EntityQuery(), Cancellation)).Items);
    }

    [Fact]
    public async Task Json_UnicodeAndEscapes_RoundTripsExactly()
    {
        const string json = """{"name":"Zoë – 日本語 😀","escaped":"caf\u00e9 \"quoted\" \\ slash","nested":{"list":[1,2.5,null,true]}, "spaced" : 1 }""";
        await Store.InsertAsync(_table, "p", "r", json, Cancellation);

        var entity = await Store.GetAsync(_table, "p", "r", Cancellation);
        var page = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = "p" }, Cancellation);

        Assert.Equal(json, entity?.Json);
        Assert.Equal(json, Assert.Single(page.Items).Json);
    }

    [Fact]
    public async Task Json_LargerThanOneTableProperty_RoundTripsThroughEveryOperation()
    {
        // Azure Table Storage holds at most 64 KiB in one property; a document several times that must still work.
        var large = $$"""{"text":"{{new string('é', 100_000)}}","n":1}""";
        var larger = $$"""{"text":"{{new string('ü', 150_000)}}","n":2}""";

        var inserted = await Store.InsertAsync(_table, "p", "r", large, Cancellation);
        var afterInsert = await Store.GetAsync(_table, "p", "r", Cancellation);
        var replaced = await Store.ReplaceAsync(_table, "p", "r", larger, inserted.ETag!, Cancellation);
        var page = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = "p" }, Cancellation);

        Assert.Equal((large, inserted.ETag), (afterInsert?.Json, afterInsert?.ETag));
        Assert.Equal(WriteStatus.Ok, replaced.Status);
        Assert.Equal((larger, replaced.ETag), (Assert.Single(page.Items).Json, page.Items[0].ETag));
        Assert.Equal(WriteStatus.Ok, (await Store.DeleteAsync(_table, "p", "r", replaced.ETag, Cancellation)).Status);
        Assert.Null(await Store.GetAsync(_table, "p", "r", Cancellation));
    }

    [Fact]
    public async Task Keys_UnicodeAndPunctuation_RoundTrip()
    {
        const string partitionKey = "Zoë 日本 😀 ~!@$%^&*()";
        const string rowKey = "row 'quoted' \"double\" ;--";
        await Store.InsertAsync(_table, partitionKey, rowKey, Json, Cancellation);

        var entity = await Store.GetAsync(_table, partitionKey, rowKey, Cancellation);

        Assert.Equal((partitionKey, rowKey), (entity?.PartitionKey, entity?.RowKey));
    }

    [Fact]
    public async Task Insert_EmptyJson_Throws()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.InsertAsync(_table, "p", "r", "", Cancellation));
        Assert.Null(await Store.GetAsync(_table, "p", "r", Cancellation));
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("1table")]
    [InlineData("my-table")]
    [InlineData("my_table")]
    [InlineData("")]
    [InlineData("t123456789012345678901234567890123456789012345678901234567890123")]
    public async Task AnyOperation_InvalidTableName_Throws(string table)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.InsertAsync(table, "p", "r", Json, Cancellation));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.GetAsync(table, "p", "r", Cancellation));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.QueryAsync(table, new EntityQuery(), Cancellation));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("a#b")]
    [InlineData("a?b")]
    [InlineData("a\\b")]
    [InlineData("a\u0001b")]
    [InlineData("a\nb")]
    [InlineData("a\u007fb")]
    public async Task AnyOperation_InvalidKey_Throws(string key)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.InsertAsync(_table, key, "r", Json, Cancellation));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.InsertAsync(_table, "p", key, Json, Cancellation));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.UpsertAsync(_table, "p", key, Json, Cancellation));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.GetAsync(_table, key, "r", Cancellation));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.DeleteAsync(_table, "p", key, null, Cancellation));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.QueryAsync(_table, new EntityQuery { PartitionKey = key }, Cancellation));
        Assert.Empty((await Store.QueryAsync(_table, new EntityQuery(), Cancellation)).Items);
    }

    [Fact]
    public async Task AnyOperation_KeyOver512Chars_Throws()
    {
        await Store.InsertAsync(_table, "p", new string('k', 512), Json, Cancellation);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.InsertAsync(_table, "p", new string('k', 513), Json, Cancellation));
        Assert.NotNull(await Store.GetAsync(_table, "p", new string('k', 512), Cancellation));
    }

    [Fact]
    public async Task Query_Partition_ReturnsOnlyThatPartitionInRowKeyOrder()
    {
        await InsertAllAsync(("p1", "c"), ("p2", "a"), ("p1", "a"), ("p0", "b"), ("p1", "b"));

        var page = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = "p1" }, Cancellation);

        Assert.Equal(["p1/a", "p1/b", "p1/c"], Keys(page));
        Assert.Null(page.ContinuationToken);
    }

    [Fact]
    public async Task Query_Prefix_ReturnsExactlyTheRowKeysStartingWithIt()
    {
        // 'a{' is the first string after every 'az…', the edge a prefix-to-range translation must get right.
        await InsertAllAsync(("p", "a"), ("p", "ay"), ("p", "az"), ("p", "az0"), ("p", "az~~"), ("p", "a{"), ("p", "b"), ("q", "az1"));

        var page = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = "p", RowKeyPrefix = "az" }, Cancellation);

        Assert.Equal(["p/az", "p/az0", "p/az~~"], Keys(page));
    }

    [Fact]
    public async Task Query_PrefixEndingInHighCharacter_StillBoundsTheScan()
    {
        await InsertAllAsync(("p", "a\uffff"), ("p", "a\uffffz"), ("p", "b"), ("p", "a😀"), ("p", "a😀x"), ("p", "a😁"));

        var bmp = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = "p", RowKeyPrefix = "a\uffff" }, Cancellation);
        var astral = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = "p", RowKeyPrefix = "a😀" }, Cancellation);

        Assert.Equal(["p/a\uffff", "p/a\uffffz"], Keys(bmp));
        Assert.Equal(["p/a😀", "p/a😀x"], Keys(astral));
    }

    [Fact]
    public async Task Query_Range_IncludesFromAndExcludesTo()
    {
        await InsertAllAsync(("p", "a"), ("p", "b"), ("p", "bb"), ("p", "c"), ("p", "d"), ("p", "e"));

        var bounded = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = "p", RowKeyFrom = "b", RowKeyTo = "d" }, Cancellation);
        var fromOnly = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = "p", RowKeyFrom = "d" }, Cancellation);
        var toOnly = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = "p", RowKeyTo = "b" }, Cancellation);

        Assert.Equal(["p/b", "p/bb", "p/c"], Keys(bounded));
        Assert.Equal(["p/d", "p/e"], Keys(fromOnly));
        Assert.Equal(["p/a"], Keys(toOnly));
    }

    [Fact]
    public async Task Query_AllPartitions_OrdersByPartitionThenRowKeyOrdinally()
    {
        await InsertAllAsync(("a", "b"), ("B", "z"), ("a", "B"), ("b", "a"), ("B", "a"), ("a", "a"));

        var page = await Store.QueryAsync(_table, new EntityQuery(), Cancellation);

        Assert.Equal(["B/a", "B/z", "a/B", "a/a", "a/b", "b/a"], Keys(page));
    }

    [Fact]
    public async Task Query_RangeAcrossPartitions_AppliesToEveryPartition()
    {
        await InsertAllAsync(("p1", "a"), ("p1", "m"), ("p2", "m"), ("p2", "z"), ("p3", "n"));

        var page = await Store.QueryAsync(_table, new EntityQuery { RowKeyFrom = "m", RowKeyTo = "y" }, Cancellation);

        Assert.Equal(["p1/m", "p2/m", "p3/n"], Keys(page));
    }

    [Theory]
    [InlineData(null, 1)]
    [InlineData(null, 4)]
    [InlineData("p1", 2)]
    [InlineData(null, 26)]
    public async Task Query_Paged_ReturnsEveryEntityExactlyOnceInOrder(string? partitionKey, int take)
    {
        var keys = new List<(string, string)>();
        foreach (var pk in new[] { "p0", "p1", "p2" })
        {
            for (var i = 0; i < 9; i++)
            {
                keys.Add((pk, $"r{i:00}"));
            }
        }

        await InsertAllAsync([.. keys]);
        var expected = keys.Where(k => partitionKey is null || k.Item1 == partitionKey).Select(k => $"{k.Item1}/{k.Item2}").ToList();

        var seen = new List<string>();
        var pages = 0;
        string? token = null;
        do
        {
            var page = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = partitionKey, Take = take, ContinuationToken = token }, Cancellation);
            Assert.InRange(page.Items.Count, 0, take);
            seen.AddRange(Keys(page));
            token = page.ContinuationToken;
            pages++;
            Assert.True(pages <= expected.Count + 1, "The scan does not end.");
        }
        while (token is not null);

        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task Query_PagedPrefix_KeepsThePrefixOnLaterPages()
    {
        await InsertAllAsync(("p", "a1"), ("p", "b1"), ("p", "b2"), ("p", "b3"), ("p", "c1"));

        var first = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = "p", RowKeyPrefix = "b", Take = 2 }, Cancellation);
        var second = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = "p", RowKeyPrefix = "b", Take = 2, ContinuationToken = first.ContinuationToken }, Cancellation);

        Assert.Equal(["p/b1", "p/b2"], Keys(first));
        Assert.NotNull(first.ContinuationToken);
        Assert.Equal(["p/b3"], Keys(second));
        Assert.Null(second.ContinuationToken);
    }

    [Fact]
    public async Task Query_ResultsFillPageExactly_ReturnsNoToken()
    {
        await InsertAllAsync(("p", "a"), ("p", "b"), ("p", "c"));

        var page = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = "p", Take = 3 }, Cancellation);

        Assert.Equal(3, page.Items.Count);
        Assert.Null(page.ContinuationToken);
    }

    [Fact]
    public async Task Query_EmptyTable_ReturnsEmptyPageWithoutToken()
    {
        var page = await Store.QueryAsync(_table, new EntityQuery(), Cancellation);

        Assert.Empty(page.Items);
        Assert.Null(page.ContinuationToken);
    }

    [Fact]
    public async Task Query_ReturnsJsonETagAndTimestamp()
    {
        var inserted = await Store.InsertAsync(_table, "p", "r", Json, Cancellation);

        var item = Assert.Single((await Store.QueryAsync(_table, new EntityQuery(), Cancellation)).Items);

        Assert.Equal(await Store.GetAsync(_table, "p", "r", Cancellation), item);
        Assert.Equal(inserted.ETag, item.ETag);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(EntityQuery.MaxTake + 1)]
    public async Task Query_TakeOutOfRange_Throws(int take)
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.QueryAsync(_table, new EntityQuery { Take = take }, Cancellation));
    }

    [Fact]
    public async Task Query_MaxTake_IsAccepted()
    {
        var page = await Store.QueryAsync(_table, new EntityQuery { Take = EntityQuery.MaxTake }, Cancellation);

        Assert.Empty(page.Items);
    }

    [Fact]
    public async Task Query_PrefixWithRange_Throws()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.QueryAsync(_table, new EntityQuery { RowKeyPrefix = "a", RowKeyFrom = "a" }, Cancellation));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.QueryAsync(_table, new EntityQuery { RowKeyPrefix = "a", RowKeyTo = "b" }, Cancellation));
    }

    [Theory]
    [InlineData("not a token!")]
    [InlineData("AAAA")]
    public async Task Query_MalformedContinuationToken_Throws(string token)
    {
        await Store.InsertAsync(_table, "p", "r", Json, Cancellation);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.QueryAsync(_table, new EntityQuery { ContinuationToken = token }, Cancellation));
    }

    [Fact]
    public async Task Insert_ConcurrentSameKey_ExactlyOneSucceeds()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => Store.InsertAsync(_table, "p", "r", $$"""{"writer":{{i}}}""", Cancellation))));

        var winner = Assert.Single(results, r => r.Status == WriteStatus.Ok);
        Assert.All(results.Where(r => !r.Succeeded), r => Assert.Equal(WriteStatus.Conflict, r.Status));
        Assert.Equal(winner.ETag, (await Store.GetAsync(_table, "p", "r", Cancellation))?.ETag);
    }

    [Fact]
    public async Task Replace_ConcurrentWithSameETag_ExactlyOneSucceeds()
    {
        var inserted = await Store.InsertAsync(_table, "p", "r", Json, Cancellation);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => Store.ReplaceAsync(_table, "p", "r", $$"""{"writer":{{i}}}""", inserted.ETag!, Cancellation))));

        var winner = Array.FindIndex(results, r => r.Status == WriteStatus.Ok);
        Assert.Single(results, r => r.Status == WriteStatus.Ok);
        Assert.All(results.Where(r => !r.Succeeded), r => Assert.Equal(WriteStatus.PreconditionFailed, r.Status));
        var entity = await Store.GetAsync(_table, "p", "r", Cancellation);
        Assert.Equal(($$"""{"writer":{{winner}}}""", results[winner].ETag), (entity?.Json, entity?.ETag));
    }

    [Fact]
    public async Task Batch_MixedWrites_AllApplyWithTheirETags()
    {
        var kept = await Store.InsertAsync(_table, "p", "replace", Json, Cancellation);
        await Store.InsertAsync(_table, "p", "delete", Json, Cancellation);

        var result = await Store.SubmitBatchAsync(_table, "p",
        [
            BatchWrite.Insert("insert", """{"value":"i"}"""),
            BatchWrite.Upsert("upsert", """{"value":"u"}"""),
            BatchWrite.Replace("replace", """{"value":"r"}""", kept.ETag!),
            BatchWrite.Delete("delete"),
        ], Cancellation);

        Assert.True(result.Succeeded);
        Assert.Null(result.FailedIndex);
        Assert.Equal(4, result.ETags.Count);
        Assert.Null(result.ETags[3]);
        var page = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = "p" }, Cancellation);
        Assert.Equal(["insert", "replace", "upsert"], page.Items.Select(e => e.RowKey));
        Assert.Equal(
            [("insert", """{"value":"i"}""", result.ETags[0]), ("replace", """{"value":"r"}""", result.ETags[2]), ("upsert", """{"value":"u"}""", result.ETags[1])],
            page.Items.Select(e => (e.RowKey, e.Json, (string?)e.ETag)));
    }

    [Theory]
    [InlineData("insert-existing", WriteStatus.Conflict)]
    [InlineData("replace-stale", WriteStatus.PreconditionFailed)]
    [InlineData("replace-missing", WriteStatus.NotFound)]
    [InlineData("delete-missing", WriteStatus.NotFound)]
    [InlineData("delete-stale", WriteStatus.PreconditionFailed)]
    public async Task Batch_OneWriteFails_NothingAppliesAndTheFailureIsNamed(string failure, WriteStatus expected)
    {
        var existing = await Store.InsertAsync(_table, "p", "existing", Json, Cancellation);
        await Store.ReplaceAsync(_table, "p", "existing", Json, existing.ETag!, Cancellation);
        var failing = failure switch
        {
            "insert-existing" => BatchWrite.Insert("existing", """{"value":2}"""),
            "replace-stale" => BatchWrite.Replace("existing", """{"value":2}""", existing.ETag!),
            "replace-missing" => BatchWrite.Replace("missing", """{"value":2}""", "*"),
            "delete-missing" => BatchWrite.Delete("missing"),
            _ => BatchWrite.Delete("existing", existing.ETag!),
        };
        var before = await Store.GetAsync(_table, "p", "existing", Cancellation);

        var result = await Store.SubmitBatchAsync(_table, "p", [BatchWrite.Insert("a", Json), BatchWrite.Upsert("b", Json), failing], Cancellation);

        Assert.Equal((expected, (int?)2), (result.Status, result.FailedIndex));
        Assert.False(result.Succeeded);
        var page = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = "p" }, Cancellation);
        Assert.Equal(["existing"], page.Items.Select(e => e.RowKey));
        Assert.Equal((before!.Json, before.ETag), (page.Items[0].Json, page.Items[0].ETag));
    }

    [Fact]
    public async Task Batch_HundredWrites_IsAccepted()
    {
        var result = await Store.SubmitBatchAsync(_table, "p", [.. Enumerable.Range(0, EntityBatch.MaxWrites).Select(i => BatchWrite.Insert($"r{i:D3}", Json))], Cancellation);

        Assert.True(result.Succeeded);
        var page = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = "p", Take = EntityQuery.MaxTake }, Cancellation);
        Assert.Equal(EntityBatch.MaxWrites, page.Items.Count);
    }

    [Fact]
    public async Task Batch_LargeDocument_RoundTrips()
    {
        var large = $$"""{"text":"{{new string('x', 100_000)}}"}""";

        var result = await Store.SubmitBatchAsync(_table, "p", [BatchWrite.Insert("large", large), BatchWrite.Insert("small", Json)], Cancellation);

        Assert.True(result.Succeeded);
        Assert.Equal(large, (await Store.GetAsync(_table, "p", "large", Cancellation))?.Json);
    }

    [Fact]
    public async Task Batch_InvalidShape_Throws()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.SubmitBatchAsync(_table, "p", [], Cancellation));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.SubmitBatchAsync(_table, "p", [BatchWrite.Insert("a", Json), BatchWrite.Upsert("a", Json)], Cancellation));
        await Assert.ThrowsAsync<ArgumentException>(() =>
            Store.SubmitBatchAsync(_table, "p", [.. Enumerable.Range(0, EntityBatch.MaxWrites + 1).Select(i => BatchWrite.Insert($"r{i}", Json))], Cancellation));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.SubmitBatchAsync(_table, "p", [BatchWrite.Insert("bad/key", Json)], Cancellation));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.SubmitBatchAsync(_table, "p", [new BatchWrite(BatchWriteKind.Replace, "a", Json)], Cancellation));
    }

    [Fact]
    public async Task Batch_ConcurrentReplacesOfOneRow_ExactlyOneApplies()
    {
        var inserted = await Store.InsertAsync(_table, "p", "r", Json, Cancellation);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            Store.SubmitBatchAsync(_table, "p", [BatchWrite.Replace("r", $$"""{"writer":{{i}}}""", inserted.ETag!), BatchWrite.Upsert($"side{i}", Json)], Cancellation))));

        var winner = Assert.Single(results, r => r.Succeeded);
        Assert.All(results.Where(r => !r.Succeeded), r => Assert.Equal(WriteStatus.PreconditionFailed, r.Status));
        var page = await Store.QueryAsync(_table, new EntityQuery { PartitionKey = "p", RowKeyPrefix = "side" }, Cancellation);
        Assert.Single(page.Items);
    }

    private static List<string> Keys(EntityPage page) => page.Items.Select(e => $"{e.PartitionKey}/{e.RowKey}").ToList();

    private async Task InsertAllAsync(params (string PartitionKey, string RowKey)[] keys)
    {
        foreach (var (partitionKey, rowKey) in keys)
        {
            var result = await Store.InsertAsync(_table, partitionKey, rowKey, Json, Cancellation);
            Assert.Equal(WriteStatus.Ok, result.Status);
        }
    }
}
