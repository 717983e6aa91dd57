using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage;

/// <summary>
/// Non-throwing forms of the <see cref="StoreKeys"/> rules, for input the store reads back rather than receives
/// from a caller (continuation tokens, files found on disk), where a bad value is skipped or re-reported.
/// </summary>
internal static class StoreKeyChecks
{
    public static bool IsValidKey(string key) => Holds(() => StoreKeys.ValidateKey(key, nameof(key)));

    public static bool IsValidBlobName(string name) => Holds(() => StoreKeys.ValidateBlobName(name));

    private static bool Holds(Action validate)
    {
        try
        {
            validate();
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
