using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Providers;

internal sealed record ModelInput(string? Id, string? UpstreamModel, decimal? InputPricePer1K, decimal? OutputPricePer1K, bool? Embedding);

/// <summary>The checks a provider's fields pass on create and on update (where only the given fields are checked).</summary>
internal static class ProviderInput
{
    public static Validator Check(Validator check, string? name, string? kind, string? baseUrl, IReadOnlyList<ModelInput>? models, int? priority, string? apiKey, bool creating)
    {
        if (creating || name is not null)
        {
            check.When(!ProviderRules.IsValidName(name), "name", "name must be 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit.");
        }

        if (creating || kind is not null)
        {
            check.When(kind is null || !ProviderKinds.All.Contains(kind), "kind", $"kind must be one of {string.Join(", ", ProviderKinds.All)}.");
        }

        if (creating || baseUrl is not null)
        {
            check.When(!ProviderRules.IsValidBaseUrl(baseUrl, out _) || baseUrl!.Length > 2000, "baseUrl",
                "baseUrl must be an absolute http(s) URL without credentials, query or fragment.");
        }

        if (creating || models is not null)
        {
            check.When(models is null || models.Count is 0 or > ProviderRules.MaxModels, "models", $"models must list 1 to {ProviderRules.MaxModels} models.");
            foreach (var (model, i) in (models ?? []).Select((m, i) => (m, i)))
            {
                check.When(model is null || !ProviderRules.IsValidModelId(model.Id), $"models[{i}].id", "id is required (at most 200 characters).")
                    .When(model?.UpstreamModel is { Length: > 200 }, $"models[{i}].upstreamModel", "upstreamModel must be at most 200 characters.")
                    .When(model?.InputPricePer1K is < 0 or > 1_000_000 || model?.OutputPricePer1K is < 0 or > 1_000_000, $"models[{i}]", "prices must be from 0 to 1000000.");
            }

            check.When(models is not null && models.Where(m => m is not null).GroupBy(m => m.Id).Any(g => g.Count() > 1), "models", "model ids must be unique.");
        }

        return check.When(priority is < 0 or > 1000, "priority", "priority must be from 0 to 1000.")
            .MaxLength("apiKey", apiKey, 4000);
    }

    public static List<ProviderModelRecord> Models(IReadOnlyList<ModelInput> models) =>
        [.. models.Select(m => new ProviderModelRecord(m.Id!.Trim(), string.IsNullOrWhiteSpace(m.UpstreamModel) ? null : m.UpstreamModel.Trim(),
            m.InputPricePer1K ?? 0, m.OutputPricePer1K ?? 0, m.Embedding ?? false))];
}

internal sealed record ProviderDto(
    string Id, string Name, string Kind, string BaseUrl, bool HasApiKey, IReadOnlyList<ProviderModelRecord> Models, int Priority,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static ProviderDto From(ProviderRecord p) =>
        new(p.Id, p.Name, p.Kind, p.BaseUrl, p.SealedApiKey is not null, p.Models, p.Priority, p.CreatedAt, p.UpdatedAt);
}
