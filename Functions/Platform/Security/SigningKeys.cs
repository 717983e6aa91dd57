using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Serverless.Functions.Platform.Storage;

namespace Serverless.Functions.Platform.Security;

/// <summary>
/// The JWT signing key: from configuration when set (Key Vault in Azure); otherwise generated once and kept with
/// the storage provider's data (a file in the data directory, or a blob), so tokens survive a restart and every
/// instance signs alike. Loaded while the host starts, before the first request.
/// </summary>
internal sealed class SigningKeys(IOptions<AuthOptions> auth, IGeneratedSecrets secrets) : IHostedService
{
    private const string SecretName = "jwt-signing.key";

    private SymmetricSecurityKey? _key;

    public SymmetricSecurityKey Key => _key ?? throw new InvalidOperationException("The signing key is loaded when the host starts.");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var bytes = string.IsNullOrWhiteSpace(auth.Value.JwtSigningKey)
            ? await secrets.GetOrCreateAsync(SecretName, 64, cancellationToken)
            : ConfiguredKey.Decode(auth.Value.JwtSigningKey, "Auth:JwtSigningKey", AuthOptions.Section, typeof(AuthOptions));
        _key = new SymmetricSecurityKey(bytes) { KeyId = Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] };
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
