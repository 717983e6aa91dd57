using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Orchestrations.Nodes;

/// <summary>
/// The code node's ceilings (operator settings, section <c>CodeNode</c>): a node's <c>config.limits</c> may lower each
/// one, never raise it.
/// </summary>
public class CodeNodeLimits
{
    /// <summary>Wall-clock time of one run of a script (ms).</summary>
    [Range(1, 300_000)]
    public int TimeoutMilliseconds { get; set; } = 5_000;

    /// <summary>Statements one run may execute.</summary>
    [Range(1, int.MaxValue)]
    public int MaxStatements { get; set; } = 10_000_000;

    /// <summary>Managed memory one run may allocate, in bytes (allocated, not retained: garbage counts too).</summary>
    [Range(1024 * 1024, 4L * 1024 * 1024 * 1024)]
    public long MemoryBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>How deep one function's calls may nest (the script threads' 16 MiB stacks hold several thousand).</summary>
    [Range(1, 5_000)]
    public int RecursionDepth { get; set; } = 1_000;

    /// <summary>Largest output, serialized as UTF-8 JSON (bytes).</summary>
    [Range(1, 16 * 1024 * 1024)]
    public int MaxOutputBytes { get; set; } = 1024 * 1024;

    /// <summary>Longest code, in characters.</summary>
    [Range(1, 1024 * 1024)]
    public int MaxCodeLength { get; set; } = 64 * 1024;

    /// <summary>Longest string the growing built-ins (<c>repeat</c>, <c>padStart</c>, <c>padEnd</c>, <c>replace</c>, <c>replaceAll</c>, <c>concat</c>) may build.</summary>
    [Range(1024, 256 * 1024 * 1024)]
    public int MaxStringLength { get; set; } = 8 * 1024 * 1024;

    /// <summary>Scripts running at once in this process (more wait for a turn); 0: one per processor.</summary>
    [Range(0, 256)]
    public int Concurrency { get; set; }
}

/// <summary>
/// <c>code</c>: runs JavaScript in a sandbox (Jint) as the body of <c>function (inputs, nodes)</c>: <c>inputs</c> are the
/// run's inputs, <c>nodes.&lt;id&gt;</c> the outputs of the succeeded nodes upstream. The returned value is the output
/// when it is an object, else <c>{result: value}</c>. The script reaches nothing of the host, and hard limits on time,
/// statements, memory, recursion and output size end it with a failure; only running out of time is retryable. Runs as
/// an activity: it costs CPU, and its limits need a thread of its own, not the orchestration's.
/// </summary>
public sealed class CodeNode : INodeType, IDisposable
{
    private readonly CodeNodeLimits _limits;
    private readonly ScriptSandbox _sandbox;

    /// <summary>Creates the node with the operator's ceilings.</summary>
    public CodeNode(CodeNodeLimits limits)
    {
        _limits = limits;
        _sandbox = new ScriptSandbox(limits.Concurrency > 0 ? limits.Concurrency : Environment.ProcessorCount, limits.MaxStringLength);
        Descriptor = new("code", "Code (JavaScript)",
            "Runs config.code, the body of function (inputs, nodes): inputs are the run's inputs, nodes.<id> the outputs of the nodes upstream. " +
            "Return a JSON value: an object is the node's output, anything else v is output as {result: v}. A sandbox: no require, modules, " +
            "eval, timers, network, file system or host objects; hard limits on time, statements, memory, recursion and output size (config.limits may lower them). " +
            "Errors name the line and column; only a timeout is retryable.", "transform",
            Schemas.Parse($$"""
                {"type":"object","required":["code"],"properties":{
                  "language":{"enum":["javascript"],"default":"javascript"},
                  "code":{"type":"string","minLength":1,"maxLength":{{limits.MaxCodeLength}},"description":"taken as written (references in it are not resolved), e.g. return { doubled: inputs.n * 2 };"},
                  "limits":{"type":"object","properties":{
                    "timeoutMilliseconds":{"type":"integer","minimum":1,"maximum":{{limits.TimeoutMilliseconds}},"default":{{limits.TimeoutMilliseconds}} },
                    "maxStatements":{"type":"integer","minimum":1,"maximum":{{limits.MaxStatements}},"default":{{limits.MaxStatements}} },
                    "memoryBytes":{"type":"integer","minimum":1,"maximum":{{limits.MemoryBytes}},"default":{{limits.MemoryBytes}} },
                    "recursionDepth":{"type":"integer","minimum":1,"maximum":{{limits.RecursionDepth}},"default":{{limits.RecursionDepth}} },
                    "maxOutputBytes":{"type":"integer","minimum":1,"maximum":{{limits.MaxOutputBytes}},"default":{{limits.MaxOutputBytes}} } } } } }
                """),
            Schemas.Parse("""{"type":"object","description":"the returned object, or {result: value} for any other JSON value"}"""), [], IsInstant: false);
    }

