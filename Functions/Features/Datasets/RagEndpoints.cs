using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Search;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Functions.Features.Datasets;

/// <summary>
/// ForgeTM's RAG API over datasets: a namespace is a dataset (created on first index, with the workspace's first
/// embedding model when it has one). Shapes are ForgeTM's snake_case ones inside the platform envelope.
/// </summary>
internal static partial class RagEndpoints
{
    public const string DefaultNamespace = "default";
    public const string Source = "rag";

    /// <summary>What the model is told: answer from the numbered context only, cite it, and admit when it is not there.</summary>
    public const string SystemPrompt =
        "Answer the user's question using only the numbered context passages below. Cite every passage you use as [n], "
        + "with n its number. If the context does not contain the answer, say that you do not know because the indexed "
        + "documents do not contain it; do not guess or use outside knowledge.";

    public const string NoContextAnswer = "I don't know: the indexed documents do not contain information about this question.";

    internal sealed record IndexRequest(IReadOnlyList<JsonDocument> Documents, string? Namespace);

    internal sealed record JsonDocument(string Id, string Content, JsonObject? Metadata);

    internal sealed record IndexResult(
        [property: JsonPropertyName("indexed")] bool Indexed,
        [property: JsonPropertyName("document_count")] int DocumentCount,
        [property: JsonPropertyName("namespace")] string Namespace,
        [property: JsonPropertyName("index_id")] string IndexId,
        [property: JsonPropertyName("dataset_id")] string DatasetId,
        [property: JsonPropertyName("status")] string Status);

    internal sealed record QueryRequest(
        string Query,
        string? Namespace,
        [property: JsonPropertyName("top_k")] int? TopK,
        [property: JsonPropertyName("include_metadata")] bool? IncludeMetadata,
        [property: JsonPropertyName("generate_response")] bool? GenerateResponse,
        string? Model);

