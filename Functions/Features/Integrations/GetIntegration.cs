using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Integrations;

internal static class GetIntegration
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, IntegrationStore store, TimeProvider time, CancellationToken cancellationToken) =>
        await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is { } integration
            ? Api.Ok(IntegrationDto.From(integration, time.GetUtcNow()))
            : NotFound();

    public static ErrorResult NotFound() => Api.NotFound("The credential was not found.");
}
