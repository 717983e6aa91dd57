using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Store;

internal sealed record MediaDto(string Id, string Url, string ContentType, long Size, DateTimeOffset CreatedAt)
{
    public static MediaDto From(MediaRecord m) => new(m.Id, UrlOf(m.Id), m.ContentType, m.Length, m.CreatedAt);

    public static string UrlOf(string id) => $"/api/v1/store/media/{id}";
}

/// <summary>
/// <c>POST /api/v1/store/media</c>: one image or short video, as a multipart file (the first file section) or as the raw
/// body. Its type comes from its first bytes; the cap of its kind applies while it streams into the blob store.
/// </summary>
internal static class UploadStoreMedia
{
    public static async Task<IResult> HandleAsync(
        HttpContext http, Caller caller, StoreData data, IBlobStore blobs, IOptions<StoreOptions> options, TimeProvider time, ILogger<StoreData> logger,
        CancellationToken cancellationToken)
    {
        var contentType = http.Request.ContentType ?? "";
        try
        {
            if (!contentType.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            {
                return await StoreAsync(http.Request.Body, caller, data, blobs, options.Value, time, logger, cancellationToken);
            }

            if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType) || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 and <= 200 } boundary)
            {
                return Api.BadRequest("The multipart body has no boundary.");
            }

            var reader = new MultipartReader(boundary, http.Request.Body) { BodyLengthLimit = null };
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) && disposition.IsFileDisposition())
                {
                    return await StoreAsync(section.Body, caller, data, blobs, options.Value, time, logger, cancellationToken);
                }
            }

            return Api.Validation("file", "No file was sent: send one multipart file section, or the file as the raw body.");
        }
        catch (MediaTooLargeException e)
        {
            StoreLog.MediaRefused(logger, caller.UserId, e.Message);
            return Api.Error(StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge, e.Message, [new FieldError("file", e.Message)]);
        }
        catch (InvalidDataException e)
        {
            return Api.BadRequest($"The multipart body is malformed: {e.Message}");
        }
        catch (IOException e) when (e is not BadHttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            return Api.BadRequest($"The body ended early: {e.Message}");
        }
    }

    private static async Task<IResult> StoreAsync(
        Stream body, Caller caller, StoreData data, IBlobStore blobs, StoreOptions options, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var head = await MediaSniffer.ReadHeadAsync(body, cancellationToken);
        if (head.Length == 0)
        {
            return Api.Validation("file", "The file is empty.");
        }

        if (MediaSniffer.Sniff(head) is not { } sniffed)
        {
            StoreLog.MediaRefused(logger, caller.UserId, "unsupported content");
            return Api.Error(StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType,
                $"The file's content is not one of {MediaSniffer.Accepted} (the type is read from the content, not the name or Content-Type).",
                [new FieldError("file", $"Accepted: {MediaSniffer.Accepted}.")]);
        }

        var limit = sniffed.Kind == MediaKind.Image ? options.MaxImageBytes : options.MaxVideoBytes;
        var id = StoreData.NewMediaId();
        await using var limited = new MediaBody(head, body, sniffed.Kind, limit);
        var blob = await blobs.UploadAsync(StoreData.MediaContainer, id, limited, sniffed.ContentType, overwrite: false, cancellationToken)
            ?? throw new InvalidOperationException($"Media id {id} was already taken.");
        var record = new MediaRecord(id, caller.UserId, sniffed.ContentType, blob.Length, blob.ETag, false, time.GetUtcNow());
        await data.Media.InsertAsync(id, record, cancellationToken);
        return Api.Created(MediaDto.From(record), MediaDto.UrlOf(id));
    }
}

/// <summary>
/// <c>GET /api/v1/store/media/{id}</c>, anonymous: listings and profiles show media in img/video tags, which cannot send a
/// bearer token. The id is the capability (144 random bits); it is only published once a listing or profile shows it.
/// Served with the sniffed type, never sniffed again by the browser, cached for good (media never changes under its id).
/// </summary>
internal static class GetStoreMedia
{
    public static async Task<IResult> HandleAsync(string id, HttpContext http, StoreData data, IBlobStore blobs, CancellationToken cancellationToken)
    {
        if (await data.Media.GetAsync(id, id, cancellationToken) is not { } media)
        {
            return Api.NotFound("The media was not found.");
        }

        var headers = http.Response.Headers;
        var etag = $"\"{media.ETag.Trim('"')}\"";
        headers.ETag = etag;
        headers.CacheControl = "public, max-age=31536000, immutable";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        if (http.Request.Headers.IfNoneMatch.Any(v => v is not null && (v.Contains(etag, StringComparison.Ordinal) || v.Trim() == "*")))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        if (await blobs.OpenReadAsync(StoreData.MediaContainer, id, cancellationToken) is not { } download)
        {
            return Api.NotFound("The media was not found.");
        }

        return Results.Stream(download.Content, media.ContentType);
    }
}

internal static class DeleteStoreMedia
{
    public static async Task<IResult> HandleAsync(string id, Caller caller, StoreData data, IBlobStore blobs, CancellationToken cancellationToken)
    {
        // Someone else's media does not exist for the caller.
        if (await data.Media.GetAsync(id, id, cancellationToken) is not { } media || media.OwnerId != caller.UserId)
        {
            return Api.NotFound("The media was not found.");
        }

        if (media.Listed)
        {
            return Api.Conflict("The media is shown by an approved listing or your profile; it cannot be deleted.");
        }

        await data.Media.DeleteAsync(id, id, cancellationToken);
        await blobs.DeleteAsync(StoreData.MediaContainer, id, cancellationToken);
        return Api.NoContent();
    }
}
