using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Integrations;

internal static class DeleteIntegration
{
    /// <summary>Nodes that name it fail from then on with CREDENTIAL_NOT_FOUND; nothing is revoked at the provider.</summary>
    public static async Task<IResult> HandleAsync(
        string id, WorkspaceContext workspace, IntegrationStore store, ILogger<IntegrationStore> logger, CancellationToken cancellationToken)
    {
        if (!await store.DeleteAsync(workspace.WorkspaceId, id, cancellationToken))
        {
            return GetIntegration.NotFound();
        }

        IntegrationsLog.Deleted(logger, id, workspace.WorkspaceId);
        return Api.NoContent();
    }
}
