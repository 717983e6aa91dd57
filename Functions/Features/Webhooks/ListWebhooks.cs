using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Webhooks;

internal static class ListWebhooks
{
    private static readonly ListShape<WebhookRecord> Shape = new(
        w => w.Id,
        new Dictionary<string, Func<WebhookRecord, string>>
        {
            ["createdAt"] = w => w.CreatedAt.UtcDateTime.ToString("O"),
            ["url"] = w => w.Url,
        },
        "createdAt",
        DefaultDescending: true,
        Matches: (w, s) => w.Url.Contains(s, StringComparison.OrdinalIgnoreCase) || w.Description.Contains(s, StringComparison.OrdinalIgnoreCase));

    public static async Task<IResult> HandleAsync(WorkspaceContext workspace, ListQuery query, WebhookStore store, CancellationToken cancellationToken) =>
        query.Check(Shape.SortFields) is { } invalid
            ? invalid
            : Api.Page(Paging.Paginate(await store.ListAsync(workspace.WorkspaceId, cancellationToken), query, Shape).Map(WebhookDto.From));
}
