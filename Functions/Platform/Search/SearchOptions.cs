namespace Serverless.Functions.Platform.Search;

internal sealed class SearchOptions
{
    public const string Section = "Search";
    public const string LocalProvider = "Local";
    public const string AzureAiSearchProvider = "AzureAISearch";

    /// <summary>Local (SQLite FTS5 + exact cosine in the data directory) or AzureAISearch.</summary>
    public string Provider { get; set; } = LocalProvider;

    /// <summary>Settings of the Azure AI Search adapter (Provider = AzureAISearch).</summary>
    public AzureAiSearchOptions AzureAISearch { get; set; } = new();
}

internal sealed class AzureAiSearchOptions
{
    /// <summary>The service endpoint, <c>https://&lt;service&gt;.search.windows.net</c>.</summary>
    public string? Endpoint { get; set; }

    /// <summary>The one index every workspace's chunks live in (filtered by workspace and dataset on every query).</summary>
    public string IndexName { get; set; } = "knowledge-chunks";

    /// <summary>An admin key; empty means Microsoft Entra tokens of the app's identity (<c>DefaultAzureCredential</c>).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Length of the vector field; every embedding model indexed must produce vectors of this length.</summary>
    public int Dimensions { get; set; } = 1536;
}
