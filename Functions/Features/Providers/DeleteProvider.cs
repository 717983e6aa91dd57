using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Providers;

internal static class DeleteProvider
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, ProviderStore providers, CancellationToken cancellationToken) =>
        await providers.DeleteAsync(workspace.WorkspaceId, id, cancellationToken) ? Api.NoContent() : Api.NotFound("The provider was not found.");
}
