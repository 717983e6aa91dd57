using System.ComponentModel.DataAnnotations;

namespace Serverless.Functions.Platform.Ai;

/// <summary>The model gateway's settings: the operator's providers, in priority order, and how upstream calls behave.</summary>
internal sealed class ModelsOptions
{
    public const string Section = "Models";

    /// <summary>Operator-configured providers (<c>Models__Providers__0__Name</c> …). Several may serve one model id: the first is tried first.</summary>
    public List<ProviderSettings> Providers { get; set; } = [];

    /// <summary>Time allowed for one upstream attempt to answer (non-stream: the whole answer; stream: each read).</summary>
    [Range(1, 3600)]
    public int RequestTimeoutSeconds { get; set; } = 120;

    /// <summary>Retries of one provider on 429, 5xx or a timeout before falling back to the next provider.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 2;

    /// <summary>First retry delay; doubles on each retry (a Retry-After from upstream wins, up to <see cref="MaxRetryDelayMs"/>).</summary>
    [Range(0, 60_000)]
    public int RetryBaseDelayMs { get; set; } = 250;

    [Range(0, 600_000)]
    public int MaxRetryDelayMs { get; set; } = 5_000;

    /// <summary>Hosts a workspace-created provider may reach although they resolve to private or loopback addresses (comma-separated).</summary>
    public string AllowedPrivateHosts { get; set; } = "";

    /// <summary>Time allowed for a provider health probe.</summary>
    [Range(1, 60)]
    public int HealthProbeTimeoutSeconds { get; set; } = 2;

    /// <summary>How long a probe result is reused, so health endpoints never hammer upstreams.</summary>
    [Range(0, 3600)]
    public int HealthCacheSeconds { get; set; } = 15;

    /// <summary>How long a workspace's provider list is cached in memory; changes on another instance take at most this long.</summary>
    [Range(0, 300)]
    public int WorkspaceProviderCacheSeconds { get; set; } = 10;

    /// <summary>
    /// With no <see cref="Providers"/> configured, find operator providers by themselves (an Ollama server at
    /// <see cref="DiscoverOllamaUrl"/>, an OpenAI key in <c>OPENAI_API_KEY</c>), so a first run has a model.
    /// </summary>
    public bool Discover { get; set; } = true;

    /// <summary>Where an Ollama server is looked for (probed at start and on health checks); empty: not looked for.</summary>
    public string DiscoverOllamaUrl { get; set; } = "http://localhost:11434";

    /// <summary>The OpenAI API an <c>OPENAI_API_KEY</c> from the environment is used with.</summary>
    public string DiscoverOpenAiBaseUrl { get; set; } = "https://api.openai.com/v1";

    public IReadOnlyList<string> PrivateHostAllowList =>
        AllowedPrivateHosts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>One provider as settings give it.</summary>
internal sealed class ProviderSettings
{
    public string Name { get; set; } = "";

    /// <summary><c>openai-compatible</c>, <c>openai</c>, <c>azure-openai</c> or <c>ollama</c>.</summary>
    public string Kind { get; set; } = ProviderKinds.OpenAiCompatible;

    /// <summary>The OpenAI-style base (<c>http://host:8080/v1</c>, <c>https://res.openai.azure.com/openai/v1/</c>); for Ollama the server root also works.</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>
    /// Sent as a bearer token (<c>api-key</c> header for <c>azure-openai</c>). Empty for <c>azure-openai</c>: the app's
    /// Microsoft Entra identity authenticates instead (needs Cognitive Services OpenAI User on the account).
    /// </summary>
    public string? ApiKey { get; set; }

    public List<ModelSettings> Models { get; set; } = [];
}

internal sealed class ModelSettings
{
    /// <summary>The name clients use.</summary>
    public string Id { get; set; } = "";

    /// <summary>The deployment or upstream model name; defaults to <see cref="Id"/>.</summary>
    public string? UpstreamModel { get; set; }

    public decimal InputPricePer1K { get; set; }

    public decimal OutputPricePer1K { get; set; }

    public bool Embedding { get; set; }
}

internal static class ProviderKinds
{
    public const string OpenAiCompatible = "openai-compatible";
    public const string OpenAi = "openai";
    public const string AzureOpenAi = "azure-openai";
    public const string Ollama = "ollama";

    public static readonly IReadOnlyList<string> All = [OpenAiCompatible, OpenAi, AzureOpenAi, Ollama];
}
