using System.Text;
using Serverless.Orchestrations.Ports;
using Serverless.Storage.Conformance.Tests.Support;

namespace Serverless.Storage.Conformance.Tests;

/// <summary>What every <see cref="IBlobStore"/> adapter must do; a subclass supplies the adapter.</summary>
public abstract class BlobStoreConformance : StoreConformance<IBlobStore>
{
    private const string OctetStream = "application/octet-stream";

    private readonly string _container = UniqueName.Container();

    [Fact]
    public async Task Upload_MultiMegabyteStream_DownloadsTheSameBytes()
    {
        const long length = (5 * 1024 * 1024) + 123;
        await using (var content = new GeneratedStream(length, seed: 1))
        {
            await Store.UploadAsync(_container, "big.bin", content, null, overwrite: true, Cancellation);
        }

        await using var download = await Store.OpenReadAsync(_container, "big.bin", Cancellation);

        Assert.NotNull(download);
        Assert.Equal(length, download.Info.Length);
        await GeneratedStream.AssertContentAsync(download.Content, length, seed: 1, Cancellation);
    }

    [Fact]
    public async Task Upload_ReturnsTheInfoThatGetInfoAndDownloadReport()
    {
        var before = DateTimeOffset.UtcNow;

        var uploaded = await UploadTextAsync("doc.json", """{"a":1}""", "application/json");

        Assert.NotNull(uploaded);
        Assert.Equal((_container, "doc.json", 7L, "application/json"), (uploaded.Container, uploaded.Name, uploaded.Length, uploaded.ContentType));
        Assert.False(string.IsNullOrEmpty(uploaded.ETag));
        Assert.InRange(uploaded.LastModified, before.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(uploaded, await Store.GetInfoAsync(_container, "doc.json", Cancellation));
        await using var download = await Store.OpenReadAsync(_container, "doc.json", Cancellation);
        Assert.Equal(uploaded, download?.Info);
    }

    [Fact]
    public async Task Upload_WithoutContentType_DefaultsToOctetStream()
    {
        var uploaded = await UploadTextAsync("raw", "bytes", contentType: null);

        Assert.Equal(OctetStream, uploaded?.ContentType);
        Assert.Equal(OctetStream, (await Store.GetInfoAsync(_container, "raw", Cancellation))?.ContentType);
    }

    [Fact]
    public async Task Upload_EmptyStream_StoresAnEmptyBlob()
    {
        var uploaded = await UploadTextAsync("empty", "");

        Assert.Equal(0, uploaded?.Length);
        Assert.Equal("", await DownloadTextAsync("empty"));
    }

    [Fact]
    public async Task Upload_OverwriteFalseOnExistingBlob_ReturnsNullAndKeepsOriginal()
    {
        var original = await UploadTextAsync("keep.txt", "original", "text/plain");

        var second = await Store.UploadAsync(_container, "keep.txt", new MemoryStream("replacement"u8.ToArray()), "text/html", overwrite: false, Cancellation);

        Assert.Null(second);
        Assert.Equal("original", await DownloadTextAsync("keep.txt"));
        Assert.Equal(original, await Store.GetInfoAsync(_container, "keep.txt", Cancellation));
    }

    [Fact]
    public async Task Upload_OverwriteFalseOnNewBlob_Stores()
    {
        var uploaded = await Store.UploadAsync(_container, "new.txt", new MemoryStream("fresh"u8.ToArray()), null, overwrite: false, Cancellation);

        Assert.NotNull(uploaded);
        Assert.Equal("fresh", await DownloadTextAsync("new.txt"));
    }

    [Fact]
    public async Task Upload_Overwrite_ReplacesContentAndChangesETag()
    {
        var first = await UploadTextAsync("file.txt", "same", "text/plain");
        var second = await UploadTextAsync("file.txt", "same", "text/plain");
        var third = await UploadTextAsync("file.txt", "different", "text/markdown");

        Assert.Equal(3, new[] { first?.ETag, second?.ETag, third?.ETag }.Distinct().Count());
        Assert.Equal("different", await DownloadTextAsync("file.txt"));
        Assert.Equal(third, await Store.GetInfoAsync(_container, "file.txt", Cancellation));
    }

    [Fact]
    public async Task Upload_NamesWithSlashes_WorkLikeAnyOtherName()
    {
        await UploadTextAsync("a/b/c/deep.txt", "deep");
        await UploadTextAsync("a/b/sibling.txt", "sibling");

        Assert.Equal("deep", await DownloadTextAsync("a/b/c/deep.txt"));
        Assert.Equal("sibling", await DownloadTextAsync("a/b/sibling.txt"));
        Assert.Null(await Store.GetInfoAsync(_container, "a/b", Cancellation));
        Assert.Null(await Store.OpenReadAsync(_container, "a/b", Cancellation));
        Assert.Equal("a/b/c/deep.txt", (await Store.GetInfoAsync(_container, "a/b/c/deep.txt", Cancellation))?.Name);
    }

    [Fact]
    public async Task Upload_UnicodeName_RoundTrips()
    {
        await UploadTextAsync("Zoë/日本語 😀.txt", "unicode");

        Assert.Equal("unicode", await DownloadTextAsync("Zoë/日本語 😀.txt"));
        Assert.Equal(["Zoë/日本語 😀.txt"], await ListNamesAsync(null));
    }

    [Fact]
    public async Task OpenRead_DuringOverwrites_AlwaysSeesOneWholeVersion()
    {
        // Each version's content type names its seed, so a download pairing one version's properties with
        // another's bytes fails as surely as a torn one.
        const long length = 512 * 1024;
        await UploadGeneratedAsync("hot.bin", length, seed: 0);

        var writer = Task.Run(async () =>
        {
            for (var i = 1; i <= 6; i++)
            {
                await UploadGeneratedAsync("hot.bin", length, seed: i % 2);
            }
        });
        var reads = 0;
        while (!writer.IsCompleted || reads < 3)
        {
            await using var download = await Store.OpenReadAsync(_container, "hot.bin", Cancellation);
            Assert.NotNull(download);
            var seed = int.Parse(download.Info.ContentType["application/x-seed-".Length..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(length, download.Info.Length);
            await GeneratedStream.AssertContentAsync(download.Content, length, seed, Cancellation);
            reads++;
        }

        await writer;
    }

    [Fact]
    public async Task GetInfo_Missing_ReturnsNull()
    {
        await UploadTextAsync("present", "x");

        Assert.Null(await Store.GetInfoAsync(_container, "absent", Cancellation));
        Assert.Null(await Store.GetInfoAsync(UniqueName.Container(), "present", Cancellation));
    }

    [Fact]
    public async Task OpenRead_Missing_ReturnsNull()
    {
        await UploadTextAsync("present", "x");

        Assert.Null(await Store.OpenReadAsync(_container, "absent", Cancellation));
        Assert.Null(await Store.OpenReadAsync(UniqueName.Container(), "present", Cancellation));
    }

    [Fact]
    public async Task Delete_Existing_RemovesBlobAndReturnsTrue()
    {
        await UploadTextAsync("a/doomed.txt", "x");
        await UploadTextAsync("a/survivor.txt", "y");

        Assert.True(await Store.DeleteAsync(_container, "a/doomed.txt", Cancellation));

        Assert.Null(await Store.GetInfoAsync(_container, "a/doomed.txt", Cancellation));
        Assert.Null(await Store.OpenReadAsync(_container, "a/doomed.txt", Cancellation));
        Assert.Equal(["a/survivor.txt"], await ListNamesAsync(null));
    }

    [Fact]
    public async Task Delete_Missing_ReturnsFalse()
    {
        Assert.False(await Store.DeleteAsync(_container, "never-was", Cancellation));
    }

    [Fact]
    public async Task Delete_ThenUploadAgain_StartsAFreshBlob()
    {
        var first = await UploadTextAsync("x/y", "one", "text/plain");
        await Store.DeleteAsync(_container, "x/y", Cancellation);

        var second = await Store.UploadAsync(_container, "x/y", new MemoryStream("two"u8.ToArray()), null, overwrite: false, Cancellation);

        Assert.NotNull(second);
        Assert.NotEqual(first?.ETag, second.ETag);
        Assert.Equal(OctetStream, second.ContentType);
        Assert.Equal("two", await DownloadTextAsync("x/y"));
    }

    [Fact]
    public async Task List_Prefix_ReturnsMatchingBlobsInOrdinalOrder()
    {
        foreach (var name in new[] { "b/2", "a/1", "a-x", "a/0/z", "ab", "c", "A", "a/10", "a/1-b/c" })
        {
            await UploadTextAsync(name, name);
        }

        // '-' (0x2D) sorts before '/' (0x2F), which sorts before '0' (0x30): names, not folders, decide the order.
        Assert.Equal(["a-x", "a/0/z", "a/1", "a/1-b/c", "a/10", "ab"], await ListNamesAsync("a"));
        Assert.Equal(["a/0/z", "a/1", "a/1-b/c", "a/10"], await ListNamesAsync("a/"));
        Assert.Equal(["a/1", "a/1-b/c", "a/10"], await ListNamesAsync("a/1"));
        Assert.Equal(["A", "a-x", "a/0/z", "a/1", "a/1-b/c", "a/10", "ab", "b/2", "c"], await ListNamesAsync(null));
        Assert.Empty(await ListNamesAsync("zzz"));
    }

    [Fact]
    public async Task List_ReportsEachBlobsInfo()
    {
        var uploaded = await UploadTextAsync("dir/info.txt", "12345", "text/plain");

        var listed = new List<BlobInfo>();
        await foreach (var info in Store.ListAsync(_container, "dir/", Cancellation))
        {
            listed.Add(info);
        }

        Assert.Equal(uploaded, Assert.Single(listed));
    }

    [Fact]
    public async Task List_EmptyOrUnknownContainer_ReturnsNothing()
    {
        Assert.Empty(await ListNamesAsync(null));
    }

    [Fact]
    public async Task Containers_SameNames_AreIndependent()
    {
        var other = UniqueName.Container();
        await UploadTextAsync("shared.txt", "mine");
        await Store.UploadAsync(other, "shared.txt", new MemoryStream("theirs"u8.ToArray()), null, overwrite: true, Cancellation);

        await Store.DeleteAsync(other, "shared.txt", Cancellation);

        Assert.Equal("mine", await DownloadTextAsync("shared.txt"));
        Assert.Null(await Store.GetInfoAsync(other, "shared.txt", Cancellation));
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/../../b")]
    [InlineData("a/./b")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a//b")]
    [InlineData("/a")]
    [InlineData("a/")]
    [InlineData("\\")]
    [InlineData("a\\..\\b")]
    [InlineData("a\u0000b")]
    [InlineData("")]
    public async Task AnyOperation_UnsafeBlobName_Throws(string name)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.UploadAsync(_container, name, new MemoryStream([1]), null, overwrite: true, Cancellation));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.OpenReadAsync(_container, name, Cancellation));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.GetInfoAsync(_container, name, Cancellation));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.DeleteAsync(_container, name, Cancellation));
        Assert.Empty(await ListNamesAsync(null));
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("Blobs")]
    [InlineData("my--blobs")]
    [InlineData(".meta")]
    [InlineData("..")]
    [InlineData("my_blobs")]
    public async Task AnyOperation_InvalidContainerName_Throws(string container)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.UploadAsync(container, "x", new MemoryStream([1]), null, overwrite: true, Cancellation));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.GetInfoAsync(container, "x", Cancellation));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
        {
            await foreach (var unused in Store.ListAsync(container, null, Cancellation))
            {
            }
        });
    }

    private async Task<BlobInfo?> UploadTextAsync(string name, string text, string? contentType = "text/plain") =>
        await Store.UploadAsync(_container, name, new MemoryStream(Encoding.UTF8.GetBytes(text)), contentType, overwrite: true, Cancellation);

    private async Task UploadGeneratedAsync(string name, long length, int seed)
    {
        await using var content = new GeneratedStream(length, seed);
        await Store.UploadAsync(_container, name, content, $"application/x-seed-{seed}", overwrite: true, Cancellation);
    }

    private async Task<string?> DownloadTextAsync(string name)
    {
        await using var download = await Store.OpenReadAsync(_container, name, Cancellation);
        if (download is null)
        {
            return null;
        }

        using var reader = new StreamReader(download.Content, Encoding.UTF8);
        return await reader.ReadToEndAsync(Cancellation);
    }

    private async Task<List<string>> ListNamesAsync(string? prefix)
    {
        var names = new List<string>();
        await foreach (var info in Store.ListAsync(_container, prefix, Cancellation))
        {
            names.Add(info.Name);
        }

        return names;
    }
}
