using System.Text.Json.Nodes;
using Microsoft.Extensions.Caching.Memory;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Analytics;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Analytics;

/// <summary>
/// Counts every top-level run in the roll-ups when it ends: outcome, duration, node attempts, and the minutes it saved
/// (its workflow's <c>minutesSavedPerRun</c>). A run is attributed to the app its starter named (metadata
/// <c>appId</c>) or else its workflow's app. Workflow settings are cached for a minute, so a burst of runs costs one read.
/// </summary>
internal sealed class RunAnalytics(AnalyticsRecorder recorder, WorkflowStore workflows, IMemoryCache cache, TimeProvider time) : IRunCompletionListener
{
    private static readonly TimeSpan SettingsLifetime = TimeSpan.FromMinutes(1);

    private sealed record WorkflowFacts(string? AppId, decimal MinutesSaved);

    public async Task OnRunEndedAsync(ExecutionDocument run, CancellationToken cancellationToken)
    {
        var facts = await FactsAsync(run.WorkspaceId, run.WorkflowId, cancellationToken);
        var ended = run.CompletedAt ?? time.GetUtcNow();
        var started = run.StartedAt ?? run.CreatedAt;
        // Buckets follow the platform clock at the moment the end is recorded (as usage rows and alert windows do); the
        // duration comes from the run's own times.
        var nodes = new List<NodeFact>();
        foreach (var node in run.Definition.Nodes)
        {
            if (run.Nodes.TryGetValue(node.Id, out var state) && state.StartedAt is { } nodeStart)
            {
                nodes.Add(new NodeFact(node.Type, state.Status == NodeStatus.Failed,
                    state.CompletedAt is { } nodeEnd ? Math.Max(0, (nodeEnd - nodeStart).TotalMilliseconds) : null));
            }
        }

        var appId = run.Metadata?["appId"] is JsonValue app && app.TryGetValue<string>(out var named) ? named : facts.AppId;
        recorder.Run(new RunFact(
            run.WorkspaceId, run.WorkflowId, appId, run.Principal?.UserId, run.Principal?.ApiKeyId, run.Status, time.GetUtcNow(),
            Math.Max(0, (ended - started).TotalMilliseconds), facts.MinutesSaved, nodes));
    }

    private async Task<WorkflowFacts> FactsAsync(string workspaceId, string workflowId, CancellationToken cancellationToken)
    {
        var key = (nameof(RunAnalytics), workspaceId, workflowId);
        if (cache.TryGetValue(key, out WorkflowFacts? known) && known is not null)
        {
            return known;
        }

        var workflow = (await workflows.GetAsync(workspaceId, workflowId, cancellationToken))?.Value;
        var facts = new WorkflowFacts(workflow?.AppId, workflow?.MinutesSavedPerRun ?? 0);
        cache.Set(key, facts, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = SettingsLifetime, Size = 1 });
        return facts;
    }
}
