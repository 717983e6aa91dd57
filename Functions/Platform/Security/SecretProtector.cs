using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Storage;

namespace Serverless.Functions.Platform.Security;

internal sealed class SecretProtectionOptions
{
    public const string Section = "SecretProtection";

    /// <summary>Base64 AES-256 key (≥ 32 bytes; the first 32 are used). When empty, one is generated once and kept with the storage provider's data.</summary>
    public string? Key { get; set; }
}

/// <summary>
/// Encrypts secrets the platform must be able to read back (provider API keys, integration credentials) with
/// AES-256-GCM. The purpose is bound as associated data, so a ciphertext copied into another record or field
/// does not decrypt there. The key id travels with the ciphertext so a later key rotation can tell them apart.
/// The key is loaded while the host starts; a generated one is kept with the storage provider's data, so every
/// instance reads what another sealed.
/// </summary>
internal sealed class SecretProtector(IOptions<SecretProtectionOptions> options, IGeneratedSecrets secrets) : IHostedService
{
    private const string SecretName = "secret-protection.key";
    private const string Version = "v1";
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private byte[]? _key;
    private string _keyId = "";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var bytes = string.IsNullOrWhiteSpace(options.Value.Key)
            ? await secrets.GetOrCreateAsync(SecretName, 32, cancellationToken)
            : ConfiguredKey.Decode(options.Value.Key, "SecretProtection:Key", SecretProtectionOptions.Section, typeof(SecretProtectionOptions));
        _key = bytes[..32];
        _keyId = Convert.ToHexStringLower(SHA256.HashData(_key))[..8];
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private byte[] Key => _key ?? throw new InvalidOperationException("The secret-protection key is loaded when the host starts.");

    /// <summary>The sealed form: <c>v1.&lt;keyId&gt;.&lt;base64(nonce|tag|ciphertext)&gt;</c>.</summary>
    public string Protect(string plaintext, string purpose)
    {
        var input = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[NonceSize + TagSize + input.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(Key, TagSize);
        aes.Encrypt(nonce, input, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize), Encoding.UTF8.GetBytes(purpose));
        return $"{Version}.{_keyId}.{Convert.ToBase64String(output)}";
    }

    /// <summary>The plaintext, or null when the value was sealed under another key or purpose, or was tampered with.</summary>
    public string? Unprotect(string sealedValue, string purpose)
    {
        var parts = sealedValue.Split('.', 3);
        if (parts.Length != 3 || parts[0] != Version || parts[1] != _keyId)
        {
            return null;
        }

        try
        {
            var input = Convert.FromBase64String(parts[2]);
            if (input.Length < NonceSize + TagSize)
            {
                return null;
            }

            var output = new byte[input.Length - NonceSize - TagSize];
            using var aes = new AesGcm(Key, TagSize);
            aes.Decrypt(input.AsSpan(0, NonceSize), input.AsSpan(NonceSize + TagSize), input.AsSpan(NonceSize, TagSize), output, Encoding.UTF8.GetBytes(purpose));
            return Encoding.UTF8.GetString(output);
        }
        catch (Exception exception) when (exception is FormatException or CryptographicException)
        {
            return null;
        }
    }
}
