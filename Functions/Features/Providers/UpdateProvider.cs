using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Providers;

internal static class UpdateProvider
{
    /// <summary>Any subset of the fields; <c>apiKey: ""</c> removes the key, an absent apiKey keeps it.</summary>
    internal sealed record Request(string? Name, string? Kind, string? BaseUrl, string? ApiKey, IReadOnlyList<ModelInput>? Models, int? Priority);

    public static async Task<IResult> HandleAsync(
        string id, Request request, WorkspaceContext workspace, ProviderStore providers, ProviderDirectory directory, EndpointGuard guard,
        CancellationToken cancellationToken)
    {
        var check = ProviderInput.Check(new Validator(), request.Name, request.Kind, request.BaseUrl, request.Models, request.Priority, request.ApiKey, creating: false);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (await providers.GetAsync(workspace.WorkspaceId, id, cancellationToken) is null)
        {
            return Api.NotFound("The provider was not found.");
        }

        if (request.BaseUrl is not null && await guard.CheckAsync(new Uri(request.BaseUrl), cancellationToken) is { } refused)
        {
            return Api.Validation("baseUrl", refused);
        }

        if (request.Name is { } name && (directory.Platform.Any(p => p.Name == name)
            || await providers.NameTakenAsync(workspace.WorkspaceId, name, id, cancellationToken)))
        {
            return Api.Conflict($"A provider named '{name}' already exists.");
        }

        var updated = await providers.UpdateAsync(workspace.WorkspaceId, id, p => p with
        {
            Name = request.Name ?? p.Name,
            Kind = request.Kind ?? p.Kind,
            BaseUrl = request.BaseUrl ?? p.BaseUrl,
            Models = request.Models is null ? p.Models : ProviderInput.Models(request.Models),
            Priority = request.Priority ?? p.Priority,
        }, request.ApiKey, cancellationToken);
        return updated is null ? Api.NotFound("The provider was not found.") : Api.Ok(ProviderDto.From(updated));
    }
}
