using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Webhooks;

internal sealed class WebhooksOptions
{
    public const string Section = "Webhooks";

    /// <summary>Comma-separated hosts webhooks may target although they are private or loopback (a receiver on the operator's network).</summary>
    public string AllowedPrivateHosts { get; set; } = "";

    /// <summary>Time limit of one delivery attempt: connecting, sending and reading the response.</summary>
    [Range(1, 60)]
    public int TimeoutSeconds { get; set; } = 10;

    public IReadOnlyList<string> PrivateHostAllowList =>
        AllowedPrivateHosts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>The guard of webhook URLs, on save and on every connection; <c>Webhooks__AllowedPrivateHosts</c> lists the exceptions.</summary>
internal sealed class WebhookGuard(IOptions<WebhooksOptions> options)
    : PrivateNetworkGuard(() => options.Value.PrivateHostAllowList, "webhooks");
