namespace Serverless.Functions.Features.Datasets;

/// <summary>A file of an upload was longer than <see cref="DatasetsOptions.MaxFileBytes"/>.</summary>
internal sealed class FileTooLargeException(string fileName, long limit)
    : IOException($"'{fileName}' is larger than the per-file limit of {limit} bytes (Datasets:MaxFileBytes).");

/// <summary>
/// Reads a multipart file section and fails once it passes the per-file limit, so an oversized file is refused while it
/// streams (the blob store never commits a blob whose source failed) rather than after it was stored whole.
/// </summary>
internal sealed class FileSizeLimit(Stream inner, long limit, string fileName) : Stream
{
    private long _read;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Count(int read)
    {
        _read += read;
        return _read > limit ? throw new FileTooLargeException(fileName, limit) : read;
    }
}
