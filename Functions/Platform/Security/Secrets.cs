using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Serverless.Functions.Platform.Security;

/// <summary>Random secrets and their at-rest form. Secrets are high-entropy, so a plain SHA-256 is a safe at-rest hash.</summary>
internal static class Secrets
{
    public static string NewToken(int bytes = 32) => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(bytes));

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static string NewId(string prefix) => prefix + "_" + Guid.CreateVersion7().ToString("N");
}
