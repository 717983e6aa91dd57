using System.Text.Json.Nodes;

namespace Serverless.Functions.Platform.Ai;

/// <summary>
/// Who a model call is made for: usage is recorded under it and the key's limits apply. Features that call models
/// in-process (chat, the workflow llm node, RAG) pass the workspace and user they act for; <see cref="Source"/>
/// says which feature it was in the usage rows.
/// </summary>
internal sealed record ModelCaller(
    string WorkspaceId, string? UserId, string? ApiKeyId, ModelLimits? Limits, string Source = "api", string? WorkflowId = null, string? AppId = null);

internal enum ModelFailureKind
{
    InvalidRequest,
    ModelNotFound,
    NotAllowed,
    Quota,
    /// <summary>The upstream refused the request itself (400/422): the caller's request is at fault, not the provider.</summary>
    UpstreamRejected,
    Upstream,
    Timeout,
}

/// <summary>An expected way a model call can fail, with the HTTP status it maps to.</summary>
internal sealed record ModelFailure(ModelFailureKind Kind, int Status, string Message, string? Param = null, int? RetryAfterSeconds = null, BinaryData? UpstreamBody = null)
{
    public static ModelFailure Invalid(string message, string? param) => new(ModelFailureKind.InvalidRequest, 400, message, param);

    public static ModelFailure Quota(int status, string message, int? retryAfterSeconds) => new(ModelFailureKind.Quota, status, message, null, retryAfterSeconds);
}

internal readonly record struct TokenUsage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>Either a value or the reason there is none.</summary>
internal readonly record struct ModelOutcome<T>(T? Value, ModelFailure? Failure) where T : class
{
    public static implicit operator ModelOutcome<T>(T value) => new(value, null);

    public static implicit operator ModelOutcome<T>(ModelFailure failure) => new(null, failure);
}

/// <summary>A complete upstream answer, exactly as the provider sent it (OpenAI's shape).</summary>
internal sealed record ModelResponse(BinaryData Body, string Provider, string Model, TokenUsage Usage)
{
    public JsonObject Json => JsonNode.Parse(Body.ToMemory().Span)!.AsObject();
}

/// <summary>One event of a streamed chat completion: the chunk's JSON as sent upstream and its text delta, if any.</summary>
internal readonly record struct ChatStreamEvent(string Json, string? ContentDelta);

/// <summary>A model id as clients see it, and the first provider that serves it.</summary>
internal sealed record ModelInfo(string Id, string OwnedBy, bool Embedding);
