using System.Text.Json.Nodes;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Functions.Features.Apps;

internal sealed record AppDto(
    string Id, string Name, string? Description, string Type, string Status, AppConfig Config, string? WorkflowId, IReadOnlyList<string> Tags,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static AppDto From(AppRecord a) => new(a.Id, a.Name, a.Description, a.Type, a.Status, a.Config, a.WorkflowId, a.Tags, a.CreatedAt, a.UpdatedAt);
}

internal sealed record WorkflowBundle(string Name, string? Description, WorkflowDefinition Definition, JsonObject? InputsSchema);

internal sealed record AppBundleApp(string Name, string? Description, string Type, string Status, AppConfig? Config, IReadOnlyList<string>? Tags);

/// <summary>An app as a portable JSON document: the app's settings and, for workflow apps, its workflow.</summary>
internal sealed record AppBundle(string Format, int FormatVersion, DateTimeOffset ExportedAt, AppBundleApp App, WorkflowBundle? Workflow)
{
    public const string FormatName = "serverless-platform.app";
    public const int CurrentVersion = 1;
}
