using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.ApiKeys;

internal static class DeleteApiKey
{
    public static async Task<IResult> HandleAsync(string id, Caller caller, ApiKeyStore keys, CancellationToken cancellationToken)
    {
        if (caller.BoundWorkspaceId is { } bound
            && await keys.GetAsync(caller.UserId, id, cancellationToken) is { } key
            && key.WorkspaceId != bound)
        {
            return Api.NotFound("The API key was not found.");
        }

        return await keys.DeleteAsync(caller.UserId, id, cancellationToken) ? Api.NoContent() : Api.NotFound("The API key was not found.");
    }
}
