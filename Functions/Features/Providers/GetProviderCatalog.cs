using System.Text.Json.Serialization;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Providers;

/// <summary>ForgeTM's <c>GET /v1/providers</c>: each provider, whether it is configured, its models; how many answer.</summary>
internal static class GetProviderCatalog
{
    internal sealed record Response(
        IReadOnlyDictionary<string, Provider> Providers,
        [property: JsonPropertyName("total_configured")] int TotalConfigured,
        [property: JsonPropertyName("total_available")] int TotalAvailable);

    internal sealed record Provider(bool Configured, IReadOnlyList<string> Models);

    public static async Task<IResult> HandleAsync(WorkspaceContext workspace, ProviderDirectory directory, ProviderHealth health, CancellationToken cancellationToken)
    {
        var providers = await directory.ForWorkspaceAsync(workspace.WorkspaceId, cancellationToken);
        var probes = await Task.WhenAll(providers.Select(p => health.ProbeAsync(p, cancellationToken)));
        var catalog = new Dictionary<string, Provider>(StringComparer.Ordinal);
        foreach (var provider in providers)
        {
            catalog.TryAdd(provider.Name, new Provider(true, [.. provider.Models.Select(m => m.Id)]));
        }

        return Results.Json(new Response(catalog, catalog.Count, probes.Where(p => p.Ok).Select(p => p.Name).Distinct().Count()));
    }
}
