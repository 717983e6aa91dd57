using System.Text.Json.Nodes;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Orchestrations.Nodes;

/// <summary>
/// How an attempt of a node is prepared and run: the engine's activities use it, and so does anything that runs a single
/// node outside a workflow (a block run as a tool), so a node behaves the same in both.
/// </summary>
public static class NodeAttempts
{
    /// <summary>The node's config with every reference resolved in <paramref name="scope"/>, except the type's literal fields.</summary>
    /// <param name="node">The node.</param>
    /// <param name="type">Its type.</param>
    /// <param name="scope">What references resolve against.</param>
    public static JsonObject ResolveConfig(NodeDefinition node, INodeType type, IReferenceScope scope)
    {
        var literal = type.LiteralConfig;
        if (literal.Count == 0 || node.Config is not { } config)
        {
            return Templates.Resolve(node.Config ?? [], scope) as JsonObject ?? [];
        }

        return new JsonObject(config.Select(p => KeyValuePair.Create(p.Key, literal.Contains(p.Key) ? p.Value?.DeepClone() : Templates.Resolve(p.Value, scope))));
    }

    /// <summary>
    /// Runs one attempt within the node's <c>timeoutSeconds</c>: running past it is a retryable <c>NODE_TIMEOUT</c>, and an
    /// exception is a retryable <c>NODE_ERROR</c>, so a failing node never fails its caller.
    /// </summary>
    /// <param name="type">The node's type.</param>
    /// <param name="context">The attempt's context.</param>
    /// <param name="cancellationToken">Cancels the attempt (not a timeout: the caller gave up).</param>
    public static async Task<NodeResult> RunAsync(INodeType type, NodeContext context, CancellationToken cancellationToken)
    {
        var settings = NodeSettings.From(context.Node.Config);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (settings.TimeoutSeconds is { } seconds)
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        try
        {
            return await type.ExecuteAsync(context, timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return NodeResult.Fail("NODE_TIMEOUT", $"The node did not finish within {settings.TimeoutSeconds} s.", retryable: true);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
        {
            return NodeResult.Fail("NODE_ERROR", exception.Message, retryable: true);
        }
    }
}
