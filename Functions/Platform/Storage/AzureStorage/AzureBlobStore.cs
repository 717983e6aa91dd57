using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage.AzureStorage;

/// <summary>
/// <see cref="IBlobStore"/> on Azure Blob Storage (block blobs). Content up to one block goes up in a single
/// request; larger content streams up block by block and becomes visible at once when the block list commits,
/// so a reader never sees a half-written blob and only one block is ever held in memory.
/// </summary>
internal sealed class AzureBlobStore(BlobRestClient blobs) : IBlobStore
{
    /// <summary>Size of one uploaded block (and the largest single-request upload).</summary>
    public const int BlockSize = 4 * 1024 * 1024;

    public async Task<BlobInfo?> UploadAsync(string container, string name, Stream content, string? contentType, bool overwrite, CancellationToken cancellationToken)
    {
        PortArguments.Blob(container, name);
        ArgumentNullException.ThrowIfNull(content);
        var type = string.IsNullOrWhiteSpace(contentType) ? BlobRestClient.DefaultContentType : contentType;
        var buffer = ArrayPool<byte>.Shared.Rent(BlockSize);
        try
        {
            var filled = await FillAsync(content, buffer, cancellationToken);
            BlobProperties? properties;
            if (filled < BlockSize)
            {
                properties = await blobs.PutAsync(container, name, buffer.AsMemory(0, filled), type, overwrite, cancellationToken);
            }
            else
            {
                // Block ids must all have the same length within a blob; a fixed-width counter gives that.
                var ids = new List<string>();
                long length = 0;
                while (filled > 0)
                {
                    var id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"block-{ids.Count:D6}"));
                    await blobs.PutBlockAsync(container, name, id, buffer.AsMemory(0, filled), cancellationToken);
                    ids.Add(id);
                    length += filled;
                    filled = await FillAsync(content, buffer, cancellationToken);
                }

                properties = await blobs.PutBlockListAsync(container, name, ids, length, type, overwrite, cancellationToken);
            }

            return properties is null ? null : Info(container, name, properties);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async Task<BlobDownload?> OpenReadAsync(string container, string name, CancellationToken cancellationToken)
    {
        PortArguments.Blob(container, name);
        return await blobs.GetAsync(container, name, cancellationToken) is { } download
            ? new BlobDownload(Info(container, name, download.Properties), download.Content)
            : null;
    }

    public async Task<BlobInfo?> GetInfoAsync(string container, string name, CancellationToken cancellationToken)
    {
        PortArguments.Blob(container, name);
        return await blobs.GetPropertiesAsync(container, name, cancellationToken) is { } properties ? Info(container, name, properties) : null;
    }

    public Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken)
    {
        PortArguments.Blob(container, name);
        return blobs.DeleteAsync(container, name, cancellationToken);
    }

    public async IAsyncEnumerable<BlobInfo> ListAsync(string container, string? prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        PortArguments.Container(container);
        string? marker = null;
        do
        {
            var (items, next) = await blobs.ListAsync(container, prefix, marker, cancellationToken);
            foreach (var item in items)
            {
                yield return Info(container, item.Name, item.Properties);
            }

            marker = next;
        }
        while (marker is not null);
    }

    private static BlobInfo Info(string container, string name, BlobProperties properties) =>
        new(container, name, properties.Length, properties.ContentType, properties.ETag, properties.LastModified);

    /// <summary>Reads until the buffer is full or the stream ends; a stream may return less than asked at any time.</summary>
    private static async Task<int> FillAsync(Stream content, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        int read;
        while (filled < BlockSize && (read = await content.ReadAsync(buffer.AsMemory(filled, BlockSize - filled), cancellationToken)) > 0)
        {
            filled += read;
        }

        return filled;
    }
}
