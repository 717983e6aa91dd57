using System.Text.Json.Nodes;
using Serverless.Functions.Features.Tasks;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Processes;

/// <summary>The task assistant's process tools (Behflow): list the workspace's processes, and run one as the caller.</summary>
internal sealed class ProcessAssistantTools(ProcessStore processes, ProcessExecutor executor) : IAssistantToolSet
{
    private const string ListTool = "list_processes";
    private const string RunTool = "run_process";

    public IEnumerable<JsonObject> Definitions() =>
    [
        AgentTools.Tool(ListTool, "List the workspace's automated processes (id, name, trigger, whether active, next run).", []),
        AgentTools.Tool(RunTool, "Run a process now (its workflow starts with the process's inputs).",
            new JsonObject { ["process_id"] = AgentTools.Str("The process's id (process_id from list_processes).") }, "process_id"),
    ];

    public async Task<string?> TryRunAsync(string name, JsonObject arguments, AssistantTurn turn, CancellationToken cancellationToken)
    {
        switch (name)
        {
            case ListTool:
            {
                var page = await IndexedPaging.PageAsync(processes.List, turn.WorkspaceId, ListQuery.Default with { Limit = 100 },
                    new ListRequest<ProcessRecord>(), cancellationToken);
                return AgentTools.Answer(new { ok = true, processes = page!.Items.Select(ProcessDto.From) });
            }

            case RunTool:
            {
                var id = arguments["process_id"]?.ToString() ?? arguments["id"]?.ToString();
                if (string.IsNullOrEmpty(id))
                {
                    return AgentTools.Error("process_id is required.");
                }

                if (await processes.GetAsync(turn.WorkspaceId, id, cancellationToken) is not { } process)
                {
                    return AgentTools.Error($"No process has the id '{id}'.");
                }

                var execution = await executor.StartAsync(process, new ProcessStart(ProcessStart.Manual, RunPrincipals.Of(turn.Caller)), cancellationToken);
                return AgentTools.Answer(new { ok = execution.Status != ProcessExecutionStatus.Failed, execution = ProcessExecutionDto.From(execution) });
            }

            default:
                return null;
        }
    }
}
