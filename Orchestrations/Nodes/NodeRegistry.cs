namespace Serverless.Orchestrations.Nodes;

/// <summary>The node types the engine knows, by type name.</summary>
public sealed class NodeRegistry
{
    private readonly Dictionary<string, INodeType> _types;

    /// <summary>Registers the given types; two with the same name is a startup error.</summary>
    public NodeRegistry(IEnumerable<INodeType> types)
    {
        _types = new Dictionary<string, INodeType>(StringComparer.Ordinal);
        foreach (var type in types)
        {
            if (!_types.TryAdd(type.Descriptor.Type, type))
            {
                throw new InvalidOperationException($"Node type {type.Descriptor.Type} is registered twice.");
            }
        }
    }

    /// <summary>Every registered type, ordered by name.</summary>
    public IEnumerable<INodeType> All => _types.Values.OrderBy(t => t.Descriptor.Type, StringComparer.Ordinal);

    /// <summary>The type, or null when unknown.</summary>
    public INodeType? Find(string type) => _types.GetValueOrDefault(type);

    /// <summary>The type; the definition was validated, so it exists.</summary>
    public INodeType Get(string type) => _types[type];
}
