namespace Serverless.Functions.Platform.Ai;

/// <summary>Events of the model gateway (EventIds 500-519). Never a provider key, never a prompt.</summary>
internal static partial class ModelGatewayLog
{
    [LoggerMessage(EventId = 500, Level = LogLevel.Warning, Message = "Provider {Provider} answered {Status} (attempt {Attempt})")]
    public static partial void UpstreamFailed(ILogger logger, string provider, int attempt, int status);

    [LoggerMessage(EventId = 501, Level = LogLevel.Warning, Message = "Provider {Provider} unreachable or timed out (attempt {Attempt}): {Reason}")]
    public static partial void UpstreamUnreachable(ILogger logger, string provider, int attempt, string reason);

    [LoggerMessage(EventId = 502, Level = LogLevel.Error, Message = "A batch of {Count} usage rows starting with {UsageId} could not be written")]
    public static partial void UsageWriteFailed(ILogger logger, Exception exception, string usageId, int count);

    [LoggerMessage(EventId = 503, Level = LogLevel.Error, Message = "Usage row {UsageId} dropped: the writer has stopped")]
    public static partial void UsageDropped(ILogger logger, string usageId);

    [LoggerMessage(EventId = 504, Level = LogLevel.Error, Message = "No Microsoft Entra token for provider {Provider}: check the app identity and its Cognitive Services OpenAI User role")]
    public static partial void EntraTokenFailed(ILogger logger, Exception exception, string provider);

    [LoggerMessage(EventId = 505, Level = LogLevel.Information, Message = "Found model provider {Provider} at {Url} with {Models} models")]
    public static partial void ProviderDiscovered(ILogger logger, string provider, string url, int models);

    [LoggerMessage(EventId = 506, Level = LogLevel.Warning, Message = "No model provider is configured or found; add one (Models__Providers, OPENAI_API_KEY, an Ollama server at {OllamaUrl}, or POST /api/v1/providers)")]
    public static partial void NoProviderFound(ILogger logger, string ollamaUrl);

    [LoggerMessage(EventId = 507, Level = LogLevel.Warning, Message = "Could not record credential.expired for {Credential}")]
    public static partial void CredentialAlarmFailed(ILogger logger, Exception exception, string credential);
}
