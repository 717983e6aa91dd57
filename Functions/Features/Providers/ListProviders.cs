using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Providers;

internal static class ListProviders
{
    public static async Task<IResult> HandleAsync(WorkspaceContext workspace, ListQuery query, ProviderStore providers, CancellationToken cancellationToken)
    {
        var list = providers.List;
        if (query.Check(list.SortFields) is { } invalid)
        {
            return invalid;
        }

        // status names a kind, matched ignoring case as before; the index keeps kinds as written (lowercase).
        var kind = query.Status is { } status ? ProviderKinds.All.FirstOrDefault(k => k.Equals(status, StringComparison.OrdinalIgnoreCase)) ?? status : null;
        return await IndexedPaging.PageAsync(list, workspace.WorkspaceId, query with { Status = kind }, null, cancellationToken) is { } page
            ? Api.Page(page.Map(ProviderDto.From))
            : IndexedPaging.InvalidCursor();
    }
}
