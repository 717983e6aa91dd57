using System.Globalization;
using System.Net;
using System.Security;
using System.Text;
using System.Xml.Linq;

namespace Serverless.Functions.Platform.Storage.AzureStorage;

internal sealed record RawQueueMessage(string Id, string PopReceipt, string Text, int DequeueCount, DateTimeOffset InsertedAt, DateTimeOffset NextVisibleAt);

/// <summary>
/// Queue Storage REST operations. Message text goes over the wire as given (the adapter base64-encodes it, as
/// the Functions host's queue trigger expects); times are whole seconds, as the service counts them. A missing
/// queue is created on the first put that needs it; reading a missing queue finds nothing.
/// </summary>
internal sealed class QueueRestClient(StoragePipeline pipeline, StorageAccount account, ILogger<QueueRestClient> logger)
{
    /// <summary>Adds a message that becomes visible after <paramref name="visibilitySeconds"/>; returns its id.</summary>
    public async Task<string> PutAsync(string queue, string text, int visibilitySeconds, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes($"<QueueMessage><MessageText>{SecurityElement.Escape(text)}</MessageText></QueueMessage>");
        // messagettl=-1: a message waits until it is consumed, however long that takes (the default is 7 days).
        var uri = QueueUri(queue, $"/messages?visibilitytimeout={visibilitySeconds}&messagettl=-1");
        HttpRequestMessage Create() => new(HttpMethod.Post, uri) { Content = Xml(body) };

        using var response = await pipeline.SendCreatingAsync(StorageService.Queue, Create, "QueueNotFound", ct => CreateAsync(queue, ct), cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw await StorageRequestException.FromAsync(response, "Put Message", cancellationToken);
        }

        var list = await ReadXmlAsync(response, cancellationToken);
        return list.Element("QueueMessage")!.Element("MessageId")!.Value;
    }

    /// <summary>Leases up to <paramref name="count"/> visible messages for <paramref name="visibilitySeconds"/> (at least 1).</summary>
    public async Task<IReadOnlyList<RawQueueMessage>> GetAsync(string queue, int count, int visibilitySeconds, CancellationToken cancellationToken)
    {
        var uri = QueueUri(queue, $"/messages?numofmessages={count}&visibilitytimeout={visibilitySeconds}");
        using var response = await pipeline.SendAsync(StorageService.Queue, () => new HttpRequestMessage(HttpMethod.Get, uri), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return [];
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw await StorageRequestException.FromAsync(response, "Get Messages", cancellationToken);
        }

        var list = await ReadXmlAsync(response, cancellationToken);
        return [.. list.Elements("QueueMessage").Select(m => new RawQueueMessage(
            m.Element("MessageId")!.Value,
            m.Element("PopReceipt")!.Value,
            m.Element("MessageText")?.Value ?? "",
            int.Parse(m.Element("DequeueCount")!.Value, CultureInfo.InvariantCulture),
            Time(m.Element("InsertionTime")!.Value),
            Time(m.Element("TimeNextVisible")!.Value)))];
    }

    /// <summary>Deletes a leased message; false when the receipt is stale or the message is gone.</summary>
    public async Task<bool> DeleteAsync(string queue, string messageId, string popReceipt, CancellationToken cancellationToken)
    {
        var uri = MessageUri(queue, messageId, popReceipt, "");
        using var response = await pipeline.SendAsync(StorageService.Queue, () => new HttpRequestMessage(HttpMethod.Delete, uri), cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.NoContent => true,
            _ when IsStaleLease(response) => false,
            _ => throw await StorageRequestException.FromAsync(response, "Delete Message", cancellationToken),
        };
    }

    /// <summary>Sets a leased message's visibility; the new pop receipt, or null when the receipt is stale or the message is gone.</summary>
    public async Task<string?> UpdateAsync(string queue, string messageId, string popReceipt, int visibilitySeconds, CancellationToken cancellationToken)
    {
        var uri = MessageUri(queue, messageId, popReceipt, $"&visibilitytimeout={visibilitySeconds}");
        using var response = await pipeline.SendAsync(StorageService.Queue, () => new HttpRequestMessage(HttpMethod.Put, uri), cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.NoContent => StorageResponses.Header(response, "x-ms-popreceipt"),
            _ when IsStaleLease(response) => null,
            _ => throw await StorageRequestException.FromAsync(response, "Update Message", cancellationToken),
        };
    }

    public async Task<int> CountAsync(string queue, CancellationToken cancellationToken)
    {
        using var response = await pipeline.SendAsync(StorageService.Queue, () => new HttpRequestMessage(HttpMethod.Get, QueueUri(queue, "?comp=metadata")), cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => int.Parse(StorageResponses.Header(response, "x-ms-approximate-messages-count") ?? "0", CultureInfo.InvariantCulture),
            HttpStatusCode.NotFound => 0,
            _ => throw await StorageRequestException.FromAsync(response, "Get Queue Metadata", cancellationToken),
        };
    }

    public async Task CreateAsync(string queue, CancellationToken cancellationToken)
    {
        using var response = await pipeline.SendAsync(StorageService.Queue, () => new HttpRequestMessage(HttpMethod.Put, QueueUri(queue, "")), cancellationToken);
        if (response.StatusCode == HttpStatusCode.Created)
        {
            AzureStorageLog.Created(logger, StorageService.Queue, queue);
        }
        else if (response.StatusCode != HttpStatusCode.NoContent)
        {
            throw await StorageRequestException.FromAsync(response, "Create Queue", cancellationToken);
        }
    }

    // The service answers 404 for a message that is gone and 400 for a receipt that no longer matches.
    private static bool IsStaleLease(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.NotFound
        || (response.StatusCode == HttpStatusCode.BadRequest && StorageResponses.ErrorCode(response) is "PopReceiptMismatch" or "InvalidQueryParameterValue");

    private Uri QueueUri(string queue, string rest) => new($"{account.QueueEndpoint}/{queue}{rest}");

    private Uri MessageUri(string queue, string messageId, string popReceipt, string more) =>
        QueueUri(queue, $"/messages/{Uri.EscapeDataString(messageId)}?popreceipt={Uri.EscapeDataString(popReceipt)}{more}");

    private static ByteArrayContent Xml(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/xml");
        return content;
    }

    private static async Task<XElement> ReadXmlAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        return (await XDocument.LoadAsync(body, LoadOptions.None, cancellationToken)).Root!;
    }

    private static DateTimeOffset Time(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
