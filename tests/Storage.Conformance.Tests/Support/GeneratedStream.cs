namespace Serverless.Storage.Conformance.Tests.Support;

/// <summary>
/// A read-only, non-seekable stream of deterministic pseudo-random bytes: large payloads without large arrays,
/// and an adapter under test cannot lean on <see cref="Stream.Length"/> or seeking.
/// </summary>
public sealed class GeneratedStream : Stream
{
    private readonly long _length;
    private readonly int _seed;
    private long _position;

    public GeneratedStream(long length, int seed)
    {
        _length = length;
        _seed = seed;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>The byte at <paramref name="position"/> of the stream made with <paramref name="seed"/>.</summary>
    public static byte ByteAt(long position, int seed)
    {
        // splitmix64: neighbouring positions and seeds give unrelated bytes, so a shifted, truncated or mixed-up
        // copy differs early.
        var x = unchecked((ulong)position + ((ulong)seed << 40) + 0x9E3779B97F4A7C15UL);
        x = unchecked((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL);
        x = unchecked((x ^ (x >> 27)) * 0x94D049BB133111EBUL);
        return (byte)(x ^ (x >> 31));
    }

    /// <summary>Reads <paramref name="actual"/> to its end and asserts it is the stream made with <paramref name="length"/> and <paramref name="seed"/>.</summary>
    public static async Task AssertContentAsync(Stream actual, long length, int seed, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        long position = 0;
        int read;
        while ((read = await actual.ReadAsync(buffer, cancellationToken)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != ByteAt(position + i, seed))
                {
                    Assert.Fail($"Byte {position + i} differs from the uploaded content (seed {seed}).");
                }
            }

            position += read;
        }

        Assert.Equal(length, position);
    }

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, _length - _position);
        for (var i = 0; i < count; i++)
        {
            buffer[i] = ByteAt(_position + i, _seed);
        }

        _position += count;
        return count;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer, offset, count));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
