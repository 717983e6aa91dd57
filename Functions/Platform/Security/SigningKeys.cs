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
        var bytes = string.IsNullOrWhiteSpace(auth.Value.JwtSigningKey)
            ? LoadOrCreate(Path.Combine(storage.Value.DataDirectory, FileName))
            : Decode(auth.Value.JwtSigningKey);
        Key = new SymmetricSecurityKey(bytes) { KeyId = Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] };
    }

    public SymmetricSecurityKey Key { get; }

    private static byte[] Decode(string configured)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(configured);
        }
        catch (FormatException)
        {
            throw new OptionsValidationException(AuthOptions.Section, typeof(AuthOptions), ["Auth:JwtSigningKey must be base64."]);
        }

        return bytes.Length >= 32
            ? bytes
            : throw new OptionsValidationException(AuthOptions.Section, typeof(AuthOptions), ["Auth:JwtSigningKey must hold at least 32 bytes."]);
    }

    private static byte[] LoadOrCreate(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        if (File.Exists(path))
        {
            return Convert.FromBase64String(File.ReadAllText(path).Trim());
        }

        var bytes = RandomNumberGenerator.GetBytes(64);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var writer = new StreamWriter(path, options);
            writer.Write(Convert.ToBase64String(bytes));
            return bytes;
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: both must sign with the same key.
            return Convert.FromBase64String(File.ReadAllText(path).Trim());
        }
    }
}
