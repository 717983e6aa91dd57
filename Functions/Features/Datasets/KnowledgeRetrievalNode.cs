using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Search;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Functions.Features.Datasets;

/// <summary>
/// <c>knowledge_retrieval</c>: retrieves from the run's workspace's datasets with a query (a template, so it can
/// name inputs or earlier nodes); outputs the numbered <c>chunks</c> and the prompt-ready <c>context</c> an llm node
/// can take as <c>{{retrieve.context}}</c>. Datasets of another workspace do not exist for it.
/// </summary>
internal sealed class KnowledgeRetrievalNode(IKnowledgeRetriever retriever) : INodeType
{
    public NodeTypeDescriptor Descriptor { get; } = new("knowledge_retrieval", "Knowledge retrieval",
        "Searches datasets (fulltext, vector or hybrid, with a metadata filter); outputs the numbered chunks and a context text for a model prompt.", "ai",
        JsonNode.Parse("""
            {"type":"object","required":["datasetIds","query"],"properties":{
              "datasetIds":{"type":"array","items":{"type":"string"},"minItems":1,"description":"datasets of the run's workspace"},
              "query":{"type":"string","description":"the search text; may reference inputs and earlier nodes"},
              "topK":{"type":"integer","minimum":1,"maximum":100,"default":5},
              "mode":{"type":"string","enum":["fulltext","vector","hybrid"],"description":"default: hybrid when every dataset has an embedding model, else fulltext"},
              "filter":{"type":"object","description":"metadata filter: {\"topic\":\"billing\"}, {\"year\":{\"gte\":2020}}, {\"topic\":{\"in\":[…]}}, $and/$or"},
              "scoreThreshold":{"type":"number"}}}
            """)!.AsObject(),
        JsonNode.Parse("""
            {"type":"object","properties":{
              "chunks":{"type":"array","items":{"type":"object","properties":{"citation":{"type":"integer"},"score":{"type":"number"},"datasetId":{"type":"string"},
                "documentId":{"type":"string"},"chunkId":{"type":"string"},"title":{"type":"string"},"content":{"type":"string"},"metadata":{"type":"object"}}}},
              "context":{"type":"string","description":"the chunks as [n] title + content, for citing"}}}
            """)!.AsObject(),
        [], IsInstant: false);

    public IEnumerable<string> Validate(NodeDefinition node)
    {
        var config = node.Config;
        if (config?["datasetIds"] is JsonArray ids)
        {
            if (ids.Count is 0 or > KnowledgeRetriever.MaxDatasets || ids.Any(i => JsonValues.AsString(i) is not { Length: > 0 }))
            {
                yield return $"config.datasetIds must hold 1 to {KnowledgeRetriever.MaxDatasets} dataset ids.";
            }
        }
        else if (config?["datasetIds"] is not JsonValue { } reference || reference.GetValueKind() != JsonValueKind.String)
        {
            yield return "config.datasetIds must be an array of dataset ids (or a reference to one).";
        }

        if (config?["topK"] is JsonValue topK && topK.GetValueKind() == JsonValueKind.Number
            && JsonValues.AsNumber(topK) is { } n && (n < 1 || n > KnowledgeRetriever.MaxTopK || n != Math.Floor(n)))
        {
            yield return $"config.topK must be a whole number from 1 to {KnowledgeRetriever.MaxTopK}.";
        }

        if (config?["mode"] is JsonValue mode && mode.GetValueKind() == JsonValueKind.String && !Template(mode) && SearchDatasets.ParseMode(JsonValues.AsString(mode)) is null)
        {
            yield return $"config.mode must be one of {string.Join(", ", SearchDatasets.Modes)}.";
        }

        if (config?["filter"] is { } filter && filter is not JsonObject && !(filter is JsonValue f && Template(f)))
        {
            yield return "config.filter must be an object.";
        }
    }

    private static bool Template(JsonValue value) => JsonValues.AsString(value)?.Contains("{{", StringComparison.Ordinal) == true;

    public async ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var config = context.Config;
        var ids = config["datasetIds"] is JsonArray list ? list.Select(JsonValues.AsString).OfType<string>().ToList() : [];
        var topK = JsonValues.AsNumber(config["topK"]) is { } k ? (int)k : 5;
        var modeText = JsonValues.AsString(config["mode"]);
        var mode = modeText is null ? (SearchMode?)null : SearchDatasets.ParseMode(modeText);
        if (modeText is not null && mode is null)
        {
            return NodeResult.Fail("INVALID_CONFIG", $"mode must be one of {string.Join(", ", SearchDatasets.Modes)}.", retryable: false);
        }

        if (config["filter"] is { } filterNode && filterNode is not JsonObject)
        {
            return NodeResult.Fail("INVALID_CONFIG", "filter must be an object.", retryable: false);
        }

        var request = new KnowledgeRequest(context.WorkspaceId, ids, JsonValues.ToText(config["query"]), topK,
            mode, config["filter"] as JsonObject, JsonValues.AsNumber(config["scoreThreshold"]));
        return await retriever.RetrieveAsync(request, cancellationToken) switch
        {
            KnowledgeOutcome.Found found => NodeResult.Complete(new JsonObject
            {
                ["chunks"] = JsonSerializer.SerializeToNode(found.Chunks.Select(SearchDatasets.ChunkDto.From).ToList(), JsonSerializerOptions.Web),
                ["context"] = found.Context,
            }),
            KnowledgeOutcome.NotFound missing => NodeResult.Fail("DATASET_NOT_FOUND", $"The dataset '{missing.DatasetId}' does not exist in this workspace.", retryable: false),
            KnowledgeOutcome.Invalid invalid => NodeResult.Fail("INVALID_CONFIG", $"{invalid.Field}: {invalid.Message}", retryable: false),
            KnowledgeOutcome.ModelFailed failed => NodeResult.Fail("AI_SERVICE_ERROR", failed.Failure.Message, failed.Retryable, new JsonObject { ["status"] = failed.Failure.Status }),
            _ => throw new InvalidOperationException("Unknown retrieval outcome."),
        };
    }
}
