using System.Text.Json.Nodes;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Plugins;

/// <summary>
/// <c>PUT /api/v1/plugins/{id} {manifest, grant?}</c>: installs another version (newer, or older to roll back) of an
/// installed plugin in place, keeping its enabled state, config and execution history. Without <c>grant</c> the new
/// version keeps what the old one was granted and nothing it newly asks: widening a grant is always an explicit act.
/// Secret config values stay only while they can reach no new place: when the runtime URL's origin changes or the
/// grant gains a host, they are cleared (else an upgrade could send a secret someone else entered to a host of the
/// upgrader's choosing), as are secrets of fields the new config schema no longer marks secret.
/// </summary>
internal static class UpgradePlugin
{
    internal sealed record Request(JsonObject? Manifest, JsonObject? Grant);

    internal sealed record Response(PluginDto Plugin, string PreviousVersion, IReadOnlyList<string> NotGranted, IReadOnlyList<string> SecretsCleared);

    public static async Task<IResult> HandleAsync(
        string id, Request request, WorkspaceContext workspace, PluginStore store, PluginCatalog catalog, PluginGuard guard, WorkflowStore workflows,
        TimeProvider time, ILogger<PluginStore> logger, CancellationToken cancellationToken)
    {
        if (catalog.IsBuiltin(id))
        {
            return Api.Conflict("A built-in plugin is the platform's own; it cannot be replaced.");
        }

        if (await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { Manifest: not null } installed)
        {
            return Api.NotFound("The plugin was not found.");
        }

        var (manifest, grant, problem) = await InstallPlugin.CheckAsync(
            request.Manifest, request.Grant, m => installed.Granted.Intersect(m.Capabilities), workspace.WorkspaceId, guard, workflows, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (manifest!.Id != id)
        {
            return Api.Validation("manifest.id", $"The manifest is of {manifest.Id}, not {id}; install it as a plugin of its own.");
        }

        string[] cleared = [];
        var updated = await store.UpdateAsync(workspace.WorkspaceId, id, current =>
        {
            if (current.Manifest is null)
            {
                return null;
            }

            var reachesFurther = Origin(current.Manifest.Runtime.Url) != Origin(manifest.Runtime.Url) || current.Granted.Missing(grant!).Count > 0;
            var secretFields = manifest.SecretFields.ToHashSet(StringComparer.Ordinal);
            var kept = current.SealedSecrets.Where(s => !reachesFurther && secretFields.Contains(s.Key)).ToDictionary(StringComparer.Ordinal);
            cleared = [.. current.SealedSecrets.Keys.Where(k => !kept.ContainsKey(k)).Order(StringComparer.Ordinal)];
            return current with { Manifest = manifest, Granted = grant!, SealedSecrets = kept, UpdatedAt = time.GetUtcNow() };
        }, cancellationToken);
        if (updated is null)
        {
            return Api.NotFound("The plugin was not found.");
        }

        var notGranted = grant!.Missing(manifest.Capabilities);
        PluginsLog.Upgraded(logger, id, workspace.WorkspaceId, installed.Manifest.Version, manifest.Version, cleared.Length);
        return Api.Ok(new Response(PluginDto.From(new WorkspacePlugin(manifest, updated, null)), installed.Manifest.Version, notGranted, cleared));
    }

    private static string? Origin(string? url) => url is null ? null : new Uri(url).GetLeftPart(UriPartial.Authority).ToLowerInvariant();
}
