using Microsoft.Extensions.Options;

namespace Serverless.Functions.Platform.Search;

/// <summary>Registers the <see cref="ISearchIndex"/> adapter that section <c>Search</c> selects.</summary>
internal static class SearchSetup
{
    public static IServiceCollection AddSearch(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(SearchOptions.Section);
        services.AddOptions<SearchOptions>()
            .Bind(section)
            .Validate(o => o.AzureAISearch is { Dimensions: >= 2 and <= 4096 }, $"{SearchOptions.Section}:AzureAISearch:Dimensions must be between 2 and 4096.")
            .ValidateOnStart();

        // Read now, as storage does: a misspelt provider stops the host at startup, not at the first search.
        var provider = section.Get<SearchOptions>()?.Provider ?? SearchOptions.LocalProvider;
        if (string.Equals(provider, SearchOptions.LocalProvider, StringComparison.OrdinalIgnoreCase))
        {
            services.AddSingleton<SqliteSearchIndex>();
            services.AddSingleton<ISearchIndex>(sp => sp.GetRequiredService<SqliteSearchIndex>());
        }
        else if (string.Equals(provider, SearchOptions.AzureAiSearchProvider, StringComparison.OrdinalIgnoreCase))
        {
            services.AddOptions<SearchOptions>()
                .Validate(o => Uri.TryCreate(o.AzureAISearch.Endpoint, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps,
                    $"{SearchOptions.Section}:AzureAISearch:Endpoint must be the service's https URL when the provider is {SearchOptions.AzureAiSearchProvider}.")
                .Validate(o => System.Text.RegularExpressions.Regex.IsMatch(o.AzureAISearch.IndexName ?? "", "^[a-z0-9][a-z0-9-]{1,127}$"),
                    $"{SearchOptions.Section}:AzureAISearch:IndexName must be lower-case letters, digits and dashes (2 to 128).");
            services.AddSingleton<ISearchIndex, AzureAiSearchIndex>();
        }
        else
        {
            throw new InvalidOperationException(
                $"{SearchOptions.Section}:{nameof(SearchOptions.Provider)} is '{provider}'; use '{SearchOptions.LocalProvider}' or '{SearchOptions.AzureAiSearchProvider}'.");
        }

        return services;
    }
}
