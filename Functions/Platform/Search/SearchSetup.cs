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
            .Validate(o => o.AzureAISearch is not null, $"{SearchOptions.Section}:{nameof(SearchOptions.AzureAISearch)} must not be null.")
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
            throw new InvalidOperationException($"{SearchOptions.Section}:{nameof(SearchOptions.Provider)} '{provider}' is not available in this build yet.");
        }
        else
        {
            throw new InvalidOperationException(
                $"{SearchOptions.Section}:{nameof(SearchOptions.Provider)} is '{provider}'; use '{SearchOptions.LocalProvider}' or '{SearchOptions.AzureAiSearchProvider}'.");
        }

        return services;
    }
}
