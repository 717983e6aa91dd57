using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Datasets;

/// <summary>
/// <c>POST /api/v1/datasets/{id}/upload</c>: multipart files (streamed section by section straight into the blob
/// store, never buffered whole) or a JSON body <c>{documents:[…]}</c>. Answers 202 with the batch: each document
/// waits for the <c>IngestDocument</c> queue function.
/// </summary>
/// <remarks>
/// Multipart form fields apply to the files that follow them: <c>metadata</c> (a JSON object), <c>documentId</c> and
/// <c>title</c> (the next file only). A file's document id is otherwise its file name, so uploading the same file
/// again replaces it.
/// </remarks>
internal static class UploadDocuments
{
    internal sealed record JsonRequest(IReadOnlyList<JsonDocument> Documents);

    internal sealed record JsonDocument(string? Id, string? Title, string Content, JsonObject? Metadata);

    private const int MaxFormValueBytes = 64 * 1024;
    private const int MaxFiles = 1000;

    public static async Task<IResult> HandleAsync(string id, HttpContext http, WorkspaceContext workspace, DatasetStore store, DocumentIntake intake,
        IOptions<HttpOptions> httpOptions, IOptions<DatasetsOptions> datasetsOptions, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } dataset)
        {
            return Api.NotFound("The dataset was not found.");
        }

        var contentType = http.Request.ContentType ?? "";
        if (contentType.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return await MultipartAsync(http, contentType, workspace.WorkspaceId, dataset, intake, datasetsOptions.Value.MaxFileBytes, cancellationToken);
        }

        if (contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            // A JSON body is parsed whole, so only files (which stream) get the upload route's larger limit.
            var limit = httpOptions.Value.MaxRequestBodyBytes;
            if (http.Request.ContentLength > limit)
            {
                return Api.Error(StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge,
                    $"A JSON upload may be at most {limit} bytes; send larger documents as multipart files.");
            }

            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
            {
                bodySize.MaxRequestBodySize = limit;
            }

            return await JsonAsync(http, workspace.WorkspaceId, dataset, intake, cancellationToken);
        }

        return Api.Error(StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType,
            "Send files as multipart/form-data, or documents as application/json {documents:[{id?, title?, content, metadata?}]}.");
    }

    private static async Task<IResult> JsonAsync(HttpContext http, string workspaceId, DatasetRecord dataset, DocumentIntake intake, CancellationToken cancellationToken)
    {
        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(http.Request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException e)
        {
            return Api.BadRequest($"The body is not valid JSON: {e.Message}");
        }

        if (body is not JsonObject json)
        {
            return Api.BadRequest("A JSON object body {documents:[…]} is required.");
        }

        var check = new Validator();
        var documents = DocumentIntake.ReadJsonDocuments(json["documents"], dataset, check, idRequired: false);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var uploads = await intake.StoreJsonAsync(workspaceId, dataset, documents, cancellationToken);
        return Submitted(await intake.SubmitAsync(workspaceId, dataset, uploads, cancellationToken));
    }

    private static async Task<IResult> MultipartAsync(HttpContext http, string contentType, string workspaceId, DatasetRecord dataset, DocumentIntake intake,
        long maxFileBytes, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType) || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 and <= 200 } boundary)
        {
            return Api.BadRequest("The multipart body has no boundary.");
        }

        var reader = new MultipartReader(boundary, http.Request.Body) { BodyLengthLimit = null };
        var stored = new List<DocumentUpload>();
        var metadata = new JsonObject();
        string? nextId = null;
        string? nextTitle = null;
        var keep = false;
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    return Api.BadRequest("Every multipart section needs a Content-Disposition header.");
                }

                if (disposition.IsFileDisposition())
                {
                    var fileName = Path.GetFileName(HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "");
                    var extension = Path.GetExtension(fileName).ToLowerInvariant();
                    if (!DocumentParsers.IsSupported(extension))
                    {
                        return Api.Error(StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType,
                            $"'{fileName}' is not a supported file type. Supported: {string.Join(", ", DocumentParsers.Extensions)}.",
                            [new FieldError("file", $"Supported extensions: {string.Join(", ", DocumentParsers.Extensions)}.")]);
                    }

                    var documentId = nextId ?? DatasetStore.DocumentIdFromFileName(fileName);
                    if (!DatasetStore.IsValidDocumentId(documentId))
                    {
                        return Api.Validation("documentId",
                            $"'{documentId}' cannot be a document id (letters, digits, '.', '_', ':' or '-', at most 128); rename the file or send a documentId field before it.");
                    }

                    if (stored.Count == MaxFiles)
                    {
                        return Api.Validation("file", $"At most {MaxFiles} files per upload.");
                    }

                    await using var body = new FileSizeLimit(section.Body, maxFileBytes, fileName);
                    stored.Add(await intake.StoreAsync(workspaceId, dataset, documentId, nextTitle ?? fileName, fileName, extension, body,
                        (JsonObject)metadata.DeepClone(), cancellationToken));
                    nextId = null;
                    nextTitle = null;
                }
                else if (disposition.IsFormDisposition())
                {
                    var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                    var value = await ReadFormValueAsync(section.Body, cancellationToken);
                    if (value is null)
                    {
                        return Api.Validation(name, $"The form field '{name}' is longer than {MaxFormValueBytes} bytes.");
                    }

                    switch (name)
                    {
                        case "metadata":
                            // A JSON body is scanned as it streams in; this JSON comes inside a multipart field.
                            if (!WellFormedJson.IsWellFormed(value))
                            {
                                return Api.Validation("metadata", WellFormedJson.Message);
                            }

                            var check = new Validator();
                            JsonNode? parsed = null;
                            try
                            {
                                parsed = JsonNode.Parse(value);
                            }
                            catch (JsonException)
                            {
                                check.Add("metadata", "metadata must be a JSON object.");
                            }

                            if (check.IsValid && DatasetInput.ReadMetadata(parsed ?? new JsonObject(), dataset.MetadataFields, "metadata", check) is { } read && check.IsValid)
                            {
                                metadata = read;
                            }
                            else
                            {
                                return check.IsValid ? Api.Validation("metadata", "metadata must be a JSON object.") : check.ToResult();
                            }

                            break;
                        case "documentId":
                            nextId = value.Trim();
                            break;
                        case "title":
                            nextTitle = value.Trim() is { Length: > 0 and <= 300 } title ? title : null;
                            break;
                    }
                }
            }

            if (stored.Count == 0)
            {
                return Api.Validation("file", $"No file was sent. Supported: {string.Join(", ", DocumentParsers.Extensions)}.");
            }

            keep = true;
        }
        catch (FileTooLargeException e)
        {
            return Api.Error(StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge, e.Message, [new FieldError("file", e.Message)]);
        }
        catch (InvalidDataException e)
        {
            return Api.BadRequest($"The multipart body is malformed: {e.Message}");
        }
        catch (IOException e) when (e is not BadHttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            return Api.BadRequest($"The multipart body ended early: {e.Message}");
        }
        finally
        {
            if (!keep)
            {
                await intake.DiscardAsync(stored);
            }
        }

        return Submitted(await intake.SubmitAsync(workspaceId, dataset, stored, cancellationToken));
    }

    private static IResult Submitted(UploadBatch? batch) =>
        batch is null ? Api.NotFound("The dataset was deleted while the upload ran.") : Api.Accepted(batch);

    /// <summary>A small form field's text, or null when it is longer than a form field should be.</summary>
    private static async Task<string?> ReadFormValueAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxFormValueBytes + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += read;
        }

        return total > MaxFormValueBytes ? null : System.Text.Encoding.UTF8.GetString(buffer, 0, total);
    }
}
