using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Integrations;

internal static class ListIntegrations
{
    private static readonly ListShape<IntegrationDto> Shape = new(
        i => i.Id,
        new Dictionary<string, Func<IntegrationDto, string>>
        {
            ["createdAt"] = i => i.CreatedAt.UtcDateTime.ToString("O"),
            ["name"] = i => i.Name,
            ["provider"] = i => i.Provider,
        },
        "createdAt",
        DefaultDescending: true,
        Matches: (i, s) => i.Name.Contains(s, StringComparison.OrdinalIgnoreCase) || i.Provider.Contains(s, StringComparison.OrdinalIgnoreCase),
        Status: i => i.Status);

    /// <summary>The workspace's credentials (never their secrets): search, status active|expired, sortBy createdAt|name|provider; cursor or page.</summary>
    public static async Task<IResult> HandleAsync(
        WorkspaceContext workspace, ListQuery query, IntegrationStore store, TimeProvider time, CancellationToken cancellationToken) =>
        query.Check(Shape.SortFields) is { } invalid
            ? invalid
            : query.Status is { } status && !CredentialStatus.All.Contains(status, StringComparer.OrdinalIgnoreCase)
            ? Api.Validation("status", $"status must be one of: {string.Join(", ", CredentialStatus.All)}.")
            : Api.Page(Paging.Paginate(await AllAsync(workspace, store, time, cancellationToken), query, Shape));

    /// <summary>AutoGPT's external <c>GET /v1/integrations</c>: the same credentials as a bare list, newest first.</summary>
    public static async Task<IResult> HandleExternalAsync(WorkspaceContext workspace, IntegrationStore store, TimeProvider time, CancellationToken cancellationToken) =>
        Results.Json((await AllAsync(workspace, store, time, cancellationToken)).OrderByDescending(i => i.CreatedAt).ToList());

    private static async Task<IEnumerable<IntegrationDto>> AllAsync(WorkspaceContext workspace, IntegrationStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return (await store.ListAsync(workspace.WorkspaceId, cancellationToken)).Select(i => IntegrationDto.From(i, now));
    }
}
