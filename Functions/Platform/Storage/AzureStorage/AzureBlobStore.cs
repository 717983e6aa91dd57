using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Serverless.Orchestrations.Ports;
using BlobInfo = Serverless.Orchestrations.Ports.BlobInfo;

namespace Serverless.Functions.Platform.Storage.AzureStorage;

/// <summary>
/// <see cref="IBlobStore"/> on Azure Blob Storage (block blobs). Content up to one block goes up in a single
/// request; larger content streams up block by block and becomes visible at once when the block list commits,
/// so a reader never sees a half-written blob and only one block is ever held in memory.
/// </summary>
internal sealed class AzureBlobStore(BlobServiceClient blobs, ILogger<AzureBlobStore> logger) : IBlobStore
{
    /// <summary>Size of one uploaded block (and the largest single-request upload).</summary>
    public const int BlockSize = 4 * 1024 * 1024;

    public const string DefaultContentType = "application/octet-stream";

    private static readonly StorageTransferOptions OneBlockAtATime = new()
    {
        InitialTransferSize = BlockSize,
        MaximumTransferSize = BlockSize,
        MaximumConcurrency = 1,
    };

    // Containers this process has made sure of. An upload reads its stream once, so it cannot be replayed after
    // finding its container missing: the container is created (if need be) before the first upload into it.
    private readonly ConcurrentDictionary<string, bool> _readyContainers = new(StringComparer.Ordinal);

    public async Task<BlobInfo?> UploadAsync(string container, string name, Stream content, string? contentType, bool overwrite, CancellationToken cancellationToken)
    {
        PortArguments.Blob(container, name);
        ArgumentNullException.ThrowIfNull(content);
        var client = blobs.GetBlobContainerClient(container);
        if (!_readyContainers.ContainsKey(container))
        {
            await StorageResources.CreateContainerAsync(client, logger, cancellationToken);
            _readyContainers.TryAdd(container, true);
        }

        var type = string.IsNullOrWhiteSpace(contentType) ? DefaultContentType : contentType;
        var options = new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = type },
            // If-None-Match: * makes the service keep an existing blob, atomically.
            Conditions = overwrite ? null : new BlobRequestConditions { IfNoneMatch = ETag.All },
            TransferOptions = OneBlockAtATime,
        };

        // Counted on the way through: the port reports the length, and a stream need not know its own.
        await using var counted = new CountingStream(content);
        try
        {
            var response = await client.GetBlobClient(name).UploadAsync(counted, options, cancellationToken);
            return new BlobInfo(container, name, counted.Count, type, Quoted(response.Value.ETag), response.Value.LastModified);
        }
        catch (RequestFailedException e) when (!overwrite && e.Status is 409 or 412)
        {
            return null;
        }
    }

    public async Task<BlobDownload?> OpenReadAsync(string container, string name, CancellationToken cancellationToken)
    {
        PortArguments.Blob(container, name);
        try
        {
            var download = (await blobs.GetBlobContainerClient(container).GetBlobClient(name).DownloadStreamingAsync(cancellationToken: cancellationToken)).Value;
            var details = download.Details;
            return new BlobDownload(
                new BlobInfo(container, name, details.ContentLength, ContentType(details.ContentType), Quoted(details.ETag), details.LastModified),
                download.Content);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task<BlobInfo?> GetInfoAsync(string container, string name, CancellationToken cancellationToken)
    {
        PortArguments.Blob(container, name);
        try
        {
            var properties = (await blobs.GetBlobContainerClient(container).GetBlobClient(name).GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            return new BlobInfo(container, name, properties.ContentLength, ContentType(properties.ContentType), Quoted(properties.ETag), properties.LastModified);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken)
    {
        PortArguments.Blob(container, name);
        try
        {
            return await blobs.GetBlobContainerClient(container).GetBlobClient(name).DeleteIfExistsAsync(cancellationToken: cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // The container does not exist either.
            return false;
        }
    }

    public async IAsyncEnumerable<BlobInfo> ListAsync(string container, string? prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        PortArguments.Container(container);
        var pages = blobs.GetBlobContainerClient(container)
            .GetBlobsAsync(new GetBlobsOptions { Prefix = string.IsNullOrEmpty(prefix) ? null : prefix }, cancellationToken)
            .AsPages()
            .GetAsyncEnumerator(cancellationToken);
        await using (pages)
        {
            while (await NextPageAsync(pages))
            {
                foreach (var item in pages.Current.Values)
                {
                    var properties = item.Properties;
                    yield return new BlobInfo(
                        container, item.Name, properties.ContentLength ?? 0, ContentType(properties.ContentType), Quoted(properties.ETag), properties.LastModified ?? DateTimeOffset.MinValue);
                }
            }
        }
    }

    /// <summary>Moves to the next page of a listing; a container that does not exist lists nothing.</summary>
    private static async Task<bool> NextPageAsync(IAsyncEnumerator<Page<BlobItem>> pages)
    {
        try
        {
            return await pages.MoveNextAsync();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
    }

    private static string ContentType(string? type) => string.IsNullOrEmpty(type) ? DefaultContentType : type;

    // Listings give ETags bare and headers quoted, and the SDK keeps whichever it got: one form keeps infos comparable.
    private static string Quoted(ETag? etag) => etag?.ToString("H") ?? "";

    /// <summary>The upload's content, read once and counted; non-seekable, so the SDK buffers one block at a time.</summary>
    private sealed class CountingStream(Stream inner) : ForwardingReadStream(inner)
    {
        public long Count { get; private set; }

        protected override int Observe(ReadOnlySpan<byte> read)
        {
            Count += read.Length;
            return read.Length;
        }
    }
}
