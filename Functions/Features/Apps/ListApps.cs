using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Apps;

internal static class ListApps
{
    private static readonly ListShape<AppDto> Shape = new(
        a => a.Id,
        new Dictionary<string, Func<AppDto, string>>
        {
            ["createdAt"] = a => a.CreatedAt.UtcDateTime.ToString("O"),
            ["updatedAt"] = a => a.UpdatedAt.UtcDateTime.ToString("O"),
            ["name"] = a => a.Name.ToLowerInvariant(),
        },
        "createdAt",
        DefaultDescending: true,
        Matches: (a, s) => a.Name.Contains(s, StringComparison.OrdinalIgnoreCase) || (a.Description ?? "").Contains(s, StringComparison.OrdinalIgnoreCase)
            || a.Tags.Any(t => t.Equals(s, StringComparison.OrdinalIgnoreCase)),
        Status: a => a.Status);

    public static async Task<IResult> HandleAsync(WorkspaceContext workspace, ListQuery query, string? type, AppStore apps, CancellationToken cancellationToken)
    {
        if (query.Check(Shape.SortFields) is { } invalid)
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

        var all = (await apps.ListAsync(workspace.WorkspaceId, cancellationToken)).Where(a => type is null || a.Type == type).Select(AppDto.From);
        return Api.Page(Paging.Paginate(all, query, Shape));
    }
}
