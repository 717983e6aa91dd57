using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Serverless.Functions.Platform.Ai;

/// <summary>
/// Operator providers found without configuration, so a fresh install has a model where one is reachable: an Ollama
/// server at <see cref="ModelsOptions.DiscoverOllamaUrl"/> and an OpenAI key in <c>OPENAI_API_KEY</c>. Only when no
/// provider is configured (<c>Models__Providers</c> wins outright). Probed in the background at start (start-up never
/// waits on the network) and again on health checks, at most once per <see cref="ModelsOptions.HealthCacheSeconds"/>,
/// so a server started after the app is found without a restart.
/// </summary>
internal sealed class ProviderDiscovery(
    UpstreamClients clients, IOptions<ModelsOptions> options, IConfiguration configuration, TimeProvider time, ILogger<ProviderDiscovery> logger)
    : IHostedService
{
    public const string OllamaName = "ollama";
    public const string OpenAiName = "openai";
    public const string OpenAiKeyVariable = "OPENAI_API_KEY";
    private const string Version = "discovered";

    // Used when the key is there but the model list cannot be read (offline, or a proxy without /models).
    private static readonly ProviderModel[] OpenAiFallbackModels =
    [
        new("gpt-4o-mini", "gpt-4o-mini", 0, 0, false),
        new("text-embedding-3-small", "text-embedding-3-small", 0, 0, true),
    ];

    // OpenAI lists models that do not chat or embed (images, audio, moderation, legacy completions).
    private static readonly string[] NotChatOrEmbedding = ["dall-e", "whisper", "tts", "davinci", "babbage", "omni-moderation", "text-moderation", "gpt-image", "sora"];

    private readonly Lock _gate = new();
    private volatile IReadOnlyList<ProviderDefinition> _found = [];
    private (DateTimeOffset At, Task Probe)? _last;
    private bool _saidNone;

    public bool Enabled => options.Value.Discover && options.Value.Providers.Count == 0;

    /// <summary>The providers the last probe found, local ones first.</summary>
    public IReadOnlyList<ProviderDefinition> Found => _found;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Enabled)
        {
            _ = RefreshAsync(CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Probes again unless a probe is running or ran recently; concurrent callers share one probe.</summary>
    public Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return Task.CompletedTask;
        }

        lock (_gate)
        {
            var now = time.GetUtcNow();
            if (_last is { } last && (!last.Probe.IsCompleted || now - last.At < TimeSpan.FromSeconds(options.Value.HealthCacheSeconds)))
            {
                return last.Probe.WaitAsync(cancellationToken);
            }

            var probe = ProbeAsync();
            _last = (now, probe);
            return probe.WaitAsync(cancellationToken);
        }
    }

    private async Task ProbeAsync()
    {
        var found = new List<ProviderDefinition>();
        if (await FindOllamaAsync() is { } ollama)
        {
            found.Add(ollama);
        }

        if (await FindOpenAiAsync() is { } openAi)
        {
            found.Add(openAi);
        }

        var before = _found;
        _found = found;
        foreach (var provider in found.Where(p => !before.Any(b => b.Name == p.Name && b.Models.Count == p.Models.Count)))
        {
            ModelGatewayLog.ProviderDiscovered(logger, provider.Name, provider.BaseUrl.ToString(), provider.Models.Count);
        }

        // Said once, and again only after a provider that was found went away.
        if (found.Count == 0 && !_saidNone)
        {
            ModelGatewayLog.NoProviderFound(logger, options.Value.DiscoverOllamaUrl);
        }

        _saidNone = found.Count == 0;
    }

    private async Task<ProviderDefinition?> FindOllamaAsync()
    {
        if (!ProviderRules.IsValidBaseUrl(options.Value.DiscoverOllamaUrl, out var url))
        {
            return null;
        }

        var candidate = new ProviderDefinition(OllamaName, ProviderKinds.Ollama, url!, null, [], ProviderSource.Platform, null, Version);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.Value.HealthProbeTimeoutSeconds));
        try
        {
            using var response = await clients.For(candidate).Native.GetAsync(new Uri(candidate.NativeRoot.ToString().TrimEnd('/') + "/api/tags"), timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token), default, timeout.Token);
            var models = document.RootElement.TryGetProperty("models", out var list) && list.ValueKind == JsonValueKind.Array
                ? list.EnumerateArray()
                    .Select(m => m.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString() : null)
                    .Where(ProviderRules.IsValidModelId)
                    .Select(name => new ProviderModel(name!, name!, 0, 0, name!.Contains("embed", StringComparison.OrdinalIgnoreCase)))
                    .Take(ProviderRules.MaxModels)
                    .ToList()
                : [];
            // A server without models is kept too: its models can be pulled through /api/v1/ollama/pull.
            return candidate with { Models = models };
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or JsonException or IOException)
        {
            return null;
        }
    }

    private async Task<ProviderDefinition?> FindOpenAiAsync()
    {
        if (configuration[OpenAiKeyVariable] is not { Length: > 0 } key || !ProviderRules.IsValidBaseUrl(options.Value.DiscoverOpenAiBaseUrl, out var url))
        {
            return null;
        }

        var candidate = new ProviderDefinition(OpenAiName, ProviderKinds.OpenAi, url!, key, OpenAiFallbackModels, ProviderSource.Platform, null, Version);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.Value.HealthProbeTimeoutSeconds));
        try
        {
            var result = await clients.For(candidate).Models.GetModelsAsync(
                new RequestOptions { CancellationToken = timeout.Token, ErrorOptions = ClientErrorBehaviors.NoThrow });
            using var response = result.GetRawResponse();
            if (response.IsError)
            {
                return candidate;
            }

            using var document = JsonDocument.Parse(response.Content);
            var models = document.RootElement.TryGetProperty("data", out var list) && list.ValueKind == JsonValueKind.Array
                ? list.EnumerateArray()
                    .Select(m => m.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null)
                    .Where(id => ProviderRules.IsValidModelId(id) && !NotChatOrEmbedding.Any(p => id!.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
                    .Order(StringComparer.Ordinal)
                    .Select(id => new ProviderModel(id!, id!, 0, 0, id!.Contains("embedding", StringComparison.OrdinalIgnoreCase)))
                    .Take(ProviderRules.MaxModels)
                    .ToList()
                : [];
            return models.Count > 0 ? candidate with { Models = models } : candidate;
        }
        catch (Exception exception) when (exception is ClientResultException or HttpRequestException or OperationCanceledException or JsonException or IOException)
        {
            return candidate;
        }
    }
}
