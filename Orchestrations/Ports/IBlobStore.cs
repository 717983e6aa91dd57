namespace Serverless.Orchestrations.Ports;

/// <summary>
/// A blob store with containers and '/'-separated names, modelled on Azure Blob Storage. Content streams in
/// and out; nothing requires a whole blob in memory.
/// </summary>
public interface IBlobStore
{
    /// <summary>
    /// Writes a blob from <paramref name="content"/> (read to its end). With <paramref name="overwrite"/> false an
    /// existing blob is left alone and the result is <c>null</c>. A reader never sees a half-written blob.
    /// </summary>
    Task<BlobInfo?> UploadAsync(string container, string name, Stream content, string? contentType, bool overwrite, CancellationToken cancellationToken);

    /// <summary>Opens a blob for reading, or <c>null</c> when it does not exist. The caller disposes the stream.</summary>
    Task<BlobDownload?> OpenReadAsync(string container, string name, CancellationToken cancellationToken);

    /// <summary>Reads a blob's properties, or <c>null</c> when it does not exist.</summary>
    Task<BlobInfo?> GetInfoAsync(string container, string name, CancellationToken cancellationToken);

    /// <summary>Deletes a blob; false when it did not exist.</summary>
    Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken);

    /// <summary>Lists the blobs whose names start with <paramref name="prefix"/>, in ordinal name order.</summary>
    IAsyncEnumerable<BlobInfo> ListAsync(string container, string? prefix, CancellationToken cancellationToken);
}

/// <summary>A blob's properties.</summary>
/// <param name="Container">The container.</param>
/// <param name="Name">The blob name.</param>
/// <param name="Length">Size in bytes.</param>
/// <param name="ContentType">The content type given on upload (default <c>application/octet-stream</c>).</param>
/// <param name="ETag">Opaque version tag; changes on every write.</param>
/// <param name="LastModified">When it was last written.</param>
public sealed record BlobInfo(string Container, string Name, long Length, string ContentType, string ETag, DateTimeOffset LastModified);

/// <summary>An open blob: its properties and its content.</summary>
/// <param name="Info">The blob's properties.</param>
/// <param name="Content">The content stream; the caller disposes it.</param>
public sealed record BlobDownload(BlobInfo Info, Stream Content) : IAsyncDisposable
{
    /// <inheritdoc />
    public ValueTask DisposeAsync() => Content.DisposeAsync();
}
