using Serverless.Orchestrations.Nodes;

namespace Serverless.Functions.Features.Workflows;

/// <summary>The code node's ceilings as settings (<c>CodeNode__TimeoutMilliseconds</c> …); the limits and their ranges are <see cref="CodeNodeLimits"/>'s.</summary>
internal sealed class CodeNodeOptions : CodeNodeLimits
{
    public const string Section = "CodeNode";
}
