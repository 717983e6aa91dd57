namespace Serverless.Orchestrations.Ports;

/// <summary>
/// Naming rules every entity-store and blob-store adapter enforces, so a key that works embedded also works on
/// Azure: table names as Azure Table Storage allows them; partition and row keys without the characters Azure
/// forbids (<c>/ \ # ?</c> and control characters), at most 512 UTF-16 units; blob container names as Azure's;
/// blob names without empty, '.' or '..' segments or backslashes.
/// </summary>
public static class StoreKeys
{
    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="table"/> is 3-63 ASCII letters/digits starting with a letter.</summary>
    public static void ValidateTable(string table)
    {
        if (table.Length is < 3 or > 63 || !char.IsAsciiLetter(table[0]) || !table.All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException($"'{table}' is not a valid table name.", nameof(table));
        }
    }

    /// <summary>Whether <paramref name="key"/> is a legal partition or row key.</summary>
    public static bool IsValidKey(string key) =>
        key.Length <= 512 && !key.Any(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c));

    /// <summary>Throws <see cref="ArgumentException"/> when <paramref name="key"/> is not a legal partition or row key.</summary>
    public static void ValidateKey(string key, string paramName)
    {
        if (!IsValidKey(key))
        {
            throw new ArgumentException($"'{key}' is not a valid entity key.", paramName);
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="container"/> is a legal Azure container name.</summary>
    public static void ValidateContainer(string container) => QueueNames.Validate(container);

    /// <summary>Whether <paramref name="name"/> is a safe blob name (see <see cref="ValidateBlobName"/>).</summary>
    public static bool IsValidBlobName(string name) =>
        name.Length is >= 1 and <= 1024
        && !name.Any(c => c == '\\' || char.IsControl(c))
        && name.Split('/').All(s => s.Length > 0 && s != "." && s != "..");

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="name"/> is a safe blob name (1-1024 chars, '/'-separated, no empty, '.' or '..' segments, no backslash or control characters).</summary>
    public static void ValidateBlobName(string name)
    {
        if (!IsValidBlobName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid blob name.", nameof(name));
        }
    }
}
