using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Providers;

internal static class CreateProvider
{
    internal sealed record Request(string? Name, string? Kind, string? BaseUrl, string? ApiKey, IReadOnlyList<ModelInput>? Models, int? Priority);

    public static async Task<IResult> HandleAsync(
        Request request, Caller caller, WorkspaceContext workspace, ProviderStore providers, ProviderDirectory directory, EndpointGuard guard,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var check = ProviderInput.Check(new Validator(), request.Name, request.Kind, request.BaseUrl, request.Models, request.Priority, request.ApiKey, creating: true);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (await guard.CheckAsync(new Uri(request.BaseUrl!), cancellationToken) is { } refused)
        {
            return Api.Validation("baseUrl", refused);
        }

        if (directory.Platform.Any(p => p.Name == request.Name)
            || await providers.NameTakenAsync(workspace.WorkspaceId, request.Name!, null, cancellationToken))
        {
            return Api.Conflict($"A provider named '{request.Name}' already exists.");
        }

        var now = time.GetUtcNow();
        var draft = new ProviderRecord(Secrets.NewId("prv"), request.Name!, request.Kind!, request.BaseUrl!, null, ProviderInput.Models(request.Models!),
            request.Priority ?? 100, caller.UserId, now, now);
        var created = await providers.CreateAsync(workspace.WorkspaceId, draft, request.ApiKey, cancellationToken);
        return Api.Created(ProviderDto.From(created), $"/api/v1/providers/{created.Id}");
    }
}
