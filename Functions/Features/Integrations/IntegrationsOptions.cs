using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Integrations;

internal sealed class IntegrationsOptions
{
    public const string Section = "Integrations";

    /// <summary>Comma-separated hosts a generic credential's baseUrl may name although they are private or loopback (an API on the operator's network).</summary>
    public string AllowedPrivateHosts { get; set; } = "";

    /// <summary>Time limit of a credential's test request: connecting, sending and reading the answer.</summary>
    [Range(1, 60)]
    public int TestTimeoutSeconds { get; set; } = 10;

    public IReadOnlyList<string> PrivateHostAllowList =>
        AllowedPrivateHosts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>The guard of credentials' URLs, on save and on every test connection; <c>Integrations__AllowedPrivateHosts</c> lists the exceptions.</summary>
internal sealed class IntegrationGuard(IOptions<IntegrationsOptions> options)
    : PrivateNetworkGuard(() => options.Value.PrivateHostAllowList, "integrations")
{
    /// <summary>The 422 when a (checked, well-formed) baseUrl points into the platform's network; null otherwise.</summary>
    public async Task<ErrorResult?> CheckBaseUrlAsync(IReadOnlyDictionary<string, string> values, CancellationToken cancellationToken) =>
        values.TryGetValue(IntegrationProvider.BaseUrlField, out var baseUrl) && await CheckAsync(new Uri(baseUrl), cancellationToken) is { } refused
            ? Api.Validation("credentials.baseUrl", refused + " Operators allow such hosts in Integrations__AllowedPrivateHosts.")
            : null;
}
