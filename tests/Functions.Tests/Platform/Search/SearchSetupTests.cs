using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Search;
using Serverless.Functions.Platform.Storage;

namespace Serverless.Functions.Tests.Platform.Search;

public sealed class SearchSetupTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section));
        services.AddSearch(configuration);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Default_IsTheLocalIndex_InTheDataDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "search-setup-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var provider = Build(new() { ["Storage:DataDirectory"] = directory }))
            {
                var index = Assert.IsType<SqliteSearchIndex>(provider.GetRequiredService<ISearchIndex>());
                Assert.Equal(Path.Combine(directory, SqliteSearchIndex.FileName), index.DatabasePath);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void AzureAiSearch_WithItsSettings_IsTheAzureIndex()
    {
        using var provider = Build(new()
        {
            ["Search:Provider"] = "AzureAISearch",
            ["Search:AzureAISearch:Endpoint"] = "https://example.search.windows.net",
            ["Search:AzureAISearch:ApiKey"] = "key",
            ["Search:AzureAISearch:Dimensions"] = "384",
        });

        Assert.IsType<AzureAiSearchIndex>(provider.GetRequiredService<ISearchIndex>());
        Assert.Equal(384, provider.GetRequiredService<IOptions<SearchOptions>>().Value.AzureAISearch.Dimensions);
    }

    [Theory]
    [InlineData(null, "knowledge-chunks", "1536")]
    [InlineData("http://example.search.windows.net", "knowledge-chunks", "1536")]
    [InlineData("https://example.search.windows.net", "Bad Name", "1536")]
    [InlineData("https://example.search.windows.net", "knowledge-chunks", "0")]
    public void AzureAiSearch_WithBadSettings_FailsValidation(string? endpoint, string indexName, string dimensions)
    {
        using var provider = Build(new()
        {
            ["Search:Provider"] = "AzureAISearch",
            ["Search:AzureAISearch:Endpoint"] = endpoint,
            ["Search:AzureAISearch:IndexName"] = indexName,
            ["Search:AzureAISearch:Dimensions"] = dimensions,
        });

        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<SearchOptions>>().Value);
    }

    [Fact]
    public void UnknownProvider_StopsStartup_NamingTheChoices()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build(new() { ["Search:Provider"] = "Elastic" }));

        Assert.Contains("'Local' or 'AzureAISearch'", error.Message, StringComparison.Ordinal);
    }
}
