using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Apps;

internal static class ListApps
{
    public static async Task<IResult> HandleAsync(WorkspaceContext workspace, ListQuery query, string? type, AppStore apps, CancellationToken cancellationToken)
    {
        var list = apps.List;
        if (query.Check(list.SortFields) is { } invalid)
        {
            return invalid;
        }

        var check = new Validator()
            .When(query.Status is not null && !AppStatus.IsValid(query.Status), "status", "status must be draft or published.")
            .When(type is not null && !AppTypes.IsValid(type), "type", "type must be workflow, chatbot or agent.");
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var request = new ListRequest<AppRecord> { Filters = type is null ? [] : [("type", type)] };
        return await IndexedPaging.PageAsync(list, workspace.WorkspaceId, query, request, cancellationToken) is { } page
            ? Api.Page(page.Map(AppDto.From))
            : IndexedPaging.InvalidCursor();
    }
}
