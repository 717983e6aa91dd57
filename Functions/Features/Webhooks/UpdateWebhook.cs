using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Webhooks;

internal static class UpdateWebhook
{
    public static async Task<IResult> HandleAsync(
        string id, WebhookRequest request, WorkspaceContext workspace, WebhookStore store, WebhookGuard guard, TimeProvider time, CancellationToken cancellationToken)
    {
        var check = WebhookInput.Check(request, creating: false);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (request.Url is not null && await guard.CheckAsync(new Uri(request.Url), cancellationToken) is { } refused)
        {
            return Api.Validation("url", refused);
        }

        var now = time.GetUtcNow();
        var sealedSecret = request.Secret is null ? null : store.Seal(id, request.Secret);
        var updated = await store.UpdateAsync(workspace.WorkspaceId, id, w =>
        {
            var changed = w with
            {
                Url = request.Url ?? w.Url,
                Events = request.Events is null ? w.Events : WebhookInput.Events(request.Events),
                SealedSecret = sealedSecret ?? w.SealedSecret,
                Description = request.Description ?? w.Description,
                Active = request.Active ?? w.Active,
                UpdatedAt = now,
            };
            // Turning a webhook back on starts its failure clock afresh.
            return request.Active == true ? changed with { DisabledReason = null, FailingSince = null } : changed;
        }, cancellationToken);
        return updated is null ? GetWebhook.NotFound() : Api.Ok(WebhookDto.From(updated));
    }
}
