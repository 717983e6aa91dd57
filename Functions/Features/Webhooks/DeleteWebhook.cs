using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Webhooks;

internal static class DeleteWebhook
{
    /// <summary>Queued attempts of its deliveries find it gone and end as failed; the delivery rows stay with their partition.</summary>
    public static async Task<IResult> HandleAsync(
        string id, WorkspaceContext workspace, WebhookStore store, ILogger<WebhookStore> logger, CancellationToken cancellationToken)
    {
        if (!await store.DeleteAsync(workspace.WorkspaceId, id, cancellationToken))
        {
            return GetWebhook.NotFound();
        }

        WebhooksLog.Deleted(logger, id, workspace.WorkspaceId);
        return Api.NoContent();
    }
}
