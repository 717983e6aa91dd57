using System.Security.Cryptography;
using System.Text;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Http;

internal sealed record IdempotencyRecord(
    string Fingerprint,
    bool Completed,
    int StatusCode,
    string? ContentType,
    string? Location,
    string? SealedBody,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt) : IExpiring;

/// <summary>
/// <c>Idempotency-Key</c> on POST: the first request runs and its answer is kept 24 h; a retry with the same key
/// and the same request gets that answer back; the same key with a different request, or while the first is
/// still running, is a 409. Keys are per caller (anonymous callers: per client address), so one caller can never
/// replay another's answer. Answers can hold secrets (a new API key, tokens), so the stored body is sealed with a
/// key derived from the caller's Idempotency-Key, which is itself stored only as a hash.
/// </summary>
internal sealed class IdempotencyMiddleware(RequestDelegate next, IEntityStore store, Expirations expirations, SigningKeys keys, TimeProvider time)
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    private const int MaxKeyLength = 255;
    private const int MaxStoredBody = 1024 * 1024;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static readonly TimeSpan Retention = TimeSpan.FromHours(24);
    // A first request that died mid-way must not block its key for a day.
    private static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(2);

    private readonly EntityTable<IdempotencyRecord> _records = new(store, "idempotency");

    public async Task InvokeAsync(HttpContext context)
    {
        var key = context.Request.Headers[Header].ToString();
        if (!HttpMethods.IsPost(context.Request.Method) || key.Length == 0 || context.GetEndpoint() is null)
        {
            await next(context);
            return;
        }

        if (key.Length > MaxKeyLength)
        {
            await ErrorWriter.WriteAsync(context, 400, ErrorCodes.InvalidRequest, $"{Header} must be at most {MaxKeyLength} characters.");
            return;
        }

        var cancellationToken = context.RequestAborted;
        var scope = context.Features.Get<Caller>()?.PrincipalId ?? "anonymous:" + context.Connection.RemoteIpAddress;
        var partition = Secrets.Hash(scope + "\n" + key);
        var sealKey = HMACSHA256.HashData(keys.Key.Key, Encoding.UTF8.GetBytes("idempotency-body\n" + scope + "\n" + key));
        var fingerprint = await FingerprintAsync(context.Request, cancellationToken);
        var now = time.GetUtcNow();
        var pending = new IdempotencyRecord(fingerprint, false, 0, null, null, null, now, now + Retention);

        if (!await ClaimAsync(partition, pending, now, sealKey, context, cancellationToken))
        {
            return;
        }

        await expirations.ScheduleAsync(_records.Name, partition, "r", pending.ExpiresAt, cancellationToken);
        await RunAndKeepAsync(context, partition, pending, sealKey, cancellationToken);
    }

    /// <summary>Takes the key for this request, or answers the request from what the key already holds.</summary>
    private async Task<bool> ClaimAsync(string partition, IdempotencyRecord pending, DateTimeOffset now, byte[] sealKey, HttpContext context, CancellationToken cancellationToken)
    {
        while (true)
        {
            if ((await _records.InsertAsync(partition, "r", pending, cancellationToken)).Succeeded)
            {
                return true;
            }

            var existing = await _records.GetAsync(partition, "r", cancellationToken);
            if (existing is null)
            {
                continue;
            }

            var record = existing.Value;
            var stale = record.ExpiresAt <= now || (!record.Completed && record.CreatedAt + AbandonedAfter <= now);
            if (stale)
            {
                if ((await _records.ReplaceAsync(existing, pending, cancellationToken)).Succeeded)
                {
                    return true;
                }

                continue;
            }

            if (!string.Equals(record.Fingerprint, pending.Fingerprint, StringComparison.Ordinal))
            {
                await ErrorWriter.WriteAsync(context, 409, ErrorCodes.Conflict, $"This {Header} was already used with a different request.");
            }
            else if (!record.Completed)
            {
                await ErrorWriter.WriteAsync(context, 409, ErrorCodes.Conflict, $"A request with this {Header} is still in progress; retry later.");
            }
            else
            {
                await ReplayAsync(context, record, sealKey);
            }

            return false;
        }
    }

    private async Task RunAndKeepAsync(HttpContext context, string partition, IdempotencyRecord pending, byte[] sealKey, CancellationToken cancellationToken)
    {
        var original = context.Response.Body;
        await using var capture = new CapturingStream(original, MaxStoredBody);
        context.Response.Body = capture;
        try
        {
            await next(context);
        }
        catch
        {
            // A failed first attempt must leave the key free for the client's retry.
            await _records.DeleteAsync(partition, "r", null, CancellationToken.None);
            throw;
        }
        finally
        {
            context.Response.Body = original;
        }

        // A stream (SSE) is not an answer to replay, and neither is a server error or one too large to keep.
        var streamed = context.Response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;
        if (context.Response.StatusCode < 500 && !capture.Overflowed && !streamed)
        {
            var done = pending with
            {
                Completed = true,
                StatusCode = context.Response.StatusCode,
                ContentType = context.Response.ContentType,
                Location = context.Response.Headers.Location.ToString() is { Length: > 0 } location ? location : null,
                SealedBody = Seal(capture.Captured, sealKey),
            };
            await _records.UpsertAsync(partition, "r", done, CancellationToken.None);
        }
        else
        {
            await _records.DeleteAsync(partition, "r", null, CancellationToken.None);
        }
    }

    private static async Task ReplayAsync(HttpContext context, IdempotencyRecord record, byte[] sealKey)
    {
        context.Response.StatusCode = record.StatusCode;
        context.Response.Headers[ReplayedHeader] = "true";
        if (record.ContentType is not null)
        {
            context.Response.ContentType = record.ContentType;
        }

        if (record.Location is not null)
        {
            context.Response.Headers.Location = record.Location;
        }

        if (record.SealedBody is { Length: > 0 } sealedBody)
        {
            await context.Response.Body.WriteAsync(Open(sealedBody, sealKey), context.RequestAborted);
        }
    }

    private static string Seal(ReadOnlySpan<byte> body, byte[] key)
    {
        var output = new byte[NonceSize + TagSize + body.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, body, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize));
        return Convert.ToBase64String(output);
    }

    private static byte[] Open(string sealedBody, byte[] key)
    {
        var input = Convert.FromBase64String(sealedBody);
        var body = new byte[input.Length - NonceSize - TagSize];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(input.AsSpan(0, NonceSize), input.AsSpan(NonceSize + TagSize), input.AsSpan(NonceSize, TagSize), body);
        return body;
    }

    private static async Task<string> FingerprintAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        request.EnableBuffering();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(request.Method + " " + request.Path + request.QueryString + "\n"));
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }

        request.Body.Position = 0;
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Writes through to the response at once (streams stay live) and keeps a copy up to a limit.</summary>
    private sealed class CapturingStream(Stream inner, int limit) : Stream
    {
        private readonly MemoryStream _copy = new();

        public bool Overflowed { get; private set; }

        public ReadOnlySpan<byte> Captured => _copy.GetBuffer().AsSpan(0, (int)_copy.Length);

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        // A Stream must offer a synchronous write; the server refuses synchronous I/O, so this only keeps the contract.
        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Keep(buffer.Span);
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _copy.Dispose();
            }

            base.Dispose(disposing);
        }

        private void Keep(ReadOnlySpan<byte> bytes)
        {
            if (Overflowed || _copy.Length + bytes.Length > limit)
            {
                Overflowed = true;
                return;
            }

            _copy.Write(bytes);
        }
    }
}
