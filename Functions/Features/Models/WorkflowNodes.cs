using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Ai;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Functions.Features.Models;

/// <summary>What one chat call from a node came to: the answer's text, the model that served it and its tokens.</summary>
internal sealed record ModelNodeAnswer(string Text, string Model, TokenUsage Usage)
{
    public JsonObject UsageJson => new()
    {
        ["promptTokens"] = Usage.PromptTokens,
        ["completionTokens"] = Usage.CompletionTokens,
        ["totalTokens"] = Usage.TotalTokens,
    };
}

/// <summary>
/// The gateway call the LLM nodes share. Calls go in as the run's workspace and, when the run says who started it, as
/// that user and API key under the key's model limits (allow-list, quotas, budget) as they were when the run started;
/// usage rows say <c>workflow</c>. Failures become node errors the retry policy understands.
/// </summary>
internal sealed class ModelNodeCalls(ModelGateway gateway)
{
    public const string Source = "workflow";

    public static ModelCaller CallerOf(NodeContext context) => context.Principal is { } principal
        ? new ModelCaller(context.WorkspaceId, principal.UserId, principal.ApiKeyId, principal.Limits?.Deserialize<ModelLimits>(JsonSerializerOptions.Web), Source,
            context.WorkflowId, context.AppId)
        : new ModelCaller(context.WorkspaceId, null, null, null, Source, context.WorkflowId, context.AppId);

    public async Task<(ModelNodeAnswer? Answer, NodeResult? Failure)> CompleteAsync(NodeContext context, JsonObject request, CancellationToken cancellationToken)
    {
        var caller = CallerOf(context);
        var outcome = await gateway.CompleteChatAsync(caller, request, cancellationToken);
        if (outcome.Failure is { } failure)
        {
            return (null, Failed(failure));
        }

        var response = outcome.Value!;
        var text = JsonValues.ToText(response.Json["choices"]?[0]?["message"]?["content"]);
        return (new ModelNodeAnswer(text, response.Model, response.Usage), null);
    }

    /// <summary>
    /// Like <see cref="CompleteAsync"/>, but streams the answer and reports its text as <c>node.token</c> events while it
    /// arrives. Tokens are batched (<see cref="TokenFlushInterval"/> or <see cref="TokenFlushCharacters"/>, whichever comes
    /// first) because each event is a commit of the run: a long answer must not cost a write per token.
    /// </summary>
    public async Task<(ModelNodeAnswer? Answer, NodeResult? Failure)> StreamAsync(NodeContext context, JsonObject request, CancellationToken cancellationToken)
    {
        var caller = CallerOf(context);
        request["stream"] = true;
        request["stream_options"] = new JsonObject { ["include_usage"] = true };
        var opened = await gateway.StreamChatAsync(caller, request, cancellationToken);
        if (opened.Failure is { } refused)
        {
            return (null, Failed(refused));
        }

        await using var stream = opened.Value!;
        var text = new System.Text.StringBuilder();
        var pending = new System.Text.StringBuilder();
        var lastFlush = context.Clock.GetTimestamp();
        await foreach (var chunk in stream.ReadEventsAsync(cancellationToken))
        {
            if (string.IsNullOrEmpty(chunk.ContentDelta))
            {
                continue;
            }

            text.Append(chunk.ContentDelta);
            pending.Append(chunk.ContentDelta);
            if (pending.Length >= TokenFlushCharacters || context.Clock.GetElapsedTime(lastFlush) >= TokenFlushInterval)
            {
                await FlushAsync(context, pending, cancellationToken);
                lastFlush = context.Clock.GetTimestamp();
            }
        }

        await FlushAsync(context, pending, cancellationToken);
        return stream.Failure is { } broken
            ? (null, Failed(broken))
            : (new ModelNodeAnswer(text.ToString(), stream.Model, stream.Usage), null);
    }

    // Every flush rewrites the whole run document. At 50 ms a model writing a token every 60 ms cost a commit per
    // token (100 tokens: 98 commits); a quarter second keeps a long answer to at most four commits a second.
    public static readonly TimeSpan TokenFlushInterval = TimeSpan.FromMilliseconds(250);

    public const int TokenFlushCharacters = 256;

    private static async Task FlushAsync(NodeContext context, System.Text.StringBuilder pending, CancellationToken cancellationToken)
    {
        if (pending.Length > 0)
        {
            await context.EmitAsync("token", new JsonObject { ["content"] = pending.ToString() }, cancellationToken);
            pending.Clear();
        }
    }

    private static NodeResult Failed(ModelFailure failure)
    {
        // 429 and 5xx (and timeouts, which the gateway reports as 504) can pass; anything else is the request's fault.
        var retryable = failure.Status is 429 or >= 500 || failure.Kind == ModelFailureKind.Timeout;
        return NodeResult.Fail("AI_SERVICE_ERROR", failure.Message, retryable,
            new JsonObject { ["status"] = failure.Status, ["code"] = ModelResults.CodeOf(failure) });
    }

