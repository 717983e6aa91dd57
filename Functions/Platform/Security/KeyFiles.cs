using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Serverless.Functions.Platform.Security;

/// <summary>
/// A symmetric key from configuration when set (Key Vault in Azure); otherwise generated once and kept in the data
/// directory, so what it protects survives a restart of a local instance.
/// </summary>
internal static class KeyFiles
{
    public static byte[] FromConfigOrFile(string? configured, string settingName, string section, Type optionsType, string path, int size)
    {
        if (string.IsNullOrWhiteSpace(configured))
        {
            return LoadOrCreate(path, size);
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(configured);
        }
        catch (FormatException)
        {
            throw new OptionsValidationException(section, optionsType, [$"{settingName} must be base64."]);
        }

        return bytes.Length >= 32
            ? bytes
            : throw new OptionsValidationException(section, optionsType, [$"{settingName} must hold at least 32 bytes."]);
    }

    private static byte[] LoadOrCreate(string path, int size)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        if (File.Exists(path))
        {
            return Convert.FromBase64String(File.ReadAllText(path).Trim());
        }

        var bytes = RandomNumberGenerator.GetBytes(size);
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
            // Another process created it first: both must use the same key.
            return Convert.FromBase64String(File.ReadAllText(path).Trim());
        }
    }
}
