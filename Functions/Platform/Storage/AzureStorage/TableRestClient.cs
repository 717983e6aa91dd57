using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage.AzureStorage;

/// <summary>A table entity with string properties only (all this platform stores), its ETag and its timestamp.</summary>
internal sealed record TableEntity(string PartitionKey, string RowKey, IReadOnlyDictionary<string, string> Properties, string ETag, DateTimeOffset Timestamp);

/// <summary>One page of a table query and the service's continuation, when it has more.</summary>
internal sealed record TablePage(IReadOnlyList<TableEntity> Entities, (string PartitionKey, string RowKey)? Next);

/// <summary>
/// Table Storage REST operations in OData JSON (minimal metadata, which carries each entity's ETag). A missing
/// table is created on the first insert that needs it; reading a missing table finds nothing.
/// </summary>
internal sealed class TableRestClient(StoragePipeline pipeline, StorageAccount account, ILogger<TableRestClient> logger)
{
    private const string JsonMinimalMetadata = "application/json;odata=minimalmetadata";
    private const string ODataETag = "odata.etag";
    private const string TableNotFound = "TableNotFound";

    public async Task<TableEntity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        using var response = await pipeline.SendAsync(StorageService.Table, () => Request(HttpMethod.Get, EntityUri(table, partitionKey, rowKey)), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw await StorageRequestException.FromAsync(response, "Get Entity", cancellationToken);
        }