    public static JsonObject Request(JsonObject config, string? system, string user, bool jsonMode)
    {
        var messages = new JsonArray();
        if (!string.IsNullOrEmpty(system))
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = system });
        }

        messages.Add(new JsonObject { ["role"] = "user", ["content"] = user });
        var request = new JsonObject { ["model"] = JsonValues.ToText(config["model"]), ["messages"] = messages };
        if (JsonValues.AsNumber(config["temperature"]) is { } temperature)
        {
            request["temperature"] = temperature;
        }

        if (JsonValues.AsNumber(config["maxTokens"]) is { } maxTokens)
        {
            request["max_tokens"] = (int)maxTokens;
        }

        if (jsonMode)
        {
            request["response_format"] = new JsonObject { ["type"] = "json_object" };
        }

        return request;
    }

    /// <summary>The answer as a JSON object, tolerating a Markdown code fence some models wrap JSON in.</summary>
    public static JsonObject? ParseObject(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.StartsWith("```", StringComparison.Ordinal))
        {
            var firstLine = trimmed.IndexOf('\n');
            var lastFence = trimmed.LastIndexOf("```", StringComparison.Ordinal);
            trimmed = firstLine >= 0 && lastFence > firstLine ? trimmed[(firstLine + 1)..lastFence] : trimmed;
        }

        try
        {
            return JsonNode.Parse(trimmed) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static bool IsTrue(JsonNode? node) => node is JsonValue value && value.GetValueKind() == JsonValueKind.True;

    /// <summary>Checks shared by the three types: a number that is a literal (not a reference) must be in range.</summary>
    public static IEnumerable<string> ValidateSampling(JsonObject? config)
    {
        if (config?["temperature"] is JsonValue temperature && temperature.GetValueKind() == JsonValueKind.Number
            && JsonValues.AsNumber(temperature) is not (>= 0 and <= 2))
        {
            yield return "config.temperature must be between 0 and 2.";
        }

        if (config?["maxTokens"] is JsonValue maxTokens && maxTokens.GetValueKind() == JsonValueKind.Number
            && JsonValues.AsNumber(maxTokens) is { } max && (max < 1 || max != Math.Floor(max)))
        {
            yield return "config.maxTokens must be a positive integer.";
        }
    }
}

/// <summary>
/// <c>llm</c>: one chat completion; outputs the text (and its JSON in JSON mode) with the tokens it used. By default it
/// streams and reports the text as <c>node.token</c> events while the model writes (chat and execution SSE show them);
/// a retried attempt reports its tokens again.
/// </summary>
internal sealed class LlmNode(ModelNodeCalls calls) : INodeType
{
    public NodeTypeDescriptor Descriptor { get; } = new("llm", "LLM", "Calls a model through the gateway with a system and a user prompt; outputs text, json (in JSON mode), model and token usage.", "ai",
        JsonNode.Parse("""
            {"type":"object","required":["model","userPrompt"],"properties":{
              "model":{"type":"string","description":"a model id the workspace can call (GET /v1/models)"},
              "systemPrompt":{"type":"string"},"userPrompt":{"type":"string"},
              "temperature":{"type":"number","minimum":0,"maximum":2},"maxTokens":{"type":"integer","minimum":1},
              "jsonMode":{"type":"boolean","default":false,"description":"asks for a JSON object (response_format json_object)"},
              "stream":{"type":"boolean","default":true,"description":"streams the answer and reports it as node.token events while it arrives"}}}
            """)!.AsObject(),
        JsonNode.Parse("""
            {"type":"object","properties":{"text":{"type":"string"},"json":{"description":"the parsed answer in JSON mode"},"model":{"type":"string"},
              "usage":{"type":"object","properties":{"promptTokens":{"type":"integer"},"completionTokens":{"type":"integer"},"totalTokens":{"type":"integer"}}}}}
            """)!.AsObject(),
        [], IsInstant: false);

    public IEnumerable<string> Validate(NodeDefinition node) =>
        node.Config?["stream"] is { } stream && stream.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)
            ? ModelNodeCalls.ValidateSampling(node.Config).Append("config.stream must be true or false.")
            : ModelNodeCalls.ValidateSampling(node.Config);

    public async ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var config = context.Config;
        var jsonMode = ModelNodeCalls.IsTrue(config["jsonMode"]);
        var request = ModelNodeCalls.Request(config, JsonValues.ToText(config["systemPrompt"]),
            JsonValues.ToText(config["userPrompt"]), jsonMode);
        var stream = config["stream"] is not JsonValue flag || flag.GetValueKind() != JsonValueKind.False;
        var (answer, failure) = stream
            ? await calls.StreamAsync(context, request, cancellationToken)
            : await calls.CompleteAsync(context, request, cancellationToken);
        if (answer is null)
        {
            return failure!;
        }

        var output = new JsonObject { ["text"] = answer.Text, ["model"] = answer.Model, ["usage"] = answer.UsageJson };
        if (jsonMode)
        {
            output["json"] = ModelNodeCalls.ParseObject(answer.Text);
        }

        return NodeResult.Complete(output);
    }
}

