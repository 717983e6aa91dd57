using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Plugins;

internal static class RuntimeKinds
{
    public const string Http = "http";
    public const string Workflow = "workflow";
    public const string Builtin = "builtin";

    public static readonly IReadOnlyList<string> All = [Http, Workflow, Builtin];
}

/// <summary>How a plugin runs: POST to a URL (from the manifest, or the config's <c>url</c>), a workflow of the workspace, or platform code.</summary>
internal sealed record PluginRuntime(string Kind, string? Url, string? WorkflowId, int? TimeoutSeconds);

/// <summary>What a plugin asks to be allowed: the hosts it may reach, the integration providers whose credentials it may read, whether it may start workflows.</summary>
internal sealed record PluginCapabilities(IReadOnlyList<string> Network, IReadOnlyList<string> Credentials, bool Workflows)
{
    public static readonly PluginCapabilities None = new([], [], false);

    /// <summary>Whether <paramref name="host"/> is one of <see cref="Network"/>: an exact name, <c>*.example.com</c> for its subdomains, or <c>*</c> for any public host.</summary>
    public bool AllowsHost(string host) => Network.Any(allowed =>
        allowed == "*"
        || string.Equals(allowed, host, StringComparison.OrdinalIgnoreCase)
        || allowed.StartsWith("*.", StringComparison.Ordinal) && host.EndsWith(allowed[1..], StringComparison.OrdinalIgnoreCase));

    /// <summary>What both hold: what a grant keeps of <paramref name="other"/>.</summary>
    public PluginCapabilities Intersect(PluginCapabilities other) => new(
        [.. Network.Where(h => other.Network.Contains(h, StringComparer.OrdinalIgnoreCase))],
        [.. Credentials.Where(c => other.Credentials.Contains(c, StringComparer.Ordinal))],
        Workflows && other.Workflows);

    /// <summary>The parts of <paramref name="requested"/> this grant leaves out (empty: it grants everything asked).</summary>

    public IReadOnlyList<string> Missing(PluginCapabilities requested) =>
    [
        .. requested.Network.Where(h => !Network.Contains(h, StringComparer.OrdinalIgnoreCase)).Select(h => "network:" + h),
        .. requested.Credentials.Where(c => !Credentials.Contains(c, StringComparer.Ordinal)).Select(c => "credentials:" + c),
        .. requested.Workflows && !Workflows ? ["workflows"] : Array.Empty<string>(),
    ];
}

