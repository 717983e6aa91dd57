using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Webhooks;

internal static class GetWebhook
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, WebhookStore store, CancellationToken cancellationToken) =>
        await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is { } webhook ? Api.Ok(WebhookDto.From(webhook)) : NotFound();

    public static ErrorResult NotFound() => Api.NotFound("The webhook was not found.");
}
