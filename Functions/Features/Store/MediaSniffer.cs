using Serverless.Functions.Platform;

namespace Serverless.Functions.Features.Store;

internal enum MediaKind
{
    Image,
    Video,
}

/// <summary>
/// What an upload is, from its first bytes only: the file name and the declared Content-Type are the uploader's claims
/// and are ignored. Anything that is not one of the listed image or video formats (SVG, HTML, scripts, archives) is refused.
/// </summary>
internal static class MediaSniffer
{
    /// <summary>How many leading bytes the sniffer needs.</summary>
    public const int HeaderBytes = 64;

    public static (string ContentType, MediaKind Kind)? Sniff(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return ("image/png", MediaKind.Image);
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return ("image/jpeg", MediaKind.Image);
        }

        if (head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8))
        {
            return ("image/gif", MediaKind.Image);
        }

        if (head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8))
        {
            return ("image/webp", MediaKind.Image);
        }

        // ISO base media (mp4): a box size, then "ftyp" and a brand; QuickTime's own brand is not mp4.
        if (head.Length >= 12 && head[4..8].SequenceEqual("ftyp"u8) && !head[8..12].SequenceEqual("qt  "u8))
        {
            return ("video/mp4", MediaKind.Video);
        }

        // EBML header whose DocType is webm (Matroska in general is not accepted).
        if (head.StartsWith((ReadOnlySpan<byte>)[0x1A, 0x45, 0xDF, 0xA3]) && head.IndexOf("webm"u8) > 0)
        {
            return ("video/webm", MediaKind.Video);
        }

        return null;
    }

    /// <summary>The formats accepted, for messages.</summary>
    public static string Accepted => "png, jpeg, gif, webp images and mp4, webm videos";

    /// <summary>Reads up to <see cref="HeaderBytes"/> bytes (fewer only at the end of the stream).</summary>
    public static async Task<byte[]> ReadHeadAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new byte[HeaderBytes];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += read;
        }

        return buffer[..total];
    }
}

/// <summary>An upload was larger than its kind's cap.</summary>
internal sealed class MediaTooLargeException(MediaKind kind, long limit)
    : IOException($"The {kind.ToString().ToLowerInvariant()} is larger than the limit of {limit} bytes (Store__Max{kind}Bytes).");

/// <summary>The sniffed head followed by the rest of the body, failing once it passes the kind's cap while it streams.</summary>
internal sealed class MediaBody(byte[] head, Stream rest, MediaKind kind, long limit) : ForwardingReadStream(new PrefixedStream(head, rest))
{
    private long _read;

    protected override int Observe(ReadOnlySpan<byte> read)
    {
        _read += read.Length;
        return _read > limit ? throw new MediaTooLargeException(kind, limit) : read.Length;
    }

    private sealed class PrefixedStream(byte[] head, Stream rest) : Stream
    {
        private int _offset;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_offset < head.Length)
            {
                var n = Math.Min(buffer.Length, head.Length - _offset);
                head.AsSpan(_offset, n).CopyTo(buffer);
                _offset += n;
                return n;
            }

            return rest.Read(buffer);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_offset < head.Length)
            {
                return Read(buffer.Span);
            }

            return await rest.ReadAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
