namespace Serverless.Functions.Features.Plugins;

internal static partial class PluginsLog
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Plugin {PluginId} installed in workspace {WorkspaceId} with capabilities {Capabilities}")]
    public static partial void Installed(ILogger logger, string pluginId, string workspaceId, string capabilities);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Plugin {PluginId} removed from workspace {WorkspaceId}")]
    public static partial void Removed(ILogger logger, string pluginId, string workspaceId);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Plugin {PluginId} in workspace {WorkspaceId} was refused: {Reason}")]
    public static partial void CapabilityDenied(ILogger logger, string pluginId, string workspaceId, string reason);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "Plugin {PluginId} execution {ExecutionId} in workspace {WorkspaceId} failed with {Code}: {Error}")]
    public static partial void ExecutionFailed(ILogger logger, string pluginId, string workspaceId, string executionId, string code, string error);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Information, Message = "Plugin {PluginId} in workspace {WorkspaceId} {State}")]
    public static partial void Toggled(ILogger logger, string pluginId, string workspaceId, string state);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Information, Message = "Plugin {PluginId} in workspace {WorkspaceId} went from version {FromVersion} to {ToVersion}; {SecretsCleared} secret config values cleared")]
    public static partial void Upgraded(ILogger logger, string pluginId, string workspaceId, string fromVersion, string toVersion, int secretsCleared);
}
