using Serverless.Functions.Platform.Storage.AzureStorage;
using Serverless.Orchestrations.Ports;
using Serverless.Storage.Conformance.Tests.Support;

namespace Serverless.Storage.Conformance.Tests.Azure;

public sealed class AzureTableEntityStoreTests : EntityStoreConformance
{
    private static readonly string Large = Document('a', AzureTableEntityStore.MaxInlineChars + 1);

    [Fact]
    public async Task Write_DocumentLargerThanATableProperty_SpillsIntoOneBlob()
    {
        var table = UniqueName.Table();

        await Store.InsertAsync(table, "p", "r", Large, Cancellation);

        Assert.Single(await SpilledBlobsAsync(table));
        Assert.Equal(Large, (await Store.GetAsync(table, "p", "r", Cancellation))?.Json);
    }

    [Fact]
    public async Task Write_DocumentThatFitsAProperty_StaysInTheTable()
    {
        var table = UniqueName.Table();

        await Store.InsertAsync(table, "p", "r", Document('a', AzureTableEntityStore.MaxInlineChars), Cancellation);

        Assert.Empty(await SpilledBlobsAsync(table));
    }

    [Fact]
    public async Task Replace_SpilledEntityReadFirst_DeletesTheSupersededBlob()
    {
        var table = UniqueName.Table();
        await Store.InsertAsync(table, "p", "r", Large, Cancellation);
        var read = await Store.GetAsync(table, "p", "r", Cancellation);

        var bigger = Document('b', AzureTableEntityStore.MaxInlineChars * 2);
        await Store.ReplaceAsync(table, "p", "r", bigger, read!.ETag, Cancellation);
        var small = await Store.GetAsync(table, "p", "r", Cancellation);
        await Store.ReplaceAsync(table, "p", "r", """{"small":true}""", small!.ETag, Cancellation);

        Assert.Empty(await SpilledBlobsAsync(table));
        Assert.Equal("""{"small":true}""", (await Store.GetAsync(table, "p", "r", Cancellation))?.Json);
    }

    [Fact]
    public async Task Replace_SpilledEntityWithStaleETag_KeepsTheCurrentBlobAndLeavesNoOrphan()
    {
        var table = UniqueName.Table();
        var stale = await Store.InsertAsync(table, "p", "r", Large, Cancellation);
        await Store.UpsertAsync(table, "p", "r", Document('c', AzureTableEntityStore.MaxInlineChars + 10), Cancellation);

        var result = await Store.ReplaceAsync(table, "p", "r", Document('d', AzureTableEntityStore.MaxInlineChars + 20), stale.ETag!, Cancellation);

        Assert.Equal(WriteStatus.PreconditionFailed, result.Status);
        Assert.Single(await SpilledBlobsAsync(table));
        Assert.StartsWith("""{"fill":"ccc""", (await Store.GetAsync(table, "p", "r", Cancellation))?.Json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_SpilledEntity_DeletesItsBlob()
    {
        var table = UniqueName.Table();
        var inserted = await Store.InsertAsync(table, "p", "r", Large, Cancellation);

        await Store.DeleteAsync(table, "p", "r", inserted.ETag, Cancellation);

        Assert.Empty(await SpilledBlobsAsync(table));
    }

    protected override Task<IEntityStore> CreateStoreAsync() => AzuriteStorage.GetAsync<IEntityStore>();

    private static string Document(char fill, int length) => "{\"fill\":\"" + new string(fill, length - 11) + "\"}";

    private async Task<List<string>> SpilledBlobsAsync(string table)
    {
        var blobs = await AzuriteStorage.GetAsync<IBlobStore>();
        var names = new List<string>();
        await foreach (var blob in blobs.ListAsync(AzureTableEntityStore.SpillContainer, table + "/", Cancellation))
        {
            names.Add(blob.Name);
        }

        return names;
    }
}
