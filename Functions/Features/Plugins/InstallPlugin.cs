using System.Text.Json.Nodes;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Plugins;

/// <summary>
/// <c>POST /api/v1/plugins {manifest, grant?}</c>: installs a plugin from its manifest. The workspace grants what the
/// manifest asks, or the narrower <c>grant</c> it gives; the plugin is refused anything else when it runs.
/// </summary>
internal static class InstallPlugin
{
    internal sealed record Request(JsonObject? Manifest, JsonObject? Grant);

    public static async Task<IResult> HandleAsync(
        Request request, Caller caller, WorkspaceContext workspace, PluginStore store, PluginCatalog catalog, PluginGuard guard, WorkflowStore workflows,
        TimeProvider time, ILogger<PluginStore> logger, CancellationToken cancellationToken)
    {
        var (manifest, grant, problem) = await CheckAsync(request.Manifest, request.Grant, m => m.Capabilities, workspace.WorkspaceId, guard, workflows, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (catalog.IsBuiltin(manifest!.Id))
        {
            return Api.Conflict($"{manifest.Id} is a built-in plugin's id; choose another.");
        }

        if ((await store.ListAsync(workspace.WorkspaceId, cancellationToken)).Count(p => p.Manifest is not null) >= PluginStore.MaxPerWorkspace)
        {
            return Api.Conflict($"A workspace installs at most {PluginStore.MaxPerWorkspace} plugins.");
        }

        var now = time.GetUtcNow();
        var record = new PluginRecord(manifest.Id, manifest, grant!, true, [], new Dictionary<string, string>(), caller.UserId, now, now);
        if (!(await store.InsertAsync(workspace.WorkspaceId, record, cancellationToken)).Succeeded)
        {
            return Api.Conflict($"A plugin {manifest.Id} is already installed; PUT /api/v1/plugins/{manifest.Id} installs another version of it.");
        }

        var missing = grant!.Missing(manifest.Capabilities);
        PluginsLog.Installed(logger, manifest.Id, workspace.WorkspaceId, missing.Count == 0 ? "as requested" : "without " + string.Join(", ", missing));
        return Api.Created(PluginDto.From(new WorkspacePlugin(manifest, record, null)), $"/api/v1/plugins/{manifest.Id}");
    }

    /// <summary>
    /// A manifest and the grant to give it, checked as install and upgrade both need: the manifest itself, a given grant
    /// no wider than what the manifest asks (else <paramref name="defaultGrant"/>), a runtime URL the guard allows, a
    /// workflow of this workspace.
    /// </summary>
    public static async Task<(PluginManifest? Manifest, PluginCapabilities? Grant, IResult? Problem)> CheckAsync(
        JsonObject? manifestJson, JsonObject? grantJson, Func<PluginManifest, PluginCapabilities> defaultGrant, string workspaceId, PluginGuard guard,
        WorkflowStore workflows, CancellationToken cancellationToken)
    {
        var (manifest, check) = PluginManifest.Parse(manifestJson);
        var grant = manifest is null ? null : defaultGrant(manifest);
        if (manifest is not null && grantJson is not null)
        {
            grant = PluginManifest.ParseCapabilities(grantJson, "grant", check);
            var beyond = manifest.Capabilities.Missing(grant);
            check.When(beyond.Count > 0, "grant", $"A grant gives at most what the manifest asks; it does not ask for {string.Join(", ", beyond)}.");
        }

        if (!check.IsValid)
        {
            return (null, null, check.ToResult());
        }

        if (manifest!.Runtime.Url is { } url && await guard.CheckAsync(new Uri(url), cancellationToken) is { } refused)
        {
            return (null, null, Api.Validation("manifest.runtime.url", refused + " Plugins__AllowedPrivateHosts lists the exceptions."));
        }

        if (manifest.Runtime.WorkflowId is { } workflowId && await workflows.GetAsync(workspaceId, workflowId, cancellationToken) is null)
        {
            return (null, null, Api.Validation("manifest.runtime.workflowId", "The workflow was not found in this workspace."));
        }

        return (manifest, grant, null);
    }
}

internal static class ListPlugins
{
    public static async Task<IResult> HandleAsync(WorkspaceContext workspace, PluginCatalog catalog, CancellationToken cancellationToken) =>
        Api.Ok((await catalog.ListAsync(workspace.WorkspaceId, cancellationToken)).Select(PluginDto.From).ToList());
}

internal static class GetPlugin
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, PluginCatalog catalog, CancellationToken cancellationToken) =>
        await catalog.GetAsync(workspace.WorkspaceId, id, cancellationToken) is { } plugin ? Api.Ok(PluginDto.From(plugin)) : Api.NotFound("The plugin was not found.");
}

internal static class DeletePlugin
{
    public static async Task<IResult> HandleAsync(
        string id, WorkspaceContext workspace, PluginStore store, PluginCatalog catalog, ILogger<PluginStore> logger, CancellationToken cancellationToken)
    {
        if (catalog.IsBuiltin(id))
        {
            return Api.Conflict("A built-in plugin cannot be removed; disable it instead (POST /api/v1/plugins/{id}/disable).");
        }

        if (!await store.DeleteAsync(workspace.WorkspaceId, id, cancellationToken))
        {
            return Api.NotFound("The plugin was not found.");
        }

        await store.DeleteExecutionsAsync(workspace.WorkspaceId, id, cancellationToken);
        PluginsLog.Removed(logger, id, workspace.WorkspaceId);
        return Api.NoContent();
    }
}

/// <summary><c>POST /api/v1/plugins/{id}/enable</c> and <c>/disable</c>: a disabled plugin is listed but refuses to run.</summary>
internal static class TogglePlugin
{
    public static Task<IResult> EnableAsync(
        string id, Caller caller, WorkspaceContext workspace, PluginStore store, PluginCatalog catalog, TimeProvider time, ILogger<PluginStore> logger,
        CancellationToken cancellationToken) => SetAsync(id, true, caller, workspace, store, catalog, time, logger, cancellationToken);

    public static Task<IResult> DisableAsync(
        string id, Caller caller, WorkspaceContext workspace, PluginStore store, PluginCatalog catalog, TimeProvider time, ILogger<PluginStore> logger,
        CancellationToken cancellationToken) => SetAsync(id, false, caller, workspace, store, catalog, time, logger, cancellationToken);

    private static async Task<IResult> SetAsync(
        string id, bool enabled, Caller caller, WorkspaceContext workspace, PluginStore store, PluginCatalog catalog, TimeProvider time, ILogger<PluginStore> logger,
        CancellationToken cancellationToken)
    {
        if (await catalog.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } plugin)
        {
            return Api.NotFound("The plugin was not found.");
        }

        var now = time.GetUtcNow();
        var record = await store.UpdateAsync(workspace.WorkspaceId, id, r => r with { Enabled = enabled, UpdatedAt = now },
            plugin.Builtin is null ? null : plugin.Defaults(caller.UserId, now), cancellationToken);
        if (record is null)
        {
            return Api.NotFound("The plugin was not found.");
        }

        PluginsLog.Toggled(logger, id, workspace.WorkspaceId, enabled ? "enabled" : "disabled");
        return Api.Ok(PluginDto.From(plugin with { Record = record }));
    }
}
