using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Search;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Functions.Features.Datasets;

/// <summary>
/// <c>POST /api/v1/datasets/{id}/search</c> and <c>POST /api/v1/datasets/search {datasetIds}</c>:
/// <c>{query, topK, mode: fulltext|vector|hybrid, filter, scoreThreshold?}</c> → the best chunks, numbered for citing.
/// </summary>
internal static class SearchDatasets
{
    internal sealed record Request(string Query, int? TopK, string? Mode, JsonObject? Filter, double? ScoreThreshold, IReadOnlyList<string>? DatasetIds);

    internal sealed record ChunkDto(int Citation, double Score, string DatasetId, string DocumentId, string ChunkId, string Title, string Content, JsonObject Metadata)
    {
        public static ChunkDto From(KnowledgeChunk c) => new(c.Citation, c.Score, c.DatasetId, c.DocumentId, c.ChunkId, c.Title, c.Content, c.Metadata);
    }

    internal sealed record Result(string Query, string Mode, int TopK, IReadOnlyList<ChunkDto> Chunks);

    public static readonly string[] Modes = ["fulltext", "vector", "hybrid"];

    public static Task<IResult> OneAsync(string id, JsonObject? body, WorkspaceContext workspace, IKnowledgeRetriever retriever,
        CancellationToken cancellationToken) =>
        SearchAsync(body, [id], workspace.WorkspaceId, retriever, cancellationToken);

    public static Task<IResult> ManyAsync(JsonObject? body, WorkspaceContext workspace, IKnowledgeRetriever retriever,
        CancellationToken cancellationToken)
    {
        var ids = body?["datasetIds"] is JsonArray list ? list.Select(JsonValues.AsString).ToList() : null;
        if (body is not null && (ids is null || ids.Count == 0 || ids.Any(i => i is null)))
        {
            return Task.FromResult<IResult>(Api.Validation("datasetIds", "datasetIds must be a non-empty array of dataset ids."));
        }

        return SearchAsync(body, ids?.OfType<string>().ToList() ?? [], workspace.WorkspaceId, retriever, cancellationToken);
    }

    private static async Task<IResult> SearchAsync(JsonObject? body, IReadOnlyList<string> datasetIds, string workspaceId,
        IKnowledgeRetriever retriever, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return Api.BadRequest("A JSON object body is required.");
        }

        var check = new Validator();
        var query = ReadQuery(body, check);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var request = new KnowledgeRequest(workspaceId, datasetIds, query.Text, query.TopK, query.Mode, query.Filter, query.ScoreThreshold);
        return await retriever.RetrieveAsync(request, cancellationToken) switch
        {
            KnowledgeOutcome.ModelFailed failed => failed.Failure.ToApiResult(),
            KnowledgeOutcome.Found found => Api.Ok(new Result(query.Text, ModeName(found.Mode), query.TopK, [.. found.Chunks.Select(ChunkDto.From)])),
            KnowledgeOutcome.NotFound missing => Api.NotFound($"The dataset '{missing.DatasetId}' was not found."),
            KnowledgeOutcome.Invalid invalid => Api.Validation(invalid.Field, invalid.Message),
            _ => throw new InvalidOperationException("Unknown retrieval outcome."),
        };
    }

    internal sealed record SearchInput(string Text, int TopK, SearchMode? Mode, JsonObject? Filter, double? ScoreThreshold);

    /// <summary>Reads query, topK (default 5), mode, filter and scoreThreshold; the filter's own grammar is checked by the retriever.</summary>
    public static SearchInput ReadQuery(JsonObject body, Validator check, string queryField = "query", string topKField = "topK")
    {
        var text = body[queryField] is JsonValue q && q.GetValueKind() == JsonValueKind.String ? q.GetValue<string>() : null;
        check.When(string.IsNullOrWhiteSpace(text) || text.Length > KnowledgeRetriever.MaxQueryChars, queryField,
            $"{queryField} must be a non-empty string of at most {KnowledgeRetriever.MaxQueryChars} characters.");
        var topK = 5;
        if (body[topKField] is { } k)
        {
            var number = k is JsonValue kv && kv.GetValueKind() == JsonValueKind.Number ? kv.GetValue<double>() : double.NaN;
            check.When(!(number >= 1 && number <= KnowledgeRetriever.MaxTopK && number == Math.Floor(number)), topKField,
                $"{topKField} must be a whole number from 1 to {KnowledgeRetriever.MaxTopK}.");
            topK = double.IsNaN(number) ? topK : (int)Math.Clamp(number, 1, KnowledgeRetriever.MaxTopK);
        }

        SearchMode? mode = null;
        if (body["mode"] is { } m)
        {
            mode = ParseMode(JsonValues.AsString(m));
            check.When(mode is null, "mode", $"mode must be one of {string.Join(", ", Modes)}.");
        }

        check.When(body["filter"] is not (null or JsonObject), "filter", "filter must be an object.");
        double? threshold = null;
        if (body["scoreThreshold"] is { } t)
        {
            threshold = t is JsonValue tv && tv.GetValueKind() == JsonValueKind.Number ? tv.GetValue<double>() : null;
            check.When(threshold is null, "scoreThreshold", "scoreThreshold must be a number.");
        }

        return new SearchInput(text ?? "", topK, mode, body["filter"]?.DeepClone() as JsonObject, threshold);
    }

    public static SearchMode? ParseMode(string? mode) => mode switch
    {
        "fulltext" => SearchMode.Fulltext,
        "vector" => SearchMode.Vector,
        "hybrid" => SearchMode.Hybrid,
        _ => null,
    };

    public static string ModeName(SearchMode mode) => mode.ToString().ToLowerInvariant();
}
