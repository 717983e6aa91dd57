using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;
using Serverless.Storage.Conformance.Tests.Support;

namespace Serverless.Storage.Conformance.Tests.Embedded;

public sealed class FileBlobStoreTests : BlobStoreConformance
{
    private readonly EmbeddedStorage _storage = new();

    [Fact]
    public async Task Upload_StoresContentAsAPlainFileUnderTheContainer()
    {
        var container = UniqueName.Container();

        await Store.UploadAsync(container, "a/b.txt", new MemoryStream("plain"u8.ToArray()), "text/plain", overwrite: true, Cancellation);

        Assert.Equal("plain", await File.ReadAllTextAsync(Path.Combine(_storage.DataDirectory, "blobs", container, "a", "b.txt"), Cancellation));
    }

    [Fact]
    public async Task List_FileWithoutSidecar_IsListedWithDefaultsAndAStableETag()
    {
        var container = UniqueName.Container();
        var folder = Directory.CreateDirectory(Path.Combine(_storage.DataDirectory, "blobs", container));
        await File.WriteAllTextAsync(Path.Combine(folder.FullName, "dropped.txt"), "by hand", Cancellation);

        var listed = new List<BlobInfo>();
        await foreach (var info in Store.ListAsync(container, null, Cancellation))
        {
            listed.Add(info);
        }

        var blob = Assert.Single(listed);
        Assert.Equal(("dropped.txt", 7L, FileBlobStore.DefaultContentType), (blob.Name, blob.Length, blob.ContentType));
        Assert.Equal(blob, await Store.GetInfoAsync(container, "dropped.txt", Cancellation));
    }

    [Fact]
    public async Task Delete_LastBlobInAFolder_LetsThatFolderNameBecomeABlob()
    {
        var container = UniqueName.Container();
        await Store.UploadAsync(container, "a/b", new MemoryStream([1]), null, overwrite: true, Cancellation);
        await Store.DeleteAsync(container, "a/b", Cancellation);

        var uploaded = await Store.UploadAsync(container, "a", new MemoryStream([2]), null, overwrite: false, Cancellation);

        Assert.NotNull(uploaded);
        Assert.False(Directory.Exists(Path.Combine(_storage.DataDirectory, "blobs", ".meta", container, "a")));
    }

    [Theory]
    [InlineData("a", "a/b")]
    [InlineData("a/b", "a")]
    [InlineData("a", "a/b/c")]
    public async Task Upload_NameClashingWithAFolder_IsNotSupportedAndKeepsTheExistingBlob(string existing, string clashing)
    {
        // Azure holds 'a' and 'a/b' side by side; a file cannot also be a folder, so this adapter refuses plainly.
        var container = UniqueName.Container();
        var kept = await Store.UploadAsync(container, existing, new MemoryStream([1]), null, overwrite: true, Cancellation);

        var error = await Assert.ThrowsAsync<NotSupportedException>(() =>
            Store.UploadAsync(container, clashing, new MemoryStream([2]), null, overwrite: true, Cancellation));

        Assert.Contains($"'{existing}'", error.Message, StringComparison.Ordinal);
        Assert.Equal(kept, await Store.GetInfoAsync(container, existing, Cancellation));
        Assert.Null(await Store.GetInfoAsync(container, clashing, Cancellation));
    }

    [Fact]
    public async Task Upload_Finished_LeavesNoTemporaryFiles()
    {
        var container = UniqueName.Container();
        await Store.UploadAsync(container, "x", new MemoryStream([1]), null, overwrite: true, Cancellation);
        await Store.UploadAsync(container, "x", new MemoryStream([2]), null, overwrite: false, Cancellation);

        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_storage.DataDirectory, "blobs", ".tmp")));
    }

    protected override Task<IBlobStore> CreateStoreAsync() =>
        Task.FromResult<IBlobStore>(new FileBlobStore(_storage.Options));

    protected override Task DisposeStoreAsync()
    {
        _storage.Dispose();
        return Task.CompletedTask;
    }
}
