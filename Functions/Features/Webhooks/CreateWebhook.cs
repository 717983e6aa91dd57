using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Webhooks;

internal static class CreateWebhook
{
    public static async Task<IResult> HandleAsync(
        WebhookRequest request, Caller caller, WorkspaceContext workspace, WebhookStore store, WebhookGuard guard, TimeProvider time,
        ILogger<WebhookStore> logger, CancellationToken cancellationToken)
    {
        var check = WebhookInput.Check(request, creating: true);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (await guard.CheckAsync(new Uri(request.Url!), cancellationToken) is { } refused)
        {
            return Api.Validation("url", refused);
        }

        if ((await store.ListAsync(workspace.WorkspaceId, cancellationToken)).Count >= WebhookStore.MaxPerWorkspace)
        {
            return Api.Conflict($"A workspace has at most {WebhookStore.MaxPerWorkspace} webhooks.");
        }

        var now = time.GetUtcNow();
        var id = Secrets.NewId("whk");
        var secret = request.Secret ?? PayloadSignature.NewSecret();
        var webhook = new WebhookRecord(id, request.Url!, WebhookInput.Events(request.Events!), store.Seal(id, secret), request.Description ?? "",
            request.Active ?? true, null, null, null, caller.UserId, now, now);
        await store.InsertAsync(workspace.WorkspaceId, webhook, cancellationToken);
        WebhooksLog.Created(logger, id, workspace.WorkspaceId);
        return Api.Created(new CreatedWebhookDto(id, webhook.Url, webhook.Events, webhook.Description, webhook.Active, secret, now, now),
            $"/api/v1/webhooks/{id}");
    }
}
