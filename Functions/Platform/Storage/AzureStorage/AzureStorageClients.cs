using System.Net;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Specialized;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage.AzureStorage;

/// <summary>
/// The Azure SDK's Table, Queue and Blob service clients for the account section <c>Storage</c> describes: its
/// connection string (an account key, or <c>UseDevelopmentStorage=true</c> for Azurite), else its name and endpoints
/// reached with the app's <see cref="TokenCredential"/> (managed identity in Azure). They share one connection pool
/// and one retry policy from the settings.
/// </summary>
/// <remarks>
/// A write whose answer was lost but which the service applied is retried like any other: an insert then reports
/// Conflict and an enqueue leaves a second message. The ports promise no more (at-least-once delivery, inserts that
/// callers already treat as "exists").
/// </remarks>
internal sealed class AzureStorageClients : IDisposable
{
    // Long enough to ride out a brief outage or throttling burst, short enough that a request still answers.
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(400);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);
    private const string DefaultEndpointSuffix = "core.windows.net";

    private readonly HttpClientTransport _transport;

    private AzureStorageClients(TableServiceClient tables, QueueServiceClient queues, BlobServiceClient blobs, HttpClientTransport transport)
    {
        Tables = tables;
        Queues = queues;
        Blobs = blobs;
        _transport = transport;
    }

    public TableServiceClient Tables { get; }

    public QueueServiceClient Queues { get; }

    public BlobServiceClient Blobs { get; }

    /// <summary>Builds the clients; no request is sent.</summary>
    /// <param name="credential">Asked for only when the settings name an account without a connection string.</param>
    /// <exception cref="FormatException">The settings do not describe an account.</exception>
    public static AzureStorageClients Create(StorageOptions options, Func<TokenCredential> credential, ILogger logger)
    {
        var transport = new HttpClientTransport(new SocketsHttpHandler
        {
            // Renewing connections now and then follows DNS changes of the service endpoints.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            // Azurite closes idle keep-alive connections after 5 s; dropping ours first avoids sending on a dead socket.
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(4),
            MaxConnectionsPerServer = 64,
            // As the SDK's own default transport: it follows redirects itself and keeps no cookies.
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        });
        try
        {
            var tableOptions = Configure(new TableClientOptions(), StorageService.Table, options, transport, logger);
            var queueOptions = Configure(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }, StorageService.Queue, options, transport, logger);
            queueOptions.MessageDecodingFailed += args => MoveToPoisonAsync(args, logger);
            var blobOptions = Configure(new BlobClientOptions(), StorageService.Blob, options, transport, logger);

            if (!string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                var connectionString = options.ConnectionString.Trim();
                try
                {
                    return new AzureStorageClients(
                        new TableServiceClient(connectionString, tableOptions),
                        new QueueServiceClient(connectionString, queueOptions),
                        new BlobServiceClient(connectionString, blobOptions),
                        transport);
                }
                catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
                {
                    // Neither the SDK's message nor its exception goes along: it may quote a malformed part, which may be the key.
                    throw new FormatException(
                        $"{StorageOptions.Section}:{nameof(StorageOptions.ConnectionString)} is not a usable storage connection string ({e.GetType().Name}); give AccountName and AccountKey, or UseDevelopmentStorage=true.");
                }
            }

            if (string.IsNullOrWhiteSpace(options.AccountName))
            {
                throw new FormatException($"{StorageOptions.Section}:{nameof(StorageOptions.ConnectionString)} or {StorageOptions.Section}:{nameof(StorageOptions.AccountName)} must be set for the AzureStorage provider.");
            }

            var account = options.AccountName.Trim();
            var tableEndpoint = Endpoint(options.TableServiceUri, account, "table");
            var queueEndpoint = Endpoint(options.QueueServiceUri, account, "queue");
            var blobEndpoint = Endpoint(options.BlobServiceUri, account, "blob");
            var token = credential();
            return new AzureStorageClients(
                new TableServiceClient(tableEndpoint, token, tableOptions),
                new QueueServiceClient(queueEndpoint, token, queueOptions),
                new BlobServiceClient(blobEndpoint, token, blobOptions),
                transport);
        }
        catch
        {
            transport.Dispose();
            throw;
        }
    }

    public void Dispose() => _transport.Dispose();

    private static T Configure<T>(T clientOptions, StorageService service, StorageOptions options, HttpPipelineTransport transport, ILogger logger)
        where T : ClientOptions
    {
        clientOptions.Transport = transport;
        clientOptions.Retry.Mode = RetryMode.Exponential;
        clientOptions.Retry.MaxRetries = options.MaxRetries;
        clientOptions.Retry.Delay = FirstRetryDelay;
        clientOptions.Retry.MaxDelay = MaxRetryDelay;
        clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(options.RequestTimeoutSeconds);
        clientOptions.AddPolicy(new AttemptLogging(service, logger), HttpPipelinePosition.PerRetry);
        return clientOptions;
    }

    private static Uri Endpoint(string? configured, string account, string service)
    {
        var text = string.IsNullOrWhiteSpace(configured) ? $"https://{account}.{service}.{DefaultEndpointSuffix}" : configured.Trim();
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new FormatException($"'{text}' is not a valid {service} service URI.");
        }

        return uri;
    }

    /// <summary>
    /// A message that is not base64 cannot be handed over; the Functions host moves such a message to the poison queue,
    /// and so does this, with its text as it was, so one stray message neither blocks a queue nor vanishes.
    /// </summary>
    private static async Task MoveToPoisonAsync(QueueMessageDecodingFailedEventArgs args, ILogger logger)
    {
        // Peeks leave the message where it is; a poison queue's own stray message stays there for an operator.
        if (args.ReceivedMessage is not { } message || args.Queue.Name.EndsWith("-poison", StringComparison.Ordinal))
        {
            return;
        }

        var poison = QueueNames.Poison(args.Queue.Name);
        AzureStorageLog.UndecodableMessage(logger, args.Queue.Name, message.MessageId, poison);
        var poisonQueue = args.Queue.GetParentQueueServiceClient().GetQueueClient(poison);
        await StorageResources.CreatingQueueAsync(
            poisonQueue, () => poisonQueue.SendMessageAsync(message.Body, timeToLive: StorageResources.NeverExpires, cancellationToken: args.CancellationToken), logger, args.CancellationToken);
        await args.Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, args.CancellationToken);
    }

    /// <summary>
    /// Logs each attempt that failed in a way the SDK retries, so throttling or an outage shows in the app's logs
    /// (the SDK reports it only to an event source).
    /// </summary>
    private sealed class AttemptLogging(StorageService service, ILogger logger) : HttpPipelinePolicy
    {
        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            try
            {
                ProcessNext(message, pipeline);
            }
            catch (Exception e) when (message.ResponseClassifier.IsRetriable(message, e))
            {
                AzureStorageLog.AttemptFailed(logger, service, message.Request.Method.Method, e.GetType().Name);
                throw;
            }

            LogRetriableResponse(message);
        }

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            try
            {
                await ProcessNextAsync(message, pipeline);
            }
            catch (Exception e) when (message.ResponseClassifier.IsRetriable(message, e))
            {
                AzureStorageLog.AttemptFailed(logger, service, message.Request.Method.Method, e.GetType().Name);
                throw;
            }

            LogRetriableResponse(message);
        }

        private void LogRetriableResponse(HttpMessage message)
        {
            if (message.HasResponse && message.ResponseClassifier.IsRetriableResponse(message))
            {
                AzureStorageLog.AttemptFailed(logger, service, message.Request.Method.Method, message.Response.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }
}
