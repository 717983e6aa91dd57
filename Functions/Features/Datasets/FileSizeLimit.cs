using Serverless.Functions.Platform;

namespace Serverless.Functions.Features.Datasets;

/// <summary>A file of an upload was longer than <see cref="DatasetsOptions.MaxFileBytes"/>.</summary>
internal sealed class FileTooLargeException(string fileName, long limit)
    : IOException($"'{fileName}' is larger than the per-file limit of {limit} bytes (Datasets:MaxFileBytes).");

/// <summary>
/// Reads a multipart file section and fails once it passes the per-file limit, so an oversized file is refused while it
/// streams (the blob store never commits a blob whose source failed) rather than after it was stored whole.
/// </summary>
internal sealed class FileSizeLimit(Stream inner, long limit, string fileName) : ForwardingReadStream(inner)
{
    private long _read;

    protected override int Observe(ReadOnlySpan<byte> read)
    {
        _read += read.Length;
        return _read > limit ? throw new FileTooLargeException(fileName, limit) : read.Length;
    }
}
