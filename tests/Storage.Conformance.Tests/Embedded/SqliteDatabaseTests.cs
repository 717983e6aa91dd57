using Microsoft.Data.Sqlite;
using Serverless.Functions.Platform.Storage;

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

    public void Dispose() => _storage.Dispose();

    private static async Task<object?> PragmaAsync(SqliteConnection connection, string name)
    {
        await using var command = SqliteDatabase.Command(connection, $"PRAGMA {name}");
        return await command.ExecuteScalarAsync();
    }
}