        using var document = await ReadJsonAsync(response, cancellationToken);
        return ToEntity(document.RootElement, RawETag(response));
    }

    /// <summary>Insert Entity: Conflict when it exists.</summary>
    public async Task<WriteResult> InsertAsync(string table, string partitionKey, string rowKey, IReadOnlyDictionary<string, string> properties, CancellationToken cancellationToken)
    {
        var body = Body(partitionKey, rowKey, properties);
        HttpRequestMessage Create()
        {
            var request = Request(HttpMethod.Post, new Uri($"{account.TableEndpoint}/{table}"), body);
            request.Headers.TryAddWithoutValidation("Prefer", "return-no-content");
            return request;
        }

        using var response = await pipeline.SendCreatingAsync(StorageService.Table, Create, TableNotFound, ct => CreateTableAsync(table, ct), cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.NoContent or HttpStatusCode.Created => new WriteResult(WriteStatus.Ok, RawETag(response)),
            HttpStatusCode.Conflict => new WriteResult(WriteStatus.Conflict, null),
            _ => throw await StorageRequestException.FromAsync(response, "Insert Entity", cancellationToken),
        };
    }

    /// <summary>
    /// Update Entity (replace) with If-Match, or Insert Or Replace Entity when <paramref name="ifMatch"/> is null.
    /// NotFound when a conditional update finds nothing, PreconditionFailed when the ETag differs.
    /// </summary>
    public async Task<WriteResult> PutAsync(
        string table, string partitionKey, string rowKey, IReadOnlyDictionary<string, string> properties, string? ifMatch, CancellationToken cancellationToken)
    {
        var body = Body(partitionKey, rowKey, properties);
        HttpRequestMessage Create()
        {
            var request = Request(HttpMethod.Put, EntityUri(table, partitionKey, rowKey), body);
            if (ifMatch is not null)
            {
                request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
            }

            return request;
        }

        // Only an unconditional write may create: a conditional one on a missing table is simply NotFound.
        using var response = ifMatch is null
            ? await pipeline.SendCreatingAsync(StorageService.Table, Create, TableNotFound, ct => CreateTableAsync(table, ct), cancellationToken)
            : await pipeline.SendAsync(StorageService.Table, Create, cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.NoContent => new WriteResult(WriteStatus.Ok, RawETag(response)),
            HttpStatusCode.NotFound => new WriteResult(WriteStatus.NotFound, null),
            HttpStatusCode.PreconditionFailed => new WriteResult(WriteStatus.PreconditionFailed, null),
            _ => throw await StorageRequestException.FromAsync(response, "Update Entity", cancellationToken),
        };
    }

    /// <summary>Delete Entity with If-Match (<c>*</c> for any version).</summary>
    public async Task<WriteResult> DeleteAsync(string table, string partitionKey, string rowKey, string ifMatch, CancellationToken cancellationToken)
    {
        using var response = await pipeline.SendAsync(StorageService.Table, () =>
        {
            var request = Request(HttpMethod.Delete, EntityUri(table, partitionKey, rowKey));
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
            return request;
        }, cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.NoContent => new WriteResult(WriteStatus.Ok, null),
            HttpStatusCode.NotFound => new WriteResult(WriteStatus.NotFound, null),
            HttpStatusCode.PreconditionFailed => new WriteResult(WriteStatus.PreconditionFailed, null),
            _ => throw await StorageRequestException.FromAsync(response, "Delete Entity", cancellationToken),
        };
    }

    /// <summary>Query Entities with an OData filter; the service may return fewer than <paramref name="top"/> and a continuation.</summary>
    public async Task<TablePage> QueryAsync(
        string table, string? filter, int top, (string PartitionKey, string RowKey)? continuation, CancellationToken cancellationToken)
    {
        var query = new StringBuilder($"?$top={top}");
        if (filter is not null)
        {
            query.Append("&$filter=").Append(Uri.EscapeDataString(filter));
        }

        if (continuation is { } next)
        {
            query.Append("&NextPartitionKey=").Append(Uri.EscapeDataString(next.PartitionKey))
                .Append("&NextRowKey=").Append(Uri.EscapeDataString(next.RowKey));
        }

        var uri = new Uri($"{account.TableEndpoint}/{table}(){query}");
        using var response = await pipeline.SendAsync(StorageService.Table, () => Request(HttpMethod.Get, uri), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return new TablePage([], null);
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw await StorageRequestException.FromAsync(response, "Query Entities", cancellationToken);
        }

        using var document = await ReadJsonAsync(response, cancellationToken);
        var entities = document.RootElement.GetProperty("value").EnumerateArray()
            .Select(e => ToEntity(e, e.GetProperty(ODataETag).GetString()!))
            .ToList();
        var nextPartition = StorageResponses.Header(response, "x-ms-continuation-NextPartitionKey");
        var nextRow = StorageResponses.Header(response, "x-ms-continuation-NextRowKey");
        return new TablePage(entities, nextPartition is null ? null : (nextPartition, nextRow ?? ""));
    }

    public async Task CreateTableAsync(string table, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["TableName"] = table });
        using var response = await pipeline.SendAsync(StorageService.Table, () =>
        {
            var request = Request(HttpMethod.Post, new Uri($"{account.TableEndpoint}/Tables"), body);
            request.Headers.TryAddWithoutValidation("Prefer", "return-no-content");
            return request;
        }, cancellationToken);
        if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.NoContent)
        {
            AzureStorageLog.Created(logger, StorageService.Table, table);
        }
        else if (response.StatusCode != HttpStatusCode.Conflict)
        {
            throw await StorageRequestException.FromAsync(response, "Create Table", cancellationToken);
        }
    }

    /// <summary>An OData string literal: single quotes doubled.</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private Uri EntityUri(string table, string partitionKey, string rowKey) =>
        new($"{account.TableEndpoint}/{table}(PartitionKey={Uri.EscapeDataString(Literal(partitionKey))},RowKey={Uri.EscapeDataString(Literal(rowKey))})");

    private static HttpRequestMessage Request(HttpMethod method, Uri uri, byte[]? body = null)
    {
        var request = new HttpRequestMessage(method, uri);
        request.Headers.TryAddWithoutValidation("Accept", JsonMinimalMetadata);
        request.Headers.TryAddWithoutValidation("DataServiceVersion", "3.0;NetFx");
        request.Headers.TryAddWithoutValidation("MaxDataServiceVersion", "3.0;NetFx");
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        }

        return request;
    }

    private static byte[] Body(string partitionKey, string rowKey, IReadOnlyDictionary<string, string> properties)
    {
        var entity = new Dictionary<string, string>(properties.Count + 2, StringComparer.Ordinal)
        {
            ["PartitionKey"] = partitionKey,
            ["RowKey"] = rowKey,
        };
        foreach (var (name, value) in properties)
        {
            entity[name] = value;
        }

        return JsonSerializer.SerializeToUtf8Bytes(entity);
    }

    private static TableEntity ToEntity(JsonElement element, string etag)
    {
        string? partitionKey = null, rowKey = null;
        var timestamp = DateTimeOffset.MinValue;
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            switch (property.Name)
            {
                case "PartitionKey":
                    partitionKey = property.Value.GetString();
                    break;
                case "RowKey":
                    rowKey = property.Value.GetString();
                    break;
                case "Timestamp":
                    timestamp = DateTimeOffset.Parse(property.Value.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
                    break;
                default:
                    // odata.* and name@odata.type are metadata, not properties.
                    if (!property.Name.StartsWith("odata.", StringComparison.Ordinal) && !property.Name.Contains('@', StringComparison.Ordinal)
                        && property.Value.ValueKind == JsonValueKind.String)
                    {
                        properties[property.Name] = property.Value.GetString()!;
                    }

                    break;
            }
        }

        return new TableEntity(partitionKey ?? "", rowKey ?? "", properties, etag, timestamp);
    }

    /// <summary>The ETag exactly as the service sent it, so that it matches the odata.etag a query reports.</summary>
    private static string RawETag(HttpResponseMessage response) =>
        response.Headers.NonValidated.TryGetValues("ETag", out var values) ? values.ToString() : StorageResponses.ETag(response);

    private static async Task<JsonDocument> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
    }
}
