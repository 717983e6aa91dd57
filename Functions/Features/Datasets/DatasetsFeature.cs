using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Events;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Search;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Triggers;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Functions.Features.Datasets;

/// <summary>Knowledge bases: datasets, document upload and ingestion, search, ForgeTM's RAG API, and the retrieval other features use.</summary>
internal static class DatasetsFeature
{
    public static IServiceCollection AddDatasets(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DatasetsOptions>().Bind(configuration.GetSection(DatasetsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        // The local index opens its file when it is built; resolving it on first use keeps an instance that never
        // touches a dataset (a trigger function start-up, a workflow without retrieval) from creating one.
        services.AddSingleton(sp => new Lazy<ISearchIndex>(sp.GetRequiredService<ISearchIndex>));
        services.AddSingleton<DatasetBatches>();
        services.AddSingleton<DatasetStore>();
        services.AddSingleton<DatasetEmbedder>();
        services.AddSingleton<DocumentIngestion>();
        services.AddSingleton<DocumentIntake>();
        services.AddSingleton<IKnowledgeRetriever, KnowledgeRetriever>();
        services.AddSingleton<INodeType, KnowledgeRetrievalNode>();
        services.AddSingleton<IngestDocument>();
        services.AddSingleton<WaitingDocuments>();
        services.AddSingleton<IngestionWatchdog>();
        services.AddTriggerFunctions<DatasetsFunctions>();
        return services;
    }

    public static IEndpointRouteBuilder MapDatasets(this IEndpointRouteBuilder app)
    {
        var uploadLimit = new UploadSizeLimit(app.ServiceProvider.GetRequiredService<IOptions<DatasetsOptions>>().Value.MaxUploadBytes);
        var group = app.MapGroup("/api/v1/datasets").WithTags("Datasets");
        group.MapGet("/", ListDatasets.HandleAsync).WithName("ListDatasets")
            .WithSummary("List datasets: search, sortBy createdAt|updatedAt|name; cursor or page")
            .RequireScope(Scopes.DatasetsRead).RequireWorkspace().Returns<IReadOnlyList<DatasetDto>>().Errors(422);
        group.MapPost("/", CreateDataset.HandleAsync).WithName("CreateDataset")
            .WithSummary("Create a dataset {name, description, embeddingModel?, chunking {mode: general|paragraph|qa_pairs, size, overlap, separators?}, metadataFields?}")
            .Accepts<CreateDataset.Request>("application/json")
            .RequireScope(Scopes.DatasetsWrite).RequireWorkspace(WorkspaceRole.Member).Returns<DatasetDto>(201).Errors(400, 422);
        // Cross-dataset search is mapped before /{id} routes so "search" is never taken for a dataset id.
        group.MapPost("/search", SearchDatasets.ManyAsync).WithName("SearchDatasets")
            .WithSummary("Search several datasets {datasetIds, query, topK, mode: fulltext|vector|hybrid, filter, scoreThreshold?}")
            .Accepts<SearchDatasets.Request>("application/json")
            .RequireScope(Scopes.DatasetsRead).RequireWorkspace().Returns<SearchDatasets.Result>().Errors(400, 404, 422, 429, 502);
        group.MapGet("/{id}", GetDataset.HandleAsync).WithName("GetDataset")
            .WithSummary("One dataset").RequireScope(Scopes.DatasetsRead).RequireWorkspace().Returns<DatasetDto>().Errors(404);
        group.MapPut("/{id}", UpdateDataset.HandleAsync).WithName("UpdateDataset")
            .WithSummary("Change any subset of a dataset's fields (the embedding model only while it holds no documents; chunking applies to later uploads)")
            .Accepts<UpdateDataset.Request>("application/json")
            .RequireScope(Scopes.DatasetsWrite).RequireWorkspace(WorkspaceRole.Member).Returns<DatasetDto>().Errors(400, 404, 409, 422);
        group.MapDelete("/{id}", DeleteDataset.HandleAsync).WithName("DeleteDataset")
            .WithSummary("Delete a dataset with its documents, chunks, vectors and files")
            .RequireScope(Scopes.DatasetsWrite).RequireWorkspace(WorkspaceRole.Member).Produces(204).Errors(404);
        group.MapPost("/{id}/upload", UploadDocuments.HandleAsync).WithName("UploadDocuments")
            .WithSummary($"Upload files (multipart: {string.Join(" ", DocumentParsers.Extensions)}; fields metadata, documentId, title apply to the files after them) or JSON {{documents:[{{id?, title?, content, metadata?}}]}}; 202 with the batch, ingested in the background")
            .Accepts<UploadDocuments.JsonRequest>("application/json", "multipart/form-data").WithMetadata(uploadLimit)
            .RequireScope(Scopes.DatasetsWrite).RequireWorkspace(WorkspaceRole.Member).Returns<UploadBatch>(202).Errors(400, 404, 413, 415, 422);
        group.MapGet("/{id}/documents", ListDocuments.HandleAsync).WithName("ListDocuments")
            .WithSummary("List a dataset's documents with status and progress: status, search, sortBy createdAt|updatedAt|title|status")
            .RequireScope(Scopes.DatasetsRead).RequireWorkspace().Returns<IReadOnlyList<DocumentDto>>().Errors(404, 422);
        group.MapGet("/{id}/documents/{docId}", GetDocument.HandleAsync).WithName("GetDocument")
            .WithSummary("One document: status (waiting|parsing|splitting|embedding|indexing|completed|error) and progress")
            .RequireScope(Scopes.DatasetsRead).RequireWorkspace().Returns<DocumentDto>().Errors(404);
        group.MapDelete("/{id}/documents/{docId}", DeleteDocument.HandleAsync).WithName("DeleteDocument")
            .WithSummary("Delete a document with its chunks, vectors and files")
            .RequireScope(Scopes.DatasetsWrite).RequireWorkspace(WorkspaceRole.Member).Produces(204).Errors(404);
        group.MapGet("/{id}/embeddings", GetEmbeddings.HandleAsync).WithName("GetDatasetEmbeddings")
            .WithSummary("Embedding status: the dataset's counts, and per-document status and progress, oldest first, paged like every list (limit, cursor or page)")
            .RequireScope(Scopes.DatasetsRead).RequireWorkspace().Returns<GetEmbeddings.Summary>().Errors(404, 422);
        group.MapGet("/{id}/events", ListDatasetEvents.HandleAsync).WithName("ListDatasetEvents")
            .WithSummary("The dataset's platform events (dataset.completed once per finished upload batch), oldest first; paged like every list")
            .RequireScope(Scopes.DatasetsRead).RequireWorkspace().Returns<IReadOnlyList<PlatformEvent>>().Errors(404, 422);
        group.MapPost("/{id}/search", SearchDatasets.OneAsync).WithName("SearchDataset")
            .WithSummary("Search a dataset {query, topK, mode: fulltext|vector|hybrid, filter, scoreThreshold?}; a dataset without an embedding model serves fulltext only")
            .Accepts<SearchDatasets.Request>("application/json")
            .RequireScope(Scopes.DatasetsRead).RequireWorkspace().Returns<SearchDatasets.Result>().Errors(400, 404, 422, 429, 502);

        var rag = app.MapGroup("/api/v1/rag").WithTags("RAG");
        rag.MapPost("/index", RagEndpoints.IndexAsync).WithName("RagIndex")
            .WithSummary("ForgeTM: index {documents:[{id, content, metadata}], namespace} into the namespace's dataset (created on first use); 202, ingested in the background")
            .Accepts<RagEndpoints.IndexRequest>("application/json")
            .RequireScope(Scopes.DatasetsWrite).RequireWorkspace(WorkspaceRole.Member).Returns<RagEndpoints.IndexResult>(202).Errors(400, 404, 422);
        rag.MapPost("/query", RagEndpoints.QueryAsync).WithName("RagQuery")
            .WithSummary("ForgeTM: {query, namespace, top_k, include_metadata, generate_response, model} → relevant_documents and, when asked, an answer citing them as [n]")
            .Accepts<RagEndpoints.QueryRequest>("application/json")
            .RequireScope(Scopes.DatasetsRead).RequireWorkspace().WithRateLimitClass(RateLimitClass.Execute)
            .Returns<RagEndpoints.QueryResult>().Errors(400, 402, 403, 404, 422, 429, 502, 504);
        rag.MapDelete("/documents/{id}", RagEndpoints.DeleteAsync).WithName("RagDeleteDocument")
            .WithSummary("ForgeTM: remove a document (chunks, vectors, file) from a namespace (?namespace=, default 'default')")
            .RequireScope(Scopes.DatasetsWrite).RequireWorkspace(WorkspaceRole.Member).Returns<RagEndpoints.DeleteResult>().Errors(404, 422);
        return app;
    }

    /// <summary>The upload route's own body limit (files stream to blobs, so it may exceed the general one).</summary>
    private sealed record UploadSizeLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;
}