    /// <inheritdoc />
    public NodeTypeDescriptor Descriptor { get; }

    /// <inheritdoc />
    public IReadOnlyCollection<string> LiteralConfig { get; } = ["code"];

    /// <inheritdoc />
    public IEnumerable<string> Validate(NodeDefinition node)
    {
        var config = node.Config;
        if (config?["language"] is { } language && JsonValues.AsString(language) != "javascript")
        {
            yield return "config.language must be javascript.";
        }

        foreach (var problem in LimitProblems(config?["limits"]))
        {
            yield return problem;
        }

        if (config?["code"] is not { } codeValue)
        {
            yield break; // the required-field check reports it
        }

        if (JsonValues.AsString(codeValue) is not { Length: > 0 } code)
        {
            yield return "config.code must be a non-empty string.";
        }
        else if (code.Length > _limits.MaxCodeLength)
        {
            yield return $"config.code is {code.Length} characters; at most {_limits.MaxCodeLength} are allowed.";
        }
        else if (_sandbox.CheckSyntax(code) is { } syntax)
        {
            yield return $"config.code: {syntax.Message}";
        }
    }

    /// <inheritdoc />
    public async ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        if (JsonValues.AsString(context.Config["code"]) is not { Length: > 0 } code || code.Length > _limits.MaxCodeLength)
        {
            return NodeResult.Fail("CODE_INVALID_CONFIG", $"config.code must be a string of 1 to {_limits.MaxCodeLength} characters.", retryable: false);
        }

        var outcome = await _sandbox.RunAsync(code, Arguments(context), EffectiveLimits(context.Config["limits"] as JsonObject), cancellationToken);
        if (outcome.Failure is { } failure)
        {
            var details = failure.Line is { } line ? new JsonObject { ["line"] = line, ["column"] = failure.Column } : null;
            return NodeResult.Fail(failure.Code, failure.Message, failure.Retryable, details);
        }

        return NodeResult.Complete(outcome.Value as JsonObject ?? new JsonObject { ["result"] = outcome.Value });
    }

    /// <inheritdoc />
    public void Dispose() => _sandbox.Dispose();

    /// <summary>The limits of one run: the node's own where it set them lower than the ceilings.</summary>
    private ScriptLimits EffectiveLimits(JsonObject? requested)
    {
        long Lower(string name, long ceiling) =>
            JsonValues.AsNumber(requested?[name]) is { } value and >= 1 ? (long)Math.Min(value, ceiling) : ceiling;

        return new ScriptLimits(
            TimeSpan.FromMilliseconds(Lower("timeoutMilliseconds", _limits.TimeoutMilliseconds)),
            (int)Lower("maxStatements", _limits.MaxStatements),
            Lower("memoryBytes", _limits.MemoryBytes),
            (int)Lower("recursionDepth", _limits.RecursionDepth),
            (int)Lower("maxOutputBytes", _limits.MaxOutputBytes));
    }

    private IEnumerable<string> LimitProblems(JsonNode? limits)
    {
        if (limits is null)
        {
            yield break;
        }

        if (limits is not JsonObject requested)
        {
            yield return "config.limits must be an object.";
            yield break;
        }

        var ceilings = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["timeoutMilliseconds"] = _limits.TimeoutMilliseconds,
            ["maxStatements"] = _limits.MaxStatements,
            ["memoryBytes"] = _limits.MemoryBytes,
            ["recursionDepth"] = _limits.RecursionDepth,
            ["maxOutputBytes"] = _limits.MaxOutputBytes,
        };
        foreach (var (name, value) in requested)
        {
            if (!ceilings.TryGetValue(name, out var ceiling))
            {
                yield return $"config.limits.{name} is not a limit (use {string.Join(", ", ceilings.Keys)}).";
            }
            else if (JsonValues.AsNumber(value) is not { } number || number < 1 || number != Math.Floor(number))
            {
                yield return $"config.limits.{name} must be a whole number of at least 1.";
            }
            else if (number > ceiling)
            {
                yield return $"config.limits.{name} may lower the platform's limit but not raise it: at most {ceiling.ToString(CultureInfo.InvariantCulture)}.";
            }
        }
    }

    /// <summary>The script's arguments as one JSON document (<c>{"inputs": …, "nodes": …}</c>), parsed inside the engine: no .NET object reaches the script.</summary>
    private static string Arguments(NodeContext context)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("inputs");
            context.RunInputs.WriteTo(writer);
            writer.WriteStartObject("nodes");
            foreach (var (id, output) in context.UpstreamOutputs)
            {
                writer.WritePropertyName(id);
                if (output is null)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    output.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
