using System.Globalization;
using System.Net;
using System.Text;
using System.Xml.Linq;

namespace Serverless.Functions.Platform.Storage.AzureStorage;

internal sealed record BlobProperties(long Length, string ContentType, string ETag, DateTimeOffset LastModified);

internal sealed record BlobItem(string Name, BlobProperties Properties);

/// <summary>
/// Blob Storage REST operations on block blobs: put (whole, or block by block), get, properties, delete, list.
/// A missing container is created on the first write that needs it.
/// </summary>
internal sealed class BlobRestClient(StoragePipeline pipeline, StorageAccount account, ILogger<BlobRestClient> logger)
{
    public const string DefaultContentType = "application/octet-stream";

    /// <summary>Put with If-None-Match: * and <paramref name="overwrite"/> false; null when the blob already exists.</summary>
    public async Task<BlobProperties?> PutAsync(string container, string name, ReadOnlyMemory<byte> content, string contentType, bool overwrite, CancellationToken cancellationToken)
    {
        using var response = await SendCreatingContainerAsync(container, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Put, BlobUri(container, name)) { Content = new ReadOnlyMemoryContent(content) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            request.Headers.TryAddWithoutValidation("x-ms-blob-type", "BlockBlob");
            AddOverwriteCondition(request, overwrite);
            return request;
        }, cancellationToken);
        return await CreatedAsync(response, content.Length, contentType, "Put Blob", cancellationToken);
    }

    public async Task PutBlockAsync(string container, string name, string blockId, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        using var response = await SendCreatingContainerAsync(
            container,
            () => new HttpRequestMessage(HttpMethod.Put, BlobUri(container, name, $"?comp=block&blockid={Uri.EscapeDataString(blockId)}")) { Content = new ReadOnlyMemoryContent(content) },
            cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw await StorageRequestException.FromAsync(response, "Put Block", cancellationToken);
        }
    }

    /// <summary>Commits the blocks as the blob's content; null when <paramref name="overwrite"/> is false and the blob exists.</summary>
    public async Task<BlobProperties?> PutBlockListAsync(
        string container, string name, IReadOnlyList<string> blockIds, long length, string contentType, bool overwrite, CancellationToken cancellationToken)
    {
        var body = new StringBuilder("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
        foreach (var id in blockIds)
        {
            body.Append("<Latest>").Append(id).Append("</Latest>");
        }

        var bytes = Encoding.UTF8.GetBytes(body.Append("</BlockList>").ToString());
        using var response = await pipeline.SendAsync(StorageService.Blob, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Put, BlobUri(container, name, "?comp=blocklist")) { Content = new ByteArrayContent(bytes) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/xml");
            request.Headers.TryAddWithoutValidation("x-ms-blob-content-type", contentType);
            AddOverwriteCondition(request, overwrite);
            return request;
        }, cancellationToken);
        return await CreatedAsync(response, length, contentType, "Put Block List", cancellationToken);
    }

    /// <summary>Opens the blob's content as a stream (the caller disposes it), or null when it does not exist.</summary>
    public async Task<(BlobProperties Properties, Stream Content)?> GetAsync(string container, string name, CancellationToken cancellationToken)
    {
        var response = await pipeline.SendAsync(
            StorageService.Blob, () => new HttpRequestMessage(HttpMethod.Get, BlobUri(container, name)), cancellationToken, HttpCompletionOption.ResponseHeadersRead);
        try
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                response.Dispose();
                return null;
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw await StorageRequestException.FromAsync(response, "Get Blob", cancellationToken);
            }

            var properties = Properties(response);
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            return (properties, new ResponseStream(stream, response));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public async Task<BlobProperties?> GetPropertiesAsync(string container, string name, CancellationToken cancellationToken)
    {
        using var response = await pipeline.SendAsync(StorageService.Blob, () => new HttpRequestMessage(HttpMethod.Head, BlobUri(container, name)), cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => Properties(response),
            HttpStatusCode.NotFound => null,
            _ => throw await StorageRequestException.FromAsync(response, "Get Blob Properties", cancellationToken),
        };
    }

    public async Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken)
    {
        using var response = await pipeline.SendAsync(StorageService.Blob, () => new HttpRequestMessage(HttpMethod.Delete, BlobUri(container, name)), cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.Accepted => true,
            HttpStatusCode.NotFound => false,
            _ => throw await StorageRequestException.FromAsync(response, "Delete Blob", cancellationToken),
        };
    }

    /// <summary>One page of the blobs whose names start with <paramref name="prefix"/>, and the marker of the next page.</summary>
    public async Task<(IReadOnlyList<BlobItem> Items, string? NextMarker)> ListAsync(string container, string? prefix, string? marker, CancellationToken cancellationToken)
    {
        var query = new StringBuilder("?restype=container&comp=list&maxresults=1000");
        if (!string.IsNullOrEmpty(prefix))
        {
            query.Append("&prefix=").Append(Uri.EscapeDataString(prefix));
        }

        if (!string.IsNullOrEmpty(marker))
        {
            query.Append("&marker=").Append(Uri.EscapeDataString(marker));
        }

        var uri = new Uri($"{account.BlobEndpoint}/{container}{query}");
        using var response = await pipeline.SendAsync(StorageService.Blob, () => new HttpRequestMessage(HttpMethod.Get, uri), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return ([], null);
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw await StorageRequestException.FromAsync(response, "List Blobs", cancellationToken);
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var document = await XDocument.LoadAsync(body, LoadOptions.None, cancellationToken);
        var root = document.Root!;
        var items = root.Element("Blobs")?.Elements("Blob").Select(blob =>
        {
            var properties = blob.Element("Properties")!;
            return new BlobItem(
                blob.Element("Name")!.Value,
                new BlobProperties(
                    long.Parse(properties.Element("Content-Length")!.Value, CultureInfo.InvariantCulture),
                    properties.Element("Content-Type")?.Value is { Length: > 0 } type ? type : DefaultContentType,
                    Quoted(properties.Element("Etag")!.Value),
                    DateTimeOffset.Parse(properties.Element("Last-Modified")!.Value, CultureInfo.InvariantCulture)));
        }).ToList() ?? [];
        var next = root.Element("NextMarker")?.Value;
        return (items, string.IsNullOrEmpty(next) ? null : next);
    }

    public async Task CreateContainerAsync(string container, CancellationToken cancellationToken)
    {
        using var response = await pipeline.SendAsync(
            StorageService.Blob, () => new HttpRequestMessage(HttpMethod.Put, new Uri($"{account.BlobEndpoint}/{container}?restype=container")), cancellationToken);
        if (response.StatusCode == HttpStatusCode.Created)
        {
            AzureStorageLog.Created(logger, StorageService.Blob, container);
        }
        else if (response.StatusCode != HttpStatusCode.Conflict)
        {
            throw await StorageRequestException.FromAsync(response, "Create Container", cancellationToken);
        }
    }

    /// <summary>Blob names keep their '/' separators; every other character outside the unreserved set is escaped.</summary>
    private Uri BlobUri(string container, string name, string query = "") =>
        new($"{account.BlobEndpoint}/{container}/{string.Join('/', name.Split('/').Select(Uri.EscapeDataString))}{query}");

    private Task<HttpResponseMessage> SendCreatingContainerAsync(string container, Func<HttpRequestMessage> createRequest, CancellationToken cancellationToken) =>
        pipeline.SendCreatingAsync(StorageService.Blob, createRequest, "ContainerNotFound", ct => CreateContainerAsync(container, ct), cancellationToken);

    private static void AddOverwriteCondition(HttpRequestMessage request, bool overwrite)
    {
        if (!overwrite)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", "*");
        }
    }

    private static async Task<BlobProperties?> CreatedAsync(HttpResponseMessage response, long length, string contentType, string operation, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.Created)
        {
            return new BlobProperties(length, contentType, StorageResponses.ETag(response), LastModified(response));
        }

        // The If-None-Match: * condition failed: the blob exists and is kept.
        if (response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.PreconditionFailed)
        {
            return null;
        }

        throw await StorageRequestException.FromAsync(response, operation, cancellationToken);
    }

    private static BlobProperties Properties(HttpResponseMessage response) => new(
        response.Content.Headers.ContentLength ?? 0,
        response.Content.Headers.NonValidated.TryGetValues("Content-Type", out var type) && type.ToString() is { Length: > 0 } text ? text : DefaultContentType,
        StorageResponses.ETag(response),
        LastModified(response));

    private static DateTimeOffset LastModified(HttpResponseMessage response) =>
        response.Content.Headers.LastModified ?? throw new InvalidOperationException("The blob response carries no Last-Modified.");

    // Listings give ETags bare; headers give them quoted. One form keeps infos from both comparable.
    private static string Quoted(string etag) => etag.StartsWith('"') ? etag : $"\"{etag}\"";
}

/// <summary>A response's content stream that disposes the response (and so frees its connection) with it.</summary>
internal sealed class ResponseStream(Stream inner, HttpResponseMessage response) : ForwardingReadStream(inner)
{
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Inner.Dispose();
            response.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await Inner.DisposeAsync();
        response.Dispose();
        await base.DisposeAsync();
    }
}
