using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Plugins;

internal sealed class PluginsOptions
{
    public const string Section = "Plugins";

    /// <summary>Comma-separated hosts plugins may reach although they are private or loopback (a plugin server on the operator's network).</summary>
    public string AllowedPrivateHosts { get; set; } = "";

    /// <summary>Longest a plugin execution may take; a manifest's runtime.timeoutSeconds may only lower it.</summary>
    [Range(1, 300)]
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>Largest response read from an http plugin (and from a page the web reader fetches).</summary>
    [Range(1024, 50 * 1024 * 1024)]
    public int MaxResponseBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>How many executions a plugin's status shows.</summary>
    [Range(1, 100)]
    public int StatusExecutions { get; set; } = 20;

    public IReadOnlyList<string> PrivateHostAllowList =>
        AllowedPrivateHosts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>The guard of every URL a plugin reaches, at install and on every connection; <c>Plugins__AllowedPrivateHosts</c> lists the exceptions.</summary>
internal sealed class PluginGuard(IOptions<PluginsOptions> options)
    : PrivateNetworkGuard(() => options.Value.PrivateHostAllowList, "plugins");
