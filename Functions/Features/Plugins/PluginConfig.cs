using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Plugins;

internal static class GetPluginConfig
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, PluginCatalog catalog, CancellationToken cancellationToken) =>
        await catalog.GetAsync(workspace.WorkspaceId, id, cancellationToken) is { } plugin ? Api.Ok(View(plugin)) : Api.NotFound("The plugin was not found.");

    public static PluginConfigDto View(WorkspacePlugin plugin) =>
        new(plugin.Id, (JsonObject)plugin.Config.DeepClone(), [.. plugin.SealedSecrets.Keys.Order(StringComparer.Ordinal)], plugin.Manifest.SecretFields,
            plugin.Record?.UpdatedAt);
}

/// <summary>
/// <c>PUT /api/v1/plugins/{id}/config</c> with the config object: plain fields are replaced by what is given; a secret
/// field (<c>"secret": true</c> in the config schema) is set when given, cleared when null, and kept when absent. The
/// whole config must then match the schema. Secret values are sealed and never shown again.
/// </summary>
internal static class UpdatePluginConfig
{
    public static async Task<IResult> HandleAsync(
        string id, JsonObject? body, Caller caller, WorkspaceContext workspace, PluginCatalog catalog, PluginStore store, PluginRunner runner, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (await catalog.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } plugin)
        {
            return Api.NotFound("The plugin was not found.");
        }

        if (body is null)
        {
            return Api.Validation("config", "Send the config as a JSON object.");
        }

        var secretFields = plugin.Manifest.SecretFields.ToHashSet(StringComparer.Ordinal);
        var plain = new JsonObject();
        var secrets = plugin.SealedSecrets.ToDictionary(StringComparer.Ordinal);
        foreach (var (field, value) in body)
        {
            if (!secretFields.Contains(field))
            {
                plain[field] = value?.DeepClone();
            }
            else if (value is null)
            {
                secrets.Remove(field);
            }
            else
            {
                secrets[field] = store.Seal(workspace.WorkspaceId, id, field, value.ToJsonString());
            }
        }

        var candidate = plugin with { Record = plugin.Defaults(caller.UserId, time.GetUtcNow()) with { Config = plain, SealedSecrets = secrets } };
        if (runner.Configuration(workspace.WorkspaceId, candidate) is not { } merged)
        {
            return Api.Validation("config", "A secret field set earlier cannot be read any more (the secret-protection key changed); send it again.");
        }

        if (PluginSchemas.Check(plugin.Manifest.ConfigSchema, merged, "config") is { Count: > 0 } errors)
        {
            return Api.Validation(errors, "The config does not match the plugin's config schema.");
        }

        if (plugin.Manifest.Runtime is { Kind: RuntimeKinds.Http, Url: null } && merged["url"] is JsonValue url && url.GetValueKind() == JsonValueKind.String
            && !PrivateNetworkGuard.IsHttpUrl(url.GetValue<string>()))
        {
            return Api.Validation("config.url", "url must be an absolute http or https URL without credentials.");
        }

        var now = time.GetUtcNow();
        var saved = await store.UpdateAsync(workspace.WorkspaceId, id, r => r with { Config = plain, SealedSecrets = secrets, UpdatedAt = now },
            plugin.Builtin is null ? null : plugin.Defaults(caller.UserId, now), cancellationToken);
        return saved is null ? Api.NotFound("The plugin was not found.") : Api.Ok(GetPluginConfig.View(plugin with { Record = saved }));
    }
}
