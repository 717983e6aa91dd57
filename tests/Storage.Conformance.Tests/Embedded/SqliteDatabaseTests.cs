using Microsoft.Data.Sqlite;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Storage.Conformance.Tests.Embedded;

public sealed class SqliteDatabaseTests : IDisposable
{
    private readonly EmbeddedStorage _storage = new();

    [Fact]
    public void Constructor_CreatesTheDatabaseFileInTheDataDirectory()
    {
        Assert.Equal(Path.Combine(_storage.DataDirectory, SqliteDatabase.FileName), _storage.Database.DatabasePath);
        Assert.True(File.Exists(_storage.Database.DatabasePath));
    }

    [Fact]
    public void Constructor_SecondInstanceOnTheSameFile_KeepsTheData()
    {
        using (var connection = new SqliteConnection(_storage.Database.ConnectionString))
        {
            connection.Open();
            using var insert = SqliteDatabase.Command(connection, "INSERT INTO entities VALUES ('t', 'p', 'r', '{}', 'e', 0)");
            insert.ExecuteNonQuery();
        }

        using var again = new SqliteDatabase(_storage.Options);
        using var reopened = new SqliteConnection(again.ConnectionString);
        reopened.Open();
        using var count = SqliteDatabase.Command(reopened, "SELECT count(*) FROM entities");

        Assert.Equal(1L, count.ExecuteScalar());
    }

    [Fact]
    public async Task OpenConnection_FreshAndPooled_CarryTheConnectionSettings()
    {
        for (var i = 0; i < 3; i++)
        {
            await using var connection = await _storage.Database.OpenConnectionAsync(CancellationToken.None);

            Assert.Equal("wal", await PragmaAsync(connection, "journal_mode"));
            Assert.Equal(1L, await PragmaAsync(connection, "synchronous"));
            Assert.Equal(5000L, await PragmaAsync(connection, "busy_timeout"));
        }
    }

    [Fact]
    public async Task OpenConnection_Concurrent_GivesEachCallerItsOwnConnection()
    {
        await using var first = await _storage.Database.OpenConnectionAsync(CancellationToken.None);
        await using var second = await _storage.Database.OpenConnectionAsync(CancellationToken.None);

        Assert.NotSame(first.Handle, second.Handle);
    }

    [Fact]
    public async Task Writes_ManyAtOnce_ShareTransactionsButStandOrFallAlone()
    {
        var store = new SqliteEntityStore(_storage.Database);
        await store.InsertAsync("grouped", "taken", "r1", "{}", CancellationToken.None);

        // 200 batches at once, grouped by the writer into few transactions: every odd one tries to insert a row that
        // exists as its second write, so it must leave nothing behind, while the even ones beside it keep all they wrote.
        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(() => store.SubmitBatchAsync(
            "grouped", "taken",
            [
                new BatchWrite(BatchWriteKind.Insert, $"b{i}-a", "{}", null),
                new BatchWrite(BatchWriteKind.Insert, i % 2 == 1 ? "r1" : $"b{i}-b", "{}", null),
            ],
            CancellationToken.None))));

        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(i % 2 == 1 ? WriteStatus.Conflict : WriteStatus.Ok, results[i].Status);
            Assert.Equal(i % 2 == 0, await store.GetAsync("grouped", "taken", $"b{i}-a", CancellationToken.None) is not null);
        }

        var page = await store.QueryAsync("grouped", new EntityQuery { PartitionKey = "taken", Take = EntityQuery.MaxTake }, CancellationToken.None);
        Assert.Equal(1 + 100 * 2, page.Items.Count);
    }

    [Fact]
    public async Task Write_ThatThrows_FailsAloneAndTheOthersCommit()
    {
        var store = new SqliteEntityStore(_storage.Database);
        var writes = Enumerable.Range(0, 50).Select(i => i == 25
            ? _storage.Database.WriteAsync<int>(session => session.Command("INSERT INTO no_such_table VALUES (1)").ExecuteNonQuery(), CancellationToken.None)
            : store.UpsertAsync("grouped", "p", $"r{i}", "{}", CancellationToken.None).ContinueWith(t => t.Result.Succeeded ? 1 : 0, TaskScheduler.Default)).ToList();

        await Assert.ThrowsAsync<SqliteException>(() => writes[25]);
        Assert.Equal(49, (await Task.WhenAll(writes.Where((_, i) => i != 25))).Sum());
        var page = await store.QueryAsync("grouped", new EntityQuery { PartitionKey = "p", Take = EntityQuery.MaxTake }, CancellationToken.None);
        Assert.Equal(49, page.Items.Count);
    }

    [Fact]
    public async Task Write_AfterDispose_IsRefused()
    {
        var store = new SqliteEntityStore(_storage.Database);
        await store.UpsertAsync("grouped", "p", "r", "{}", CancellationToken.None);
        _storage.Database.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.UpsertAsync("grouped", "p", "r2", "{}", CancellationToken.None));
    }

    public void Dispose() => _storage.Dispose();

    private static async Task<object?> PragmaAsync(SqliteConnection connection, string name)
    {
        await using var command = SqliteDatabase.Command(connection, $"PRAGMA {name}");
        return await command.ExecuteScalarAsync();
    }
}