/// <summary>A plugin's <c>plugin.json</c>, checked: ids, version, runtime, capabilities and the three JSON Schemas.</summary>
internal sealed record PluginManifest(
    string Id,
    string Name,
    string Version,
    string Description,
    IReadOnlyList<string> Categories,
    PluginRuntime Runtime,
    PluginCapabilities Capabilities,
    JsonObject InputSchema,
    JsonObject OutputSchema,
    JsonObject ConfigSchema)
{
    public const int MaxBytes = 64 * 1024;

    private static readonly Regex IdPattern = new("^[a-z0-9][a-z0-9-]{1,62}$", RegexOptions.CultureInvariant);
    private static readonly Regex VersionPattern = new(@"^\d{1,6}\.\d{1,6}\.\d{1,6}(-[0-9A-Za-z.-]{1,40})?$", RegexOptions.CultureInvariant);
    private static readonly Regex HostPattern = new(@"^(\*|(\*\.)?[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?)*)$", RegexOptions.CultureInvariant);
    private static readonly Regex ProviderPattern = new("^[a-z0-9][a-z0-9_-]{0,62}$", RegexOptions.CultureInvariant);

    /// <summary>The config fields the config schema marks <c>"secret": true</c>: write-only, stored sealed.</summary>
    public IReadOnlyList<string> SecretFields =>
        [.. (ConfigSchema["properties"] as JsonObject ?? []).Where(p => p.Value is JsonObject property && property["secret"] is JsonValue v && v.GetValueKind() == JsonValueKind.True).Select(p => p.Key)];

    public JsonObject ToJson() => (JsonObject)JsonSerializer.SerializeToNode(this, Json)!;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The manifest, or the fields that are wrong (under <c>manifest.</c>). Built-in runtimes are the platform's own: an installed manifest may not use them.</summary>
    public static (PluginManifest? Manifest, Validator Check) Parse(JsonNode? node, bool installing = true)
    {
        var check = new Validator();
        if (node is not JsonObject m)
        {
            return (null, check.Add("manifest", "manifest must be a JSON object (a plugin.json)."));
        }

        if (Encoding(m) > MaxBytes)
        {
            return (null, check.Add("manifest", $"manifest is larger than {MaxBytes / 1024} KB."));
        }

        var id = Text(m, "id");
        var name = Text(m, "name");
        var version = Text(m, "version");
        var description = Text(m, "description") ?? "";
        check.When(id is null || !IdPattern.IsMatch(id), "manifest.id", "id must be 2–63 lowercase letters, digits or '-', starting with a letter or digit.")
            .Require("manifest.name", name, 100)
            .When(version is null || !VersionPattern.IsMatch(version), "manifest.version", "version must be a semantic version such as 1.0.0.")
            .MaxLength("manifest.description", description, 2000);

        var categories = Strings(m["categories"], "manifest.categories", check, 10, 40, null);
        var runtime = ParseRuntime(m["runtime"], check, installing);
        var capabilities = ParseCapabilities(m["capabilities"], "manifest.capabilities", check);
        var input = SchemaOf(m, "inputSchema", check);
        var output = SchemaOf(m, "outputSchema", check);
        var config = SchemaOf(m, "configSchema", check);
        if (runtime is { Kind: RuntimeKinds.Http, Url: { } url } && Uri.TryCreate(url, UriKind.Absolute, out var uri) && !capabilities.AllowsHost(uri.IdnHost))
        {
            check.Add("manifest.capabilities.network", $"The runtime URL's host {uri.IdnHost} must be listed in capabilities.network.");
        }

        if (runtime is { Kind: RuntimeKinds.Http, Url: null } && (config["properties"] as JsonObject)?["url"] is null)
        {
            check.Add("manifest.runtime.url", "An http plugin names its URL in runtime.url, or its configSchema has a url property.");
        }

        if (runtime is { Kind: RuntimeKinds.Workflow } && !capabilities.Workflows)
        {
            check.Add("manifest.capabilities.workflows", "A workflow plugin starts a workflow: capabilities.workflows must be true.");
        }

        return check.IsValid
            ? (new PluginManifest(id!, name!, version!, description, categories, runtime!, capabilities, input, output, config), check)
            : (null, check);
    }

    public static PluginCapabilities ParseCapabilities(JsonNode? node, string field, Validator check)
    {
        if (node is null)
        {
            return PluginCapabilities.None;
        }

        if (node is not JsonObject c)
        {
            check.Add(field, "capabilities must be an object {network, credentials, workflows}.");
            return PluginCapabilities.None;
        }

        var network = Strings(c["network"], field + ".network", check, 50, 253, HostPattern).Select(h => h.ToLowerInvariant()).ToList();
        var credentials = Strings(c["credentials"], field + ".credentials", check, 20, 63, ProviderPattern);
        var workflows = c["workflows"] switch
        {
            null => false,
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
            _ => Fail(check, field + ".workflows", "workflows must be true or false."),
        };
        return new PluginCapabilities(network, credentials, workflows);
    }

    private static PluginRuntime? ParseRuntime(JsonNode? node, Validator check, bool installing)
    {
        if (node is not JsonObject r || Text(r, "kind") is not { } kind || !RuntimeKinds.All.Contains(kind))
        {
            check.Add("manifest.runtime", "runtime must be {kind: http, url} or {kind: workflow, workflowId}.");
            return null;
        }

        int? timeout = null;
        if (r["timeoutSeconds"] is { } t)
        {
            if (t is JsonValue tv && tv.TryGetValue<int>(out var seconds) && seconds is >= 1 and <= 300)
            {
                timeout = seconds;
            }
            else
            {
                check.Add("manifest.runtime.timeoutSeconds", "timeoutSeconds must be a whole number from 1 to 300.");
            }
        }

        var url = Text(r, "url");
        var workflowId = Text(r, "workflowId");
        switch (kind)
        {
            case RuntimeKinds.Builtin when installing:
                check.Add("manifest.runtime.kind", "builtin is reserved for the platform's own plugins; install an http or workflow plugin.");
                break;
            case RuntimeKinds.Http:
                check.When(url is not null && !PrivateNetworkGuard.IsHttpUrl(url), "manifest.runtime.url", "runtime.url must be an absolute http or https URL without credentials (at most 2000 characters).");
                break;
            case RuntimeKinds.Workflow:
                check.When(workflowId is not { Length: > 0 and <= 100 }, "manifest.runtime.workflowId", "A workflow plugin names its workflow: runtime.workflowId.");
                break;
        }

        return new PluginRuntime(kind, url, workflowId, timeout);
    }

    private static JsonObject SchemaOf(JsonObject m, string name, Validator check)
    {
        var node = m[name];
        if (node is null)
        {
            return new JsonObject { ["type"] = "object" };
        }

        if (node is not JsonObject schema)
        {
            check.Add("manifest." + name, $"{name} must be a JSON Schema object.");
            return [];
        }

        if (PluginSchemas.Build(schema) is { Error: { } error })
        {
            check.Add("manifest." + name, $"{name} is not a valid JSON Schema: {error}");
        }

        return (JsonObject)schema.DeepClone();
    }

    private static List<string> Strings(JsonNode? node, string field, Validator check, int maxCount, int maxLength, Regex? pattern)
    {
        if (node is null)
        {
            return [];
        }

        if (node is not JsonArray array || array.Count > maxCount
            || array.Any(i => i is not JsonValue v || v.GetValueKind() != JsonValueKind.String || v.GetValue<string>() is not { Length: > 0 } s || s.Length > maxLength
                || pattern is not null && !pattern.IsMatch(s.ToLowerInvariant())))
        {
            check.Add(field, $"{field.Split('.')[^1]} must be an array of at most {maxCount} names" + (pattern is null ? "." : " in the documented form."));
            return [];
        }

        return [.. array.Select(i => i!.GetValue<string>()).Distinct(StringComparer.Ordinal)];
    }

    private static string? Text(JsonObject o, string name) =>
        o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static bool Fail(Validator check, string field, string message)
    {
        check.Add(field, message);
        return false;
    }

    private static int Encoding(JsonObject m) => System.Text.Encoding.UTF8.GetByteCount(m.ToJsonString());
}
