using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Platform.Ai;

/// <summary>The guard of workspace providers' URLs; <c>Models__AllowedPrivateHosts</c> lists the private hosts they may reach.</summary>
internal sealed class EndpointGuard(IOptions<ModelsOptions> options)
    : PrivateNetworkGuard(() => options.Value.PrivateHostAllowList, "workspace providers");
