using System.Diagnostics;
using System.Text.Json.Serialization;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Providers;

/// <summary>ForgeTM's provider health: every provider the workspace can use, probed cheaply (cached for a few seconds).</summary>
internal static class GetProvidersHealth
{
    internal sealed record Response(string Status, [property: JsonPropertyName("took_ms")] long TookMs, IReadOnlyDictionary<string, ProviderStatus> Providers);

    internal sealed record ProviderStatus(
        string Name, bool Ok, [property: JsonPropertyName("latency_ms")] long LatencyMs, string? Url, string Source, string? Error);

    public static async Task<IResult> HandleAsync(
        WorkspaceContext workspace, ProviderDirectory directory, ProviderDiscovery discovery, ProviderHealth health, CancellationToken cancellationToken)
    {
        // A health check is also when providers found on this machine are looked for again.
        await discovery.RefreshAsync(cancellationToken);
        return Api.Ok(await ProbeAllAsync(workspace.WorkspaceId, directory, health, cancellationToken));
    }

    internal static async Task<Response> ProbeAllAsync(string workspaceId, ProviderDirectory directory, ProviderHealth health, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var providers = await directory.ForWorkspaceAsync(workspaceId, cancellationToken);
        var probes = await Task.WhenAll(providers.Select(p => health.ProbeAsync(p, cancellationToken)));
        var statuses = new Dictionary<string, ProviderStatus>(StringComparer.Ordinal);
        for (var i = 0; i < providers.Count; i++)
        {
            var provider = providers[i];
            // An operator's upstream address is the operator's business; a workspace sees only the URLs it configured.
            var url = provider.Source == ProviderSource.Workspace ? provider.BaseUrl.ToString() : null;
            statuses.TryAdd(provider.Name, new ProviderStatus(provider.Name, probes[i].Ok, probes[i].LatencyMs, url,
                provider.Source == ProviderSource.Workspace ? "workspace" : "platform", probes[i].Error));
        }

        var okCount = statuses.Values.Count(s => s.Ok);
        var status = okCount == statuses.Count ? "ok" : okCount == 0 ? "down" : "degraded";
        return new Response(status, watch.ElapsedMilliseconds, statuses);
    }
}
