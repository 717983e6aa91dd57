namespace Serverless.Functions.Platform.Storage.AzureStorage;

internal enum StorageService
{
    Blob,
    Queue,
    Table,
}

/// <summary>
/// Where an account's three services live and, when a connection string carries one, its shared key. Without a
/// key, requests carry Entra ID bearer tokens (production accounts have shared keys disabled).
/// </summary>
internal sealed record StorageAccount(string Name, Uri BlobEndpoint, Uri QueueEndpoint, Uri TableEndpoint, byte[]? SharedKey)
{
    /// <summary>Azurite's development account and its well-known key (published in Azurite's documentation).</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    public const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const string DefaultEndpointSuffix = "core.windows.net";

    public Uri Endpoint(StorageService service) => service switch
    {
        StorageService.Blob => BlobEndpoint,
        StorageService.Queue => QueueEndpoint,
        _ => TableEndpoint,
    };

    /// <summary>The account from section <c>Storage</c>: its connection string, else its name and service URIs.</summary>
    /// <exception cref="FormatException">The settings do not describe an account.</exception>
    public static StorageAccount FromOptions(StorageOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return Parse(options.ConnectionString);
        }

        if (string.IsNullOrWhiteSpace(options.AccountName))
        {
            throw new FormatException($"{StorageOptions.Section}:{nameof(StorageOptions.ConnectionString)} or {StorageOptions.Section}:{nameof(StorageOptions.AccountName)} must be set for the AzureStorage provider.");
        }

        var name = options.AccountName.Trim();
        return new StorageAccount(
            name,
            EndpointOrDefault(options.BlobServiceUri, name, "blob", DefaultEndpointSuffix),
            EndpointOrDefault(options.QueueServiceUri, name, "queue", DefaultEndpointSuffix),
            EndpointOrDefault(options.TableServiceUri, name, "table", DefaultEndpointSuffix),
            SharedKey: null);
    }

    /// <summary>Reads an Azure Storage connection string (account key or development storage; SAS is not supported).</summary>
    /// <exception cref="FormatException">The connection string is malformed or incomplete.</exception>
    public static StorageAccount Parse(string connectionString)
    {
        var parts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException($"The storage connection string has a malformed part '{Redact(part)}'.");
            }

            parts[part[..equals].Trim()] = part[(equals + 1)..].Trim();
        }

        if (parts.TryGetValue("UseDevelopmentStorage", out var development) && bool.TryParse(development, out var useDevelopment) && useDevelopment)
        {
            var proxy = parts.TryGetValue("DevelopmentStorageProxyUri", out var uri) ? uri.TrimEnd('/') : "http://127.0.0.1";
            return new StorageAccount(
                DevelopmentAccountName,
                new Uri($"{proxy}:10000/{DevelopmentAccountName}"),
                new Uri($"{proxy}:10001/{DevelopmentAccountName}"),
                new Uri($"{proxy}:10002/{DevelopmentAccountName}"),
                Convert.FromBase64String(DevelopmentAccountKey));
        }

        if (parts.ContainsKey("SharedAccessSignature"))
        {
            throw new FormatException("Storage connection strings with a SharedAccessSignature are not supported; use an account key or Entra ID (Storage:AccountName).");
        }

        if (!parts.TryGetValue("AccountName", out var name) || name.Length == 0)
        {
            throw new FormatException("The storage connection string has no AccountName.");
        }

        byte[]? key = null;
        if (parts.TryGetValue("AccountKey", out var keyText) && keyText.Length > 0)
        {
            try
            {
                key = Convert.FromBase64String(keyText);
            }
            catch (FormatException)
            {
                throw new FormatException("The storage connection string's AccountKey is not base64.");
            }
        }

        var scheme = parts.TryGetValue("DefaultEndpointsProtocol", out var protocol) ? protocol : "https";
        var suffix = parts.TryGetValue("EndpointSuffix", out var endpointSuffix) ? endpointSuffix : DefaultEndpointSuffix;
        return new StorageAccount(
            name,
            EndpointOrDefault(parts.GetValueOrDefault("BlobEndpoint"), name, "blob", suffix, scheme),
            EndpointOrDefault(parts.GetValueOrDefault("QueueEndpoint"), name, "queue", suffix, scheme),
            EndpointOrDefault(parts.GetValueOrDefault("TableEndpoint"), name, "table", suffix, scheme),
            key);
    }

    private static Uri EndpointOrDefault(string? configured, string account, string service, string suffix, string scheme = "https")
    {
        var text = string.IsNullOrWhiteSpace(configured) ? $"{scheme}://{account}.{service}.{suffix}" : configured.Trim();
        if (!Uri.TryCreate(text.TrimEnd('/'), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new FormatException($"'{text}' is not a valid {service} service URI.");
        }

        return uri;
    }

    // A malformed part may be a key that lost its '='; never echo secrets into an error message.
    private static string Redact(string part) => part.Length <= 8 ? part : part[..8] + "…";
}
