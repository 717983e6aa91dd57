using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Serverless.Functions.Platform.Ai;

/// <summary>Where a provider comes from: the operator's settings (trusted) or a workspace (guarded against SSRF).</summary>
internal enum ProviderSource
{
    Platform,
    Workspace,
}

/// <summary>A model a provider serves: the id clients use, the upstream name, and its prices.</summary>
internal sealed record ProviderModel(string Id, string UpstreamModel, decimal InputPricePer1K, decimal OutputPricePer1K, bool Embedding)
{
    public decimal Cost(int promptTokens, int completionTokens) =>
        Math.Round((promptTokens * InputPricePer1K + completionTokens * OutputPricePer1K) / 1000m, 8);
}

/// <summary>
/// A provider ready to call. <see cref="Version"/> changes whenever anything that shapes the upstream client changes
/// (URL, key), so cached clients are never reused across an edit.
/// </summary>
internal sealed record ProviderDefinition(
    string Name,
    string Kind,
    Uri BaseUrl,
    string? ApiKey,
    IReadOnlyList<ProviderModel> Models,
    ProviderSource Source,
    string? WorkspaceId,
    string Version)
{
    /// <summary>The OpenAI-style base the SDK talks to (Ollama: <c>{root}/v1</c>).</summary>
    public Uri OpenAiEndpoint => new(Kind == ProviderKinds.Ollama && !BaseUrl.AbsolutePath.TrimEnd('/').EndsWith("/v1", StringComparison.Ordinal)
        ? BaseUrl.ToString().TrimEnd('/') + "/v1"
        // The SDK appends "/chat/completions" itself; a trailing slash would double it.
        : BaseUrl.ToString().TrimEnd('/'));

    /// <summary>Ollama's native API root (the base without a trailing <c>/v1</c>).</summary>
    public Uri NativeRoot
    {
        get
        {
            var text = BaseUrl.ToString().TrimEnd('/');
            return new Uri(text.EndsWith("/v1", StringComparison.Ordinal) ? text[..^3] : text);
        }
    }

    public ProviderModel? Find(string modelId) => Models.FirstOrDefault(m => string.Equals(m.Id, modelId, StringComparison.Ordinal));

    public static ProviderDefinition FromSettings(ProviderSettings settings) => new(
        settings.Name,
        settings.Kind,
        new Uri(settings.BaseUrl),
        string.IsNullOrEmpty(settings.ApiKey) ? null : settings.ApiKey,
        [.. settings.Models.Select(m => new ProviderModel(m.Id, string.IsNullOrWhiteSpace(m.UpstreamModel) ? m.Id : m.UpstreamModel,
            m.InputPricePer1K, m.OutputPricePer1K, m.Embedding))],
        ProviderSource.Platform,
        null,
        "settings");
}

/// <summary>A workspace's own providers; implemented by the providers feature.</summary>
internal interface IWorkspaceProviderSource
{
    Task<IReadOnlyList<ProviderDefinition>> GetProvidersAsync(string workspaceId, CancellationToken cancellationToken);
}

/// <summary>The rules a provider definition must follow, wherever it comes from (settings are checked on start).</summary>
internal static partial class ProviderRules
{
    public const int MaxModels = 200;

    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    public static bool IsValidModelId(string? id) => !string.IsNullOrWhiteSpace(id) && id.Length <= 200 && !id.Any(char.IsControl);

    public static bool IsValidBaseUrl(string? url, out Uri? uri) =>
        Uri.TryCreate(url, UriKind.Absolute, out uri) && uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.UserInfo)
        && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment);

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();
}

internal sealed class ModelsOptionsValidator : IValidateOptions<ModelsOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelsOptions options)
    {
        var errors = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Providers.Count; i++)
        {
            var p = options.Providers[i];
            var at = $"Models:Providers:{i}";
            if (!ProviderRules.IsValidName(p.Name))
            {
                errors.Add($"{at}:Name must be 1-64 lowercase letters, digits, '.', '_' or '-'.");
            }
            else if (!names.Add(p.Name))
            {
                errors.Add($"{at}:Name '{p.Name}' is used twice.");
            }

            if (!ProviderKinds.All.Contains(p.Kind))
            {
                errors.Add($"{at}:Kind must be one of {string.Join(", ", ProviderKinds.All)}.");
            }

            if (!ProviderRules.IsValidBaseUrl(p.BaseUrl, out var baseUrl))
            {
                errors.Add($"{at}:BaseUrl must be an absolute http(s) URL without credentials, query or fragment.");
            }
            else if (p.Kind == ProviderKinds.AzureOpenAi && string.IsNullOrEmpty(p.ApiKey) && baseUrl!.Scheme != Uri.UriSchemeHttps)
            {
                // The SDK refuses to send a bearer token over plain HTTP; saying so at startup beats a failing first call.
                errors.Add($"{at}:BaseUrl must be https for an azure-openai provider without ApiKey: the app identity's token is never sent unencrypted.");
            }

            if (p.Models.Count is 0 or > ProviderRules.MaxModels)
            {
                errors.Add($"{at}:Models must list 1 to {ProviderRules.MaxModels} models.");
            }

            for (var j = 0; j < p.Models.Count; j++)
            {
                var m = p.Models[j];
                if (!ProviderRules.IsValidModelId(m.Id))
                {
                    errors.Add($"{at}:Models:{j}:Id is required.");
                }

                if (m.InputPricePer1K < 0 || m.OutputPricePer1K < 0)
                {
                    errors.Add($"{at}:Models:{j} prices must not be negative.");
                }
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
