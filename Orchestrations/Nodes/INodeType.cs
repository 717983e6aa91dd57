using System.Text.Json.Nodes;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Orchestrations.Nodes;

/// <summary>
/// A kind of node. Instant types are pure functions of the run's state: the orchestration runs them in the step that
/// made them ready. Other types may have effects or wait; each attempt of a type with effects is an activity.
/// Later features add their own types (LLM, retrieval, plugins) through this interface.
/// </summary>
public interface INodeType
{
    /// <summary>What the type is, its config schema and branches; published at <c>GET /api/v1/blocks</c>.</summary>
    NodeTypeDescriptor Descriptor { get; }

    /// <summary>
    /// Runs one attempt. <paramref name="context"/> holds the config with references resolved. Instant types must
    /// not block or have effects.
    /// </summary>
    ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken);

    /// <summary>Continues a node that waited (its timer fired, its children finished, a decision arrived).</summary>
    ValueTask<NodeResult> ResumeAsync(NodeContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(NodeResult.Fail("NOT_RESUMABLE", $"Node type {Descriptor.Type} does not wait.", retryable: false));

    /// <summary>
    /// Whether the orchestration runs this type's attempts and resumes itself, with no activity round trip. True for
    /// instant types and for types that only decide what to wait for (a delay, a review, child runs): their code must
    /// then be deterministic (time only from <see cref="NodeContext.Clock"/>; no I/O, ids or randomness), because an
    /// orchestration replays it. Types with effects keep the default and run as activities, at least once.
    /// </summary>
    bool RunsInOrchestration => Descriptor.IsInstant;

    /// <summary>
    /// Config fields taken as written: the engine resolves no <c>{{reference}}</c> in them and the validator checks none
    /// (a code node's source, which reads the run's values itself and must not have them spliced into it).
    /// </summary>
    IReadOnlyCollection<string> LiteralConfig => [];

    /// <summary>Type-specific checks of a node's config, beyond the schema's required fields.</summary>
    IEnumerable<string> Validate(NodeDefinition node) => [];

    /// <summary>
    /// The source handles edges leaving <paramref name="node"/> may name. Most types branch the same way for every
    /// node (<see cref="NodeTypeDescriptor.Branches"/>); a type whose branches come from the node's config (a
    /// classifier's class ids) overrides this.
    /// </summary>
    IReadOnlyList<string> BranchesFor(NodeDefinition node) => Descriptor.Branches;
}

/// <summary>The published description of a node type.</summary>
/// <param name="Type">The type name used in definitions.</param>
/// <param name="Name">Display name.</param>
/// <param name="Description">What it does.</param>
/// <param name="Category">Grouping for a palette.</param>
/// <param name="ConfigSchema">JSON schema of <c>config</c> (type-specific part).</param>
/// <param name="OutputSchema">JSON schema of the node's output.</param>
/// <param name="Branches">The source handles its outgoing edges may name; empty for a single default branch (or branches that depend on the node, see <see cref="INodeType.BranchesFor"/>).</param>
/// <param name="IsInstant">Runs inline in the checkpoint (pure, no effects, no waiting).</param>
public sealed record NodeTypeDescriptor(
    string Type,
    string Name,
    string Description,
    string Category,
    JsonObject ConfigSchema,
    JsonObject OutputSchema,
    IReadOnlyList<string> Branches,
    bool IsInstant)
{
    /// <summary>The config fields the schema marks required.</summary>
    public IEnumerable<string> RequiredConfig =>
        ConfigSchema["required"] is JsonArray required ? required.Select(r => JsonValues.AsString(r) ?? "") : [];
}

/// <summary>What an attempt (or a resume) came to.</summary>
public sealed record NodeResult
{
    /// <summary>Completed, Waiting or Failed.</summary>
    public NodeOutcome Outcome { get; private init; }

    /// <summary>The output when completed.</summary>
    public JsonNode? Output { get; private init; }

    /// <summary>The branch taken when completed (null: the default branch).</summary>
    public string? Branch { get; private init; }

    /// <summary>What the node waits for when waiting.</summary>
    public WaitRequest? Wait { get; private init; }

    /// <summary>The error when failed.</summary>
    public NodeError? Error { get; private init; }

    /// <summary>A finished node.</summary>
    public static NodeResult Complete(JsonNode? output, string? branch = null) => new() { Outcome = NodeOutcome.Completed, Output = output, Branch = branch };

    /// <summary>A node that waits (durably) for a timer, an external decision or child runs.</summary>
    public static NodeResult WaitFor(WaitRequest wait) => new() { Outcome = NodeOutcome.Waiting, Wait = wait };

    /// <summary>A failed attempt; <paramref name="retryable"/> lets the node's retry policy try again.</summary>
    public static NodeResult Fail(string code, string message, bool retryable, JsonNode? details = null) =>
        new() { Outcome = NodeOutcome.Failed, Error = new NodeError(code, message, retryable, details) };
}

/// <summary>The kinds of <see cref="NodeResult"/>.</summary>
public enum NodeOutcome
{
    /// <summary>Finished with an output.</summary>
    Completed,
    /// <summary>Waiting durably.</summary>
    Waiting,
    /// <summary>Failed.</summary>
    Failed,
}

/// <summary>A node's error.</summary>
/// <param name="Code">Machine-readable code (e.g. HTTP_ERROR, NODE_TIMEOUT).</param>
/// <param name="Message">Human-readable message.</param>
/// <param name="Retryable">Whether trying again may help.</param>
/// <param name="Details">Extra data (e.g. the HTTP response).</param>
public sealed record NodeError(string Code, string Message, bool Retryable, JsonNode? Details = null);

/// <summary>What a waiting node waits for. Exactly one of the members is set.</summary>
public sealed record WaitRequest
{
    /// <summary>Resume at this moment (a durable timer).</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>Resume when this external event arrives (e.g. <c>review</c>).</summary>
    public string? EventName { get; init; }

    /// <summary>Start these child runs; resume as each finishes.</summary>
    public IReadOnlyList<ChildRunRequest>? Children { get; init; }

    /// <summary>State the node keeps across resumes (e.g. a loop's progress).</summary>
    public JsonObject? State { get; init; }

    /// <summary>Data shown to whoever resolves an external event (e.g. review instructions).</summary>
    public JsonObject? Prompt { get; init; }
}

/// <summary>A child run to start for a waiting node. <paramref name="Key"/> makes its id deterministic, so starting it twice is harmless.</summary>
/// <param name="Key">Unique among the node's children (e.g. the loop index).</param>
/// <param name="WorkflowId">The workflow to run.</param>
/// <param name="Version">A pinned version, or null for the current one.</param>
/// <param name="Inputs">The child's inputs.</param>
public sealed record ChildRunRequest(string Key, string WorkflowId, int? Version, JsonObject Inputs);

/// <summary>The outcome of a child run, as its parent node sees it.</summary>
/// <param name="ExecutionId">The child run.</param>
/// <param name="Status">Its terminal status.</param>
/// <param name="Outputs">Its outputs when it succeeded.</param>
/// <param name="Error">Its error when it did not.</param>
public sealed record ChildResult(string ExecutionId, string Status, JsonObject? Outputs, string? Error);
