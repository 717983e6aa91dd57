using System.Text.Json.Nodes;

namespace Serverless.Functions.Features.Plugins;

/// <summary>A plugin as a workspace sees it: its manifest, the workspace's record of it (none for a built-in never changed), and its code when built in.</summary>
internal sealed record WorkspacePlugin(PluginManifest Manifest, PluginRecord? Record, IBuiltinPlugin? Builtin)
{
    public string Id => Manifest.Id;

    public bool Enabled => Record?.Enabled ?? true;

    /// <summary>Built-ins hold what their manifest asks; an installed plugin holds what the workspace granted at install.</summary>
    public PluginCapabilities Granted => Builtin is not null ? Manifest.Capabilities : Record!.Granted;

    public JsonObject Config => Record?.Config ?? [];

    public IReadOnlyDictionary<string, string> SealedSecrets => Record?.SealedSecrets ?? new Dictionary<string, string>();

    /// <summary>The record a built-in's first change starts from.</summary>
    public PluginRecord Defaults(string userId, DateTimeOffset now) =>
        Record ?? new PluginRecord(Id, null, Manifest.Capabilities, true, [], new Dictionary<string, string>(), userId, now, now);
}

/// <summary>The plugins of a workspace: the platform's built-ins, then those it installed.</summary>
internal sealed class PluginCatalog(IEnumerable<IBuiltinPlugin> builtins, PluginStore store)
{
    private readonly Dictionary<string, IBuiltinPlugin> _builtins = builtins.ToDictionary(b => b.Manifest.Id, StringComparer.Ordinal);

    public bool IsBuiltin(string id) => _builtins.ContainsKey(id);

    public async Task<IReadOnlyList<WorkspacePlugin>> ListAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var records = (await store.ListAsync(workspaceId, cancellationToken)).ToDictionary(r => r.Id, StringComparer.Ordinal);
        var all = _builtins.Values.OrderBy(b => b.Manifest.Id, StringComparer.Ordinal)
            .Select(b => new WorkspacePlugin(b.Manifest, records.GetValueOrDefault(b.Manifest.Id), b))
            .ToList();
        all.AddRange(records.Values.Where(r => r.Manifest is not null && !_builtins.ContainsKey(r.Id)).OrderBy(r => r.Id, StringComparer.Ordinal)
            .Select(r => new WorkspacePlugin(r.Manifest!, r, null)));
        return all;
    }

    public async Task<WorkspacePlugin?> GetAsync(string workspaceId, string id, CancellationToken cancellationToken)
    {
        var record = await store.GetAsync(workspaceId, id, cancellationToken);
        if (_builtins.TryGetValue(id, out var builtin))
        {
            return new WorkspacePlugin(builtin.Manifest, record, builtin);
        }

        return record?.Manifest is { } manifest ? new WorkspacePlugin(manifest, record, null) : null;
    }
}
