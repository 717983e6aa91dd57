using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Apps;

internal static class AppChecks
{
    public static Validator CheckConfig(this Validator check, AppConfig? config)
    {
        if (config is null)
        {
            return check;
        }

        return check
            .MaxLength("config.model", config.Model, 100)
            .When(config.Temperature is < 0 or > 2, "config.temperature", "temperature must be from 0 to 2.")
            .When(config.MaxTokens is < 1 or > 1_000_000, "config.maxTokens", "maxTokens must be from 1 to 1000000.")
            .MaxLength("config.systemPrompt", config.SystemPrompt, 50_000)
            .When(config.DatasetIds is { Count: > 50 }, "config.datasetIds", "At most 50 datasets.")
            .When(config.DatasetIds?.Any(string.IsNullOrWhiteSpace) == true, "config.datasetIds", "Dataset ids cannot be empty.");
    }

    public static Validator CheckTags(this Validator check, IReadOnlyList<string>? tags) =>
        check.When(tags is { Count: > 20 } || tags?.Any(t => string.IsNullOrWhiteSpace(t) || t.Length > 50) == true, "tags", "At most 20 tags of 1 to 50 characters.");
}
