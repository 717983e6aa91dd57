using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Providers;

internal static class GetProvider
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, ProviderStore providers, CancellationToken cancellationToken) =>
        await providers.GetAsync(workspace.WorkspaceId, id, cancellationToken) is { } provider
            ? Api.Ok(ProviderDto.From(provider))
            : Api.NotFound("The provider was not found.");
}