/// <summary>
/// <c>question_classifier</c>: asks the model which of the node's classes a question belongs to and takes the
/// branch named by that class id. The branches are the node's own class ids, so edges are checked per node.
/// </summary>
internal sealed class QuestionClassifierNode(ModelNodeCalls calls) : INodeType
{
    private const int Tries = 2;

    public NodeTypeDescriptor Descriptor { get; } = new("question_classifier", "Question classifier", "Asks a model which class a question belongs to; takes the branch named by the class id (edges name class ids).", "ai",
        JsonNode.Parse("""
            {"type":"object","required":["model","question","classes"],"properties":{
              "model":{"type":"string"},"question":{"type":"string"},
              "classes":{"type":"array","minItems":2,"items":{"type":"object","required":["id","description"],"properties":{"id":{"type":"string"},"description":{"type":"string"}}}},
              "instructions":{"type":"string","description":"extra guidance for the model"},
              "temperature":{"type":"number","minimum":0,"maximum":2}}}
            """)!.AsObject(),
        JsonNode.Parse("""
            {"type":"object","properties":{"classId":{"type":"string"},"reason":{"type":"string"},"model":{"type":"string"},"usage":{"type":"object"}}}
            """)!.AsObject(),
        [], IsInstant: false);

    public IReadOnlyList<string> BranchesFor(NodeDefinition node) =>
        (node.Config?["classes"] as JsonArray ?? []).Select(c => JsonValues.AsString(c?["id"])).OfType<string>().ToList();

    public IEnumerable<string> Validate(NodeDefinition node)
    {
        if (node.Config?["classes"] is not JsonArray { Count: >= 2 } classes)
        {
            yield return "config.classes must be an array of at least two {id, description}.";
            yield break;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (entry, i) in classes.Select((c, i) => (c, i)))
        {
            var id = JsonValues.AsString(entry?["id"]);
            if (string.IsNullOrWhiteSpace(id))
            {
                yield return $"config.classes[{i}].id must be a non-empty string.";
            }
            else if (id is Handles.Error or Handles.Default)
            {
                yield return $"config.classes[{i}].id may not be '{id}': edges use that name for another outcome.";
            }
            else if (!seen.Add(id))
            {
                yield return $"config.classes[{i}].id '{id}' is used twice.";
            }
        }

        foreach (var problem in ModelNodeCalls.ValidateSampling(node.Config))
        {
            yield return problem;
        }
    }

    public async ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var config = context.Config;
        var classes = (config["classes"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(c => (Id: JsonValues.ToText(c["id"]), Description: JsonValues.ToText(c["description"]))).ToList();
        var system = "Classify the user's question into exactly one of these classes:\n"
            + string.Join("\n", classes.Select(c => $"- {c.Id}: {c.Description}"))
            + "\nAnswer with a JSON object {\"classId\": \"<one of the ids above, exactly>\", \"reason\": \"<one short sentence>\"}."
            + (JsonValues.AsString(config["instructions"]) is { Length: > 0 } extra ? "\n" + extra : "");
        var request = ModelNodeCalls.Request(config, system, JsonValues.ToText(config["question"]), jsonMode: true);
        var ids = classes.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        var answers = new JsonArray();
        for (var attempt = 1; attempt <= Tries; attempt++)
        {
            var (answer, failure) = await calls.CompleteAsync(context, request.DeepClone().AsObject(), cancellationToken);
            if (answer is null)
            {
                return failure!;
            }

            var parsed = ModelNodeCalls.ParseObject(answer.Text);
            // A model that ignores JSON mode may still answer with the bare id.
            var classId = (JsonValues.AsString(parsed?["classId"]) ?? answer.Text).Trim();
            if (ids.Contains(classId))
            {
                var output = new JsonObject { ["classId"] = classId, ["model"] = answer.Model, ["usage"] = answer.UsageJson };
                if (JsonValues.AsString(parsed?["reason"]) is { } reason)
                {
                    output["reason"] = reason;
                }

                return NodeResult.Complete(output, classId);
            }

            answers.Add(answer.Text);
        }

        // Retried once already; the node's retry policy may still try again, but the same model is likely to answer alike.
        return NodeResult.Fail("CLASSIFICATION_FAILED", $"The model did not answer with one of the class ids ({string.Join(", ", ids)}).",
            retryable: false, new JsonObject { ["answers"] = answers });
    }
}

/// <summary>
/// <c>parameter_extractor</c>: asks the model (JSON mode) to pull the fields of a JSON schema out of a text, then
/// checks the answer against the schema's required fields and primitive types; the output is the extracted object.
/// </summary>
internal sealed class ParameterExtractorNode(ModelNodeCalls calls) : INodeType
{
    private static readonly string[] Types = ["string", "number", "integer", "boolean", "array", "object"];

