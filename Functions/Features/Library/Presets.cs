using System.Text.Json.Nodes;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Library;

internal sealed record PresetDto(string Id, string WorkflowId, int? WorkflowVersion, string Name, string? Description, JsonObject Inputs, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static PresetDto From(PresetRecord p) => new(p.Id, p.WorkflowId, p.WorkflowVersion, p.Name, p.Description, p.Inputs, p.CreatedAt, p.UpdatedAt);
}

internal static class ListPresets
{
    public static Task<IResult> HandleAsync(WorkspaceContext workspace, ListQuery query, string? workflowId, LibraryStore library, CancellationToken cancellationToken) =>
        LibraryItems.ListAsync(library.PresetList, workspace.WorkspaceId, query,
            new ListRequest<PresetRecord> { Filters = workflowId is null ? [] : [("workflow", workflowId)] }, PresetDto.From, cancellationToken);
}

internal static class CreatePreset
{
    internal sealed record Request(string? WorkflowId, int? WorkflowVersion, string? Name, string? Description, JsonObject? Inputs);

    public static async Task<IResult> HandleAsync(
        Request request, WorkspaceContext workspace, LibraryStore library, WorkflowStore workflows, TimeProvider time, CancellationToken cancellationToken)
    {
        var check = new Validator().Require("workflowId", request.WorkflowId, 100).Require("name", request.Name, 200).MaxLength("description", request.Description, 2000);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (await LibraryChecks.WorkflowProblemAsync(workflows, workspace.WorkspaceId, request.WorkflowId!, request.WorkflowVersion, cancellationToken) is { } problem)
        {
            return problem;
        }

        var now = time.GetUtcNow();
        var preset = new PresetRecord(LibraryStore.NewPresetId(), request.WorkflowId!, request.WorkflowVersion, request.Name!.Trim(), request.Description, request.Inputs ?? [], now, now);
        await library.Presets.InsertAsync(workspace.WorkspaceId, preset, cancellationToken);
        return Api.Created(PresetDto.From(preset), $"/api/v1/library/presets/{preset.Id}");
    }
}

internal static class GetPreset
{
    public static Task<IResult> HandleAsync(string id, WorkspaceContext workspace, LibraryStore library, CancellationToken cancellationToken) =>
        LibraryItems.GetAsync(library.Presets, workspace.WorkspaceId, id, PresetDto.From, "preset", cancellationToken);
}

internal static class UpdatePreset
{
    internal sealed record Request(string? Name, string? Description, JsonObject? Inputs, int? WorkflowVersion);

    public static Task<IResult> HandleAsync(
        string id, Request request, WorkspaceContext workspace, LibraryStore library, WorkflowStore workflows, TimeProvider time, CancellationToken cancellationToken) =>
        LibraryItems.UpdateAsync(library.Presets, workflows, workspace.WorkspaceId, id, request.Name, request.Description, request.WorkflowVersion,
            p => p.WorkflowId,
            p => p with
            {
                Name = request.Name?.Trim() ?? p.Name,
                Description = request.Description ?? p.Description,
                Inputs = request.Inputs ?? p.Inputs,
                WorkflowVersion = request.WorkflowVersion ?? p.WorkflowVersion,
                UpdatedAt = time.GetUtcNow(),
            },
            PresetDto.From, "preset", cancellationToken);
}

internal static class DeletePreset
{
    public static Task<IResult> HandleAsync(string id, WorkspaceContext workspace, LibraryStore library, CancellationToken cancellationToken) =>
        LibraryItems.DeleteAsync(library.Presets, workspace.WorkspaceId, id, "preset", cancellationToken);
}

internal static class ExecutePreset
{
    /// <summary>Optional inputs layered over the preset's (a field given here wins).</summary>
    internal sealed record Request(JsonObject? Inputs, JsonObject? Metadata);

    public static async Task<IResult> HandleAsync(
        string id, Request? request, Caller caller, WorkspaceContext workspace, LibraryStore library, WorkflowRunner runner, CancellationToken cancellationToken)
    {
        if (await library.Presets.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } preset)
        {
            return Api.NotFound("The preset was not found.");
        }

        var inputs = (JsonObject)preset.Value.Inputs.DeepClone();
        foreach (var (key, value) in request?.Inputs ?? [])
        {
            inputs[key] = value?.DeepClone();
        }

        var metadata = request?.Metadata is { } given ? (JsonObject)given.DeepClone() : [];
        metadata["presetId"] = id;
        var (run, error) = await runner.StartAsync(workspace.WorkspaceId, preset.Value.WorkflowId, preset.Value.WorkflowVersion, inputs, metadata, RunPrincipals.Of(caller), cancellationToken);
        return error ?? Api.Accepted(new ExecutionAcceptedDto(run!.Id, run.Status, run.WorkflowId, run.Version));
    }
}
