using System.Globalization;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Events;

namespace Serverless.Functions.Platform.Ai;

/// <summary>
/// Tells a workspace that one of its credentials stopped working: a workspace provider that refuses the stored key
/// (401/403) records <c>credential.expired</c> in the platform event log (for webhooks and event-based processes), at
/// most once per provider and day. Recording never fails the call that found out.
/// </summary>
internal sealed class CredentialAlarms(PlatformEventLog events, TimeProvider time, ILogger<CredentialAlarms> logger)
{
    public async Task ProviderRefusedAsync(ProviderDefinition provider, int status, CancellationToken cancellationToken)
    {
        if (provider is not { Source: ProviderSource.Workspace, WorkspaceId: { } workspaceId } || status is not (401 or 403))
        {
            return;
        }

        var day = time.GetUtcNow().ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var payload = new JsonObject
        {
            ["kind"] = "provider",
            ["name"] = provider.Name,
            ["status"] = status,
            ["reason"] = $"The provider '{provider.Name}' refused its stored credential with {status}.",
        };
        try
        {
            await events.AppendOnceAsync(workspaceId, $"{PlatformEventTypes.CredentialExpired}:provider:{provider.Name}:{day}",
                PlatformEventTypes.CredentialExpired, payload, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            ModelGatewayLog.CredentialAlarmFailed(logger, exception, provider.Name);
        }
    }
}
