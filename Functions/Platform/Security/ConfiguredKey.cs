using Microsoft.Extensions.Options;

namespace Serverless.Functions.Platform.Security;

/// <summary>A symmetric key given in configuration (Key Vault in Azure): base64 of at least 32 bytes, or a start-up error naming the setting.</summary>
internal static class ConfiguredKey
{
    public static byte[] Decode(string configured, string settingName, string section, Type optionsType)
    {
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
}