    internal sealed record RelevantDocument(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("chunk_id")] string ChunkId,
        [property: JsonPropertyName("citation")] int Citation,
        [property: JsonPropertyName("content")] string Content,
        [property: JsonPropertyName("score")] double Score,
        [property: JsonPropertyName("metadata")] JsonObject? Metadata);

    internal sealed record RagUsage(
        [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
        [property: JsonPropertyName("completion_tokens")] int CompletionTokens,
        [property: JsonPropertyName("total_tokens")] int TotalTokens);

    internal sealed record QueryResult(
        [property: JsonPropertyName("query")] string Query,
        [property: JsonPropertyName("namespace")] string Namespace,
        [property: JsonPropertyName("relevant_documents")] IReadOnlyList<RelevantDocument> RelevantDocuments,
        [property: JsonPropertyName("generated_response")] string? GeneratedResponse,
        [property: JsonPropertyName("model")] string? Model,
        [property: JsonPropertyName("usage")] RagUsage Usage);

    internal sealed record DeleteResult(
        [property: JsonPropertyName("deleted")] bool Deleted,
        [property: JsonPropertyName("document_id")] string DocumentId,
        [property: JsonPropertyName("namespace")] string Namespace);

    public static async Task<IResult> IndexAsync(JsonObject? body, Caller caller, WorkspaceContext workspace, DatasetStore store, DocumentIntake intake,
        DatasetEmbedder embedder, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return Api.BadRequest("A JSON object body is required.");
        }

        var check = new Validator();
        var ns = ReadNamespace(body["namespace"], check);
        var existing = check.IsValid ? await store.NamespaceAsync(workspace.WorkspaceId, ns, cancellationToken) : null;
        // Until the namespace exists, its documents are checked against an empty field list (a new dataset declares none).
        var shape = existing ?? new DatasetRecord("", ns, "", null, ChunkingSettings.Default, [], ns, "", default, default);
        var documents = DocumentIntake.ReadJsonDocuments(body["documents"], shape, check, idRequired: true);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var dataset = existing ?? await store.GetOrCreateNamespaceAsync(workspace.WorkspaceId, caller.UserId, ns,
            await embedder.DefaultModelAsync(workspace.WorkspaceId, cancellationToken), cancellationToken);
        var uploads = await intake.StoreJsonAsync(workspace.WorkspaceId, dataset, documents, cancellationToken);
        if (await intake.SubmitAsync(workspace.WorkspaceId, dataset, uploads, cancellationToken) is not { } batch)
        {
            return Api.NotFound($"The namespace '{ns}' was deleted while its documents were indexed; index them again.");
        }

        return Api.Accepted(new IndexResult(true, batch.Documents.Count, ns, batch.BatchId, dataset.Id, DocumentStatus.Waiting));
    }

    public static async Task<IResult> QueryAsync(JsonObject? body, Caller caller, WorkspaceContext workspace, DatasetStore store, IKnowledgeRetriever retriever,
        ModelGateway gateway, DefaultChatModel defaultModel, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return Api.BadRequest("A JSON object body is required.");
        }

        var check = new Validator();
        var ns = ReadNamespace(body["namespace"], check);
        var input = SearchDatasets.ReadQuery(body, check, "query", "top_k");
        var includeMetadata = Flag(body, "include_metadata", true, check);
        var generate = Flag(body, "generate_response", false, check);
        var model = JsonValues.AsString(body["model"]);
        check.When(body["model"] is not null && model is null, "model", "model must be a string.");
        check.When(body["model"] is not null && string.IsNullOrWhiteSpace(model), "model", "model must not be empty.");
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (generate && !caller.HasScope(Scopes.ModelsUse))
        {
            return Api.Forbidden($"This API key lacks the scope '{Scopes.ModelsUse}' that generate_response needs.");
        }

        // No model named: answer with the one chat would use, so a first query works with whatever provider exists.
        if (generate && model is null && (model = await defaultModel.ResolveAsync(workspace.WorkspaceId, caller.ModelLimits, cancellationToken)) is null)
        {
            return Api.Validation("model", "generate_response needs a model. " + DefaultChatModel.NoneAvailable);
        }

        if (await store.NamespaceAsync(workspace.WorkspaceId, ns, cancellationToken) is not { } dataset)
        {
            return Api.NotFound($"The namespace '{ns}' has no documents; index some with POST /api/v1/rag/index.");
        }

        var outcome = await retriever.RetrieveAsync(
            new KnowledgeRequest(workspace.WorkspaceId, [dataset.Id], input.Text, input.TopK, null, input.Filter, input.ScoreThreshold), cancellationToken);
        if (outcome is KnowledgeOutcome.ModelFailed failed)
        {
            return failed.Failure.ToApiResult();
        }

        if (outcome is KnowledgeOutcome.Invalid invalid)
        {
            return Api.Validation(invalid.Field, invalid.Message);
        }

        if (outcome is not KnowledgeOutcome.Found found)
        {
            return Api.NotFound($"The namespace '{ns}' was not found.");
        }

        var relevant = found.Chunks.Select(c => new RelevantDocument(c.DocumentId, c.ChunkId, c.Citation, c.Content, c.Score,
            includeMetadata ? c.Metadata : null)).ToList();
        if (!generate)
        {
            return Api.Ok(new QueryResult(input.Text, ns, relevant, null, null, new RagUsage(0, 0, 0)));
        }

        if (found.Chunks.Count == 0)
        {
            // Nothing to ground an answer in: saying so beats paying a model to say it (or to make something up).
            return Api.Ok(new QueryResult(input.Text, ns, relevant, NoContextAnswer, model, new RagUsage(0, 0, 0)));
        }

        var request = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = SystemPrompt + "\n\nContext:\n" + found.Context },
                new JsonObject { ["role"] = "user", ["content"] = input.Text }),
        };
        var answer = await gateway.CompleteChatAsync(new ModelCaller(workspace.WorkspaceId, caller.UserId, caller.ApiKeyId, caller.ModelLimits, Source),
            request, cancellationToken);
        if (answer.Failure is { } chatFailure)
        {
            return chatFailure.ToApiResult();
        }

        var response = answer.Value!;
        var text = JsonValues.ToText(response.Json["choices"]?[0]?["message"]?["content"]);
        return Api.Ok(new QueryResult(input.Text, ns, relevant, text, response.Model,
            new RagUsage(response.Usage.PromptTokens, response.Usage.CompletionTokens, response.Usage.TotalTokens)));
    }

    public static async Task<IResult> DeleteAsync(string id, string? @namespace, WorkspaceContext workspace, DatasetStore store, CancellationToken cancellationToken)
    {
        var ns = string.IsNullOrEmpty(@namespace) ? DefaultNamespace : @namespace;
        if (!NamespacePattern().IsMatch(ns))
        {
            return Api.Validation("namespace", NamespaceRule);
        }

        return await store.NamespaceAsync(workspace.WorkspaceId, ns, cancellationToken) is { } dataset
            && await store.DeleteDocumentAsync(workspace.WorkspaceId, dataset.Id, id, cancellationToken)
            ? Api.Ok(new DeleteResult(true, id, ns))
            : Api.NotFound($"The document '{id}' is not in the namespace '{ns}'.");
    }

    private const string NamespaceRule = "namespace must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.";

    private static string ReadNamespace(JsonNode? node, Validator check)
    {
        if (node is null)
        {
            return DefaultNamespace;
        }

        var ns = JsonValues.AsString(node);
        if (ns is null || node.GetValueKind() != JsonValueKind.String || !NamespacePattern().IsMatch(ns))
        {
            check.Add("namespace", NamespaceRule);
            return DefaultNamespace;
        }

        return ns;
    }

    private static bool Flag(JsonObject body, string field, bool fallback, Validator check)
    {
        if (body[field] is not { } node)
        {
            return fallback;
        }

        if (node.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
        {
            return node.GetValue<bool>();
        }

        check.Add(field, $"{field} must be true or false.");
        return fallback;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NamespacePattern();
}
