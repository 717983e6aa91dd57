namespace Serverless.Functions.Platform.Ai;

/// <summary>
/// The chat model of a request that names none (chat sessions, apps without a model, RAG answers): the operator's
/// configured default, else the first chat model the workspace, under the calling key's allow-list, can use.
/// Registered by the chat feature, which owns the <c>Chat__DefaultModel</c> setting.
/// </summary>
internal sealed class DefaultChatModel(ModelGateway gateway, string configured)
{
    /// <summary>What a caller is told when no model can answer: every way to add one.</summary>
    public const string NoneAvailable = "No chat model is available. " + ModelGateway.HowToAddProvider;

    public async Task<string?> ResolveAsync(string workspaceId, ModelLimits? limits, CancellationToken cancellationToken) =>
        !string.IsNullOrWhiteSpace(configured) ? configured
            : (await gateway.ListModelsAsync(workspaceId, limits, cancellationToken)).FirstOrDefault(m => !m.Embedding)?.Id;

    /// <summary>
    /// An assistant's model: the one the request names, else the assistant's configured one, else this default.
    /// </summary>
    public async Task<string?> ResolveAsync(string? requested, string? assistantModel, string workspaceId, ModelLimits? limits, CancellationToken cancellationToken) =>
        requested ?? (string.IsNullOrWhiteSpace(assistantModel) ? await ResolveAsync(workspaceId, limits, cancellationToken) : assistantModel);
}
