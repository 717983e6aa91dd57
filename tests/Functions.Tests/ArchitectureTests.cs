using System.Text.RegularExpressions;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests;

/// <summary>
/// The layering rules of ARCHITECTURE §4, as data: which folder may name which namespace. A row is
/// (folder, namespace prefix it must not use, except these allowed prefixes).
/// </summary>
public sealed partial class ArchitectureTests
{
    public static TheoryData<string, string, string[]> Rules => new()
    {
        // The engine knows nothing of the web app.
        { "Orchestrations", "Microsoft.AspNetCore", [] },
        { "Orchestrations", "Serverless.Functions", [] },
        // Cross-cutting code never reaches into a feature.
        { "Functions/Platform", "Serverless.Functions.Features", [] },
        { "Functions/Triggers", "Serverless.Functions.Features", [] },
        // A feature uses another only through the types it makes public; these are the allowed edges.
        { "Functions/Features/Identity", "Serverless.Functions.Features", ["Serverless.Functions.Features.Identity", "Serverless.Functions.Features.Workspaces"] },
        { "Functions/Features/Workspaces", "Serverless.Functions.Features", ["Serverless.Functions.Features.Workspaces"] },
        // Credits bill a call made for no user to the workspace's owner.
        { "Functions/Features/Credits", "Serverless.Functions.Features", ["Serverless.Functions.Features.Credits", "Serverless.Functions.Features.Workspaces"] },
        { "Functions/Features/ApiKeys", "Serverless.Functions.Features", ["Serverless.Functions.Features.ApiKeys"] },
        { "Functions/Features/Health", "Serverless.Functions.Features", ["Serverless.Functions.Features.Health"] },
        { "Functions/Features/Workflows", "Serverless.Functions.Features", ["Serverless.Functions.Features.Workflows"] },
        { "Functions/Features/Apps", "Serverless.Functions.Features", ["Serverless.Functions.Features.Apps", "Serverless.Functions.Features.Workflows"] },
        { "Functions/Features/Library", "Serverless.Functions.Features", ["Serverless.Functions.Features.Library", "Serverless.Functions.Features.Workflows"] },
        { "Functions/Features/Models", "Serverless.Functions.Features", ["Serverless.Functions.Features.Models"] },
        // A provider is a monitored component: the providers feature plugs its probes into health.
        { "Functions/Features/Providers", "Serverless.Functions.Features", ["Serverless.Functions.Features.Providers", "Serverless.Functions.Features.Health"] },
        { "Functions/Features/Ollama", "Serverless.Functions.Features", ["Serverless.Functions.Features.Ollama"] },
        { "Functions/Features/Tasks", "Serverless.Functions.Features", ["Serverless.Functions.Features.Tasks"] },
        // Otto reads workflows, runs and the blocks catalog, and holds proposals to the checks of a new workflow.
        { "Functions/Features/Otto", "Serverless.Functions.Features", ["Serverless.Functions.Features.Otto", "Serverless.Functions.Features.Workflows"] },
        // Triggers start runs of workflows (WorkflowRunner) and answer with their views.
        { "Functions/Features/WorkflowTriggers", "Serverless.Functions.Features", ["Serverless.Functions.Features.WorkflowTriggers", "Serverless.Functions.Features.Workflows"] },
        { "Functions/Features/Webhooks", "Serverless.Functions.Features", ["Serverless.Functions.Features.Webhooks"] },
        // Nodes and plugins reach stored credentials through the ICredentialResolver port, never through this feature's types.
        { "Functions/Features/Integrations", "Serverless.Functions.Features", ["Serverless.Functions.Features.Integrations"] },
        // Processes start runs of workflows (WorkflowRunner) and wait for them like POST /run does; they offer the task
        // assistant their tools (Tasks.IAssistantToolSet).
        { "Functions/Features/Processes", "Serverless.Functions.Features", ["Serverless.Functions.Features.Processes", "Serverless.Functions.Features.Workflows", "Serverless.Functions.Features.Tasks"] },
        // Datasets answer retrieval for chat apps and the knowledge_retrieval node; they embed through the gateway.
        { "Functions/Features/Datasets", "Serverless.Functions.Features", ["Serverless.Functions.Features.Datasets", "Serverless.Functions.Features.Workflows"] },
        // Chat answers with an app's config (Apps), runs workflow apps and follows their events (Workflows), and
        // retrieves from an app's datasets through the retrieval contract (Datasets).
        { "Functions/Features/Chat", "Serverless.Functions.Features", ["Serverless.Functions.Features.Chat", "Serverless.Functions.Features.Apps", "Serverless.Functions.Features.Workflows", "Serverless.Functions.Features.Datasets"] },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Folder_DoesNotUseForbiddenNamespaces(string folder, string forbidden, string[] allowed)
    {
        var offenders = Directory.GetFiles(Path.Combine(RepoPaths.Root, folder), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                     && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => UsingPattern().Matches(File.ReadAllText(f)).Select(m => (File: Path.GetRelativePath(RepoPaths.Root, f), Namespace: m.Groups[1].Value)))
            .Where(u => u.Namespace.StartsWith(forbidden, StringComparison.Ordinal) && !allowed.Any(a => u.Namespace.StartsWith(a, StringComparison.Ordinal)))
            .Select(u => $"{u.File}: {u.Namespace}")
            .ToList();

        Assert.True(offenders.Count == 0, string.Join("\n", offenders));
    }

    [Fact]
    public void OrchestrationsAssembly_ReferencesNoAspNetCore()
    {
        var references = typeof(Serverless.Orchestrations.Ports.IEntityStore).Assembly.GetReferencedAssemblies().Select(a => a.Name ?? "");

        Assert.DoesNotContain(references, r => r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"^\s*(?:global\s+)?using\s+(?:static\s+)?([A-Za-z0-9_.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex UsingPattern();
}
