using System.Security.Cryptography;
using System.Text;

namespace Serverless.Functions.Platform.Security;

/// <summary>
/// The one signing scheme of webhooks the platform sends and hooks it receives: <c>sha256=</c> and the hex HMAC-SHA256
/// of <c>{timestamp}.{body}</c> under a <c>whsec_</c> secret.
/// </summary>
internal static class PayloadSignature
{
    public const string SecretPrefix = "whsec_";

    /// <summary>A new signing secret: <c>whsec_</c> and 32 random bytes, base64url.</summary>
    public static string NewSecret() => SecretPrefix + Secrets.NewToken(32);

    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var signed = new byte[Encoding.UTF8.GetByteCount(timestamp) + 1 + body.Length];
        var written = Encoding.UTF8.GetBytes(timestamp, signed);
        signed[written] = (byte)'.';
        body.CopyTo(signed.AsSpan(written + 1));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    /// <summary>Whether <paramref name="signature"/> (case and surrounding spaces aside) is the body's signature, compared in constant time.</summary>
    public static bool Matches(string secret, string timestamp, ReadOnlySpan<byte> body, string signature) =>
        CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(Sign(secret, timestamp, body)), Encoding.ASCII.GetBytes(signature.Trim().ToLowerInvariant()));
}
