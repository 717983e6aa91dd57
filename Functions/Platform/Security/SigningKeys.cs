using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Serverless.Functions.Platform.Storage;

namespace Serverless.Functions.Platform.Security;

/// <summary>
/// The JWT signing key: from configuration when set (Key Vault in Azure); otherwise generated once and kept in
/// the data directory, so tokens survive a restart of a local instance.
/// </summary>
internal sealed class SigningKeys
{
    private const string FileName = "jwt-signing.key";

    public SigningKeys(IOptions<AuthOptions> auth, IOptions<StorageOptions> storage)
    {
        var bytes = KeyFiles.FromConfigOrFile(auth.Value.JwtSigningKey, "Auth:JwtSigningKey", AuthOptions.Section, typeof(AuthOptions),
            Path.Combine(storage.Value.DataDirectory, FileName), 64);
        Key = new SymmetricSecurityKey(bytes) { KeyId = Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] };
    }

    public SymmetricSecurityKey Key { get; }
}
