using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity;

internal static class ListScopes
{
    public static IResult Handle() => Api.Ok(Scopes.All);
}
