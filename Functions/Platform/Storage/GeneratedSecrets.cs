using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage;

/// <summary>
/// Secrets the platform makes for itself when configuration supplies none (the JWT signing key): created once,
/// then kept where the storage provider keeps its data, so that restarts and every instance share them.
/// </summary>
internal interface IGeneratedSecrets
{
    /// <summary>The secret called <paramref name="name"/>; created with <paramref name="length"/> random bytes when missing.</summary>
    Task<byte[]> GetOrCreateAsync(string name, int length, CancellationToken cancellationToken);
}

/// <summary>Embedded: one file per secret in the data directory, readable by the owner only.</summary>
internal sealed class FileGeneratedSecrets(IOptions<StorageOptions> options) : IGeneratedSecrets
{
    public async Task<byte[]> GetOrCreateAsync(string name, int length, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Path.GetFullPath(options.Value.DataDirectory), name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path))
        {
            return Convert.FromBase64String((await File.ReadAllTextAsync(path, cancellationToken)).Trim());
        }

        var bytes = RandomNumberGenerator.GetBytes(length);
        try
        {
            var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await using var writer = new StreamWriter(path, fileOptions);
            await writer.WriteAsync(Convert.ToBase64String(bytes));
            return bytes;
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: both must use the same secret.
            return Convert.FromBase64String((await File.ReadAllTextAsync(path, cancellationToken)).Trim());
        }
    }
}

/// <summary>
/// Azure: one blob per secret in a private container, written only if absent, so concurrent first starts of
/// several instances agree on one secret. Production configures its secrets from Key Vault instead.
/// </summary>
internal sealed class BlobGeneratedSecrets(IBlobStore blobs) : IGeneratedSecrets
{
    public const string Container = "platform-secrets";

    public async Task<byte[]> GetOrCreateAsync(string name, int length, CancellationToken cancellationToken)
    {
        var created = RandomNumberGenerator.GetBytes(length);
        using var content = new MemoryStream(System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(created)));
        if (await blobs.UploadAsync(Container, name, content, "text/plain", overwrite: false, cancellationToken) is not null)
        {
            return created;
        }

        await using var existing = await blobs.OpenReadAsync(Container, name, cancellationToken)
            ?? throw new InvalidOperationException($"Secret {name} exists but could not be read.");
        using var reader = new StreamReader(existing.Content);
        return Convert.FromBase64String((await reader.ReadToEndAsync(cancellationToken)).Trim());
    }
}