    public NodeTypeDescriptor Descriptor { get; } = new("parameter_extractor", "Parameter extractor", "Asks a model to extract the fields of a JSON schema from a text; outputs the validated object (required fields, primitive types).", "ai",
        JsonNode.Parse("""
            {"type":"object","required":["model","text","schema"],"properties":{
              "model":{"type":"string"},"text":{"type":"string"},
              "schema":{"type":"object","description":"JSON schema: properties (each with type string|number|integer|boolean|array|object and an optional description) and required"},
              "instructions":{"type":"string","description":"extra guidance for the model"},
              "temperature":{"type":"number","minimum":0,"maximum":2}}}
            """)!.AsObject(),
        JsonNode.Parse("""{"type":"object","description":"the extracted object"}""")!.AsObject(), [], IsInstant: false);

    public IEnumerable<string> Validate(NodeDefinition node)
    {
        if (node.Config?["schema"] is not JsonObject schema || schema["properties"] is not JsonObject properties || properties.Count == 0)
        {
            yield return "config.schema must be an object with non-empty properties.";
            yield break;
        }

        foreach (var (name, property) in properties)
        {
            if (JsonValues.AsString(property?["type"]) is { } type && !Types.Contains(type))
            {
                yield return $"config.schema.properties.{name}.type must be one of {string.Join(", ", Types)}.";
            }
        }

        if (schema["required"] is { } required && (required is not JsonArray list || list.Any(r => JsonValues.AsString(r) is not { } n || !properties.ContainsKey(n))))
        {
            yield return "config.schema.required must be an array of property names.";
        }

        foreach (var problem in ModelNodeCalls.ValidateSampling(node.Config))
        {
            yield return problem;
        }
    }

    public async ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var config = context.Config;
        var schema = config["schema"] as JsonObject ?? [];
        var system = "Extract parameters from the user's text. Answer with only a JSON object matching this JSON schema; "
            + "leave out a property the text does not give unless it is required.\n" + schema.ToJsonString()
            + (JsonValues.AsString(config["instructions"]) is { Length: > 0 } extra ? "\n" + extra : "");
        var request = ModelNodeCalls.Request(config, system, JsonValues.ToText(config["text"]), jsonMode: true);
        var (answer, failure) = await calls.CompleteAsync(context, request, cancellationToken);
        if (answer is null)
        {
            return failure!;
        }

        if (ModelNodeCalls.ParseObject(answer.Text) is not { } extracted)
        {
            return NodeResult.Fail("EXTRACTION_INVALID", "The model's answer is not a JSON object.", retryable: false,
                new JsonObject { ["answer"] = answer.Text, ["errors"] = new JsonArray("not a JSON object") });
        }

        var errors = Check(schema, extracted);
        return errors.Count == 0
            ? NodeResult.Complete(extracted)
            : NodeResult.Fail("EXTRACTION_INVALID", "The extracted object does not match the schema: " + string.Join(" ", errors), retryable: false,
                new JsonObject { ["answer"] = answer.Text, ["errors"] = new JsonArray([.. errors.Select(e => (JsonNode?)e)]) });
    }

    private static List<string> Check(JsonObject schema, JsonObject value)
    {
        var errors = new List<string>();
        foreach (var name in (schema["required"] as JsonArray ?? []).Select(JsonValues.AsString).OfType<string>())
        {
            if (value[name] is null)
            {
                errors.Add($"{name} is required.");
            }
        }

        foreach (var (name, property) in schema["properties"] as JsonObject ?? [])
        {
            if (value[name] is { } field && JsonValues.AsString(property?["type"]) is { } type && !HasType(field, type))
            {
                errors.Add($"{name} must be of type {type}.");
            }
        }

        return errors;
    }

    private static bool HasType(JsonNode field, string type) => type switch
    {
        "string" => field.GetValueKind() == JsonValueKind.String,
        "number" => field.GetValueKind() == JsonValueKind.Number,
        "integer" => field.GetValueKind() == JsonValueKind.Number && field.GetValue<double>() is var d && d == Math.Floor(d),
        "boolean" => field.GetValueKind() is JsonValueKind.True or JsonValueKind.False,
        "array" => field is JsonArray,
        "object" => field is JsonObject,
        _ => true,
    };
}
