using System.Globalization;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Events;

namespace Serverless.Functions.Platform.Ai;

/// <summary>
/// Tells a workspace that one of its credentials stopped working: <c>credential.expired</c> in the platform event log
/// (for webhooks and event-based processes). A workspace provider that refuses the stored key (401/403) records it at
/// most once per provider and day; stored integration credentials record it once per secret through
/// <see cref="RecordAsync"/>. Recording never fails the call that found out.
/// </summary>
internal sealed class CredentialAlarms(PlatformEventLog events, TimeProvider time, ILogger<CredentialAlarms> logger)
{
    public Task ProviderRefusedAsync(ProviderDefinition provider, int status, CancellationToken cancellationToken)
    {
        if (provider is not { Source: ProviderSource.Workspace, WorkspaceId: { } workspaceId } || status is not (401 or 403))
        {
            return Task.CompletedTask;
        }

        var day = time.GetUtcNow().ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var payload = new JsonObject
        {
            ["kind"] = "provider",
            ["name"] = provider.Name,
            ["status"] = status,
            ["reason"] = $"The provider '{provider.Name}' refused its stored credential with {status}.",
        };
        return RecordAsync(workspaceId, $"provider:{provider.Name}:{day}", payload, cancellationToken);
    }

    /// <summary>
    /// Records <c>credential.expired</c> with <paramref name="payload"/> (never a secret) unless an event with this
    /// <paramref name="key"/> was recorded already; a failure to record is logged, not thrown.
    /// </summary>
    public async Task RecordAsync(string workspaceId, string key, JsonObject payload, CancellationToken cancellationToken)
    {
        try
        {
            await events.AppendOnceAsync(workspaceId, $"{PlatformEventTypes.CredentialExpired}:{key}", PlatformEventTypes.CredentialExpired, payload, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            ModelGatewayLog.CredentialAlarmFailed(logger, exception, key);
        }
    }
}
