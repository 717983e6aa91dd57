namespace Serverless.Functions.Features.Providers;

/// <summary>Audit events of the providers feature (EventIds 520-539). Never a provider key.</summary>
internal static partial class ProvidersLog
{
    [LoggerMessage(EventId = 520, Level = LogLevel.Information, Message = "Provider {ProviderId} ({Name}) created in workspace {WorkspaceId}")]
    public static partial void Created(ILogger logger, string providerId, string name, string workspaceId);

    [LoggerMessage(EventId = 521, Level = LogLevel.Information, Message = "Provider {ProviderId} in workspace {WorkspaceId} changed")]
    public static partial void Updated(ILogger logger, string providerId, string workspaceId);

    [LoggerMessage(EventId = 522, Level = LogLevel.Information, Message = "Provider {ProviderId} in workspace {WorkspaceId} deleted")]
    public static partial void Deleted(ILogger logger, string providerId, string workspaceId);

    [LoggerMessage(EventId = 523, Level = LogLevel.Warning, Message = "The API key of provider {ProviderId} in workspace {WorkspaceId} cannot be decrypted with the current protection key")]
    public static partial void KeyUnreadable(ILogger logger, string providerId, string workspaceId);
}
