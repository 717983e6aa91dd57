using System.Buffers;
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Telemetry;

namespace Serverless.Functions.Platform.Ai;

/// <summary>
/// The one way into models, for the OpenAI-compatible API and for features calling in-process (chat, the workflow
/// llm node, RAG). A request is OpenAI's JSON body naming a model id; the gateway checks the caller's limits,
/// picks the providers serving that id, calls them through the OpenAI SDK's protocol methods (the body passes
/// through untouched but for the model name), retries 429/5xx/timeouts with backoff, falls back to the next
/// provider, and records usage for every upstream call.
/// </summary>
internal sealed class ModelGateway(
    ProviderDirectory directory,
    UpstreamClients clients,
    KeyQuotas quotas,
    IModelSpending spending,
    UsageLedger ledger,
    CredentialAlarms credentials,
    IOptions<ModelsOptions> options,
    TimeProvider time,
    ILogger<ModelGateway> logger)
{
    public const string ChatOperation = "chat";
    public const string EmbeddingOperation = "embedding";

    private readonly ModelsOptions _options = options.Value;

    /// <summary>Every model id the workspace can call (the caller's allow-list applied), first provider first.</summary>
    /// <summary>The ways to add a model provider, for errors that find none.</summary>
    public const string HowToAddProvider =
        "Add a provider: for this workspace with POST /api/v1/providers {name, kind, baseUrl, apiKey, models}; or for the whole platform " +
        "run Ollama on http://localhost:11434 or set OPENAI_API_KEY before starting (both are found by themselves while Models__Providers is empty), " +
        "or configure Models__Providers__0__Name, __Kind, __BaseUrl, __Models__0__Id.";

    /// <summary>Whether the workspace can reach any provider at all (its own or the operator's).</summary>
    public async Task<bool> HasProvidersAsync(string workspaceId, CancellationToken cancellationToken) =>
        (await directory.ForWorkspaceAsync(workspaceId, cancellationToken)).Count > 0;

    public async Task<IReadOnlyList<ModelInfo>> ListModelsAsync(string workspaceId, ModelLimits? limits, CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var models = new List<ModelInfo>();
        foreach (var provider in await directory.ForWorkspaceAsync(workspaceId, cancellationToken))
        {
            foreach (var model in provider.Models)
            {
                if ((limits?.Allows(model.Id) ?? true) && seen.Add(model.Id))
                {
                    models.Add(new ModelInfo(model.Id, provider.Name, model.Embedding));
                }
            }
        }

        return models;
    }

    public Task<ModelOutcome<ModelResponse>> CompleteChatAsync(ModelCaller caller, JsonObject request, CancellationToken cancellationToken) =>
        SendAsync(caller, request, ChatOperation, cancellationToken);

    public Task<ModelOutcome<ModelResponse>> EmbedAsync(ModelCaller caller, JsonObject request, CancellationToken cancellationToken) =>
        SendAsync(caller, request, EmbeddingOperation, cancellationToken);

    /// <summary>
    /// Opens a streamed chat completion. Retries and fallback happen until the first provider answers 200; after
    /// that the stream is the caller's to read and dispose (disposing records the usage).
    /// </summary>
    public async Task<ModelOutcome<ModelChatStream>> StreamChatAsync(ModelCaller caller, JsonObject request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var (modelId, candidates, refused, hold) = await PrepareAsync(caller, request, embedding: false, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        var clientWantsUsage = request["stream_options"] is JsonObject so && so["include_usage"] is JsonValue v && v.TryGetValue(out bool wants) && wants;
        var span = PlatformTelemetry.StartModelCall(ChatOperation, modelId);
        Attempt attempt;
        try
        {
            attempt = await RunAsync(candidates, request, ChatOperation, stream: true, cancellationToken);
        }
        catch (Exception) when (hold is not null)
        {
            await spending.SettleAsync(hold, null);
            throw;
        }

        if (attempt.Response is null)
        {
            var failed = Record(caller, modelId, attempt.Provider?.Name, ChatOperation, true, new TokenUsage(0, 0), 0m, started, null, StatusOf(attempt.Failure!));
            EndSpan(span, attempt.Provider, null, new TokenUsage(0, 0), StatusOf(attempt.Failure!));
            if (hold is not null)
            {
                await spending.SettleAsync(hold, failed);
            }

            return attempt.Failure!;
        }

        var provider = attempt.Provider!;
        var model = attempt.Model!;
        // Only needed when the provider reports no usage, so the messages are not serialized again otherwise.
        var promptEstimate = () => EstimateTokens(request["messages"]?.ToJsonString().Length ?? 0);
        return new ModelChatStream(attempt.Response, provider.Name, modelId, clientWantsUsage, started, promptEstimate, async (usage, ttft, status) =>
        {
            var row = Record(caller, modelId, provider.Name, ChatOperation, true, usage, model.Cost(usage.PromptTokens, usage.CompletionTokens), started, ttft, status);
            // The chunks name the answering model too; the upstream name asked for is what a stream's span says.
            EndSpan(span, provider, model.UpstreamModel, usage, status);
            if (hold is not null)
            {
                await spending.SettleAsync(hold, row);
            }
        });
    }

    /// <summary>
    /// The checks every model call passes before it goes upstream (allow-list, per-key quotas), for features that
    /// reach a provider by another protocol (Ollama's native generate).
    /// </summary>
    /// <remarks>
    /// The admission also holds the call's reservation of credits (from <paramref name="promptCharacters"/> and
    /// <paramref name="maxCompletionTokens"/>): <see cref="RecordCallAsync"/> settles it, disposing an admission that
    /// recorded nothing releases it.
    /// </remarks>
    public async Task<ModelAdmission> AdmitAsync(ModelCaller caller, ProviderDefinition provider, string modelId, int promptCharacters, int? maxCompletionTokens,
        CancellationToken cancellationToken)
    {
        if (!(caller.Limits?.Allows(modelId) ?? true))
        {
            return new ModelAdmission(new ModelFailure(ModelFailureKind.NotAllowed, 403, $"This API key may not use the model '{modelId}'.", "model"), null, spending);
        }

        if (await quotas.CheckAsync(caller, cancellationToken) is { } quota)
        {
            return new ModelAdmission(quota, null, spending);
        }

        var prices = provider.Find(modelId) is { } model ? new[] { model } : [];
        var (hold, refused) = await spending.ReserveAsync(caller, new ModelCostEstimate(() => EstimateTokens(promptCharacters), maxCompletionTokens, false, prices),
            cancellationToken);
        return new ModelAdmission(refused, hold, spending);
    }

    /// <summary>Records a call made by another protocol, priced by the provider's model entry when it lists the model, and pays for it.</summary>
    public async Task RecordCallAsync(ModelAdmission admission, ModelCaller caller, ProviderDefinition provider, string modelId, string operation, bool stream,
        TokenUsage usage, long started, long? timeToFirstTokenMs, string status)
    {
        var cost = provider.Find(modelId)?.Cost(usage.PromptTokens, usage.CompletionTokens) ?? 0m;
        await admission.SettleAsync(Record(caller, modelId, provider.Name, operation, stream, usage, cost, started, timeToFirstTokenMs, status));
    }

    private async Task<ModelOutcome<ModelResponse>> SendAsync(ModelCaller caller, JsonObject request, string operation, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var embedding = operation == EmbeddingOperation;
        var (modelId, candidates, refused, hold) = await PrepareAsync(caller, request, embedding, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        UsageRecord? row = null;
        try
        {
            var span = PlatformTelemetry.StartModelCall(operation, modelId);
            var attempt = await RunAsync(candidates, request, operation, stream: false, cancellationToken);
            if (attempt.Response is null)
            {
                row = Record(caller, modelId, attempt.Provider?.Name, operation, false, new TokenUsage(0, 0), 0m, started, null, StatusOf(attempt.Failure!));
                EndSpan(span, attempt.Provider, null, new TokenUsage(0, 0), StatusOf(attempt.Failure!));
                return attempt.Failure!;
            }

            using var response = attempt.Response;
            var body = attempt.Body!;
            var (reported, responseModel) = ReadUsage(body, embedding);
            var usage = reported ?? new TokenUsage(EstimateTokens(request.ToJsonString().Length), 0);
            var cost = attempt.Model!.Cost(usage.PromptTokens, usage.CompletionTokens);
            row = Record(caller, modelId, attempt.Provider!.Name, operation, false, usage, cost, started, null, UsageStatus.Ok);
            EndSpan(span, attempt.Provider, responseModel ?? attempt.Model.UpstreamModel, usage, UsageStatus.Ok);
            return new ModelResponse(body, attempt.Provider.Name, modelId, usage);
        }
        finally
        {
            // Also when the caller went away mid-call: the hold never outlives the call.
            if (hold is not null)
            {
                await spending.SettleAsync(hold, row);
            }
        }
    }

    private async Task<(string ModelId, IReadOnlyList<(ProviderDefinition, ProviderModel)> Candidates, ModelFailure? Refused, SpendingHold? Hold)> PrepareAsync(
        ModelCaller caller, JsonObject request, bool embedding, CancellationToken cancellationToken)
    {
        if (request["model"] is not JsonValue value || !value.TryGetValue(out string? modelId) || string.IsNullOrWhiteSpace(modelId))
        {
            return ("", [], ModelFailure.Invalid("you must provide a model parameter", "model"), null);
        }

        if (!(caller.Limits?.Allows(modelId) ?? true))
        {
            return (modelId, [], new ModelFailure(ModelFailureKind.NotAllowed, 403, $"This API key may not use the model '{modelId}'.", "model"), null);
        }

        var candidates = await directory.CandidatesAsync(caller.WorkspaceId, modelId, embedding, cancellationToken);
        if (candidates.Count == 0)
        {
            var hint = await HasProvidersAsync(caller.WorkspaceId, cancellationToken) ? "" : " No model provider is available. " + HowToAddProvider;
            return (modelId, [], new ModelFailure(ModelFailureKind.ModelNotFound, 404,
                $"The model '{modelId}' does not exist or you do not have access to it.{hint}", "model"), null);
        }

        if (await quotas.CheckAsync(caller, cancellationToken) is { } quota)
        {
            return (modelId, candidates, quota, null);
        }

        // Last, so a call refused for any other reason never holds funds.
        var estimate = new ModelCostEstimate(() => EstimateTokens(request.ToJsonString().Length), MaxCompletionTokens(request), embedding,
            [.. candidates.Select(c => c.Item2)]);
        var (hold, refused) = await spending.ReserveAsync(caller, estimate, cancellationToken);
        return (modelId, candidates, refused, hold);
    }

    /// <summary>The most completion tokens the request allows (OpenAI's newer name first), when it says.</summary>
    private static int? MaxCompletionTokens(JsonObject request)
    {
        foreach (var name in (ReadOnlySpan<string>)["max_completion_tokens", "max_tokens"])
        {
            if (request[name] is JsonValue value && value.TryGetValue(out int tokens) && tokens > 0)
            {
                return tokens;
            }
        }

        return null;
    }

    // Beyond this a Content-Length is not trusted for one up-front allocation; such a body grows as it arrives.
    private const int MaxPresizedBody = 4 * 1024 * 1024;

    private sealed record Attempt(PipelineResponse? Response, ProviderDefinition? Provider, ProviderModel? Model, ModelFailure? Failure, BinaryData? Body = null);

    /// <summary>Reads a whole answer straight off the connection, inside the attempt (so under its timeout).</summary>
    private static async Task<BinaryData> ReadBodyAsync(PipelineResponse response, CancellationToken cancellationToken)
    {
        if (response.ContentStream is not { } content)
        {
            return BinaryData.Empty;
        }

        // A provider that says how long its answer is (nearly all do) is read into one array of that size: no growing
        // buffer and no copy of it afterwards.
        if (response.Headers.TryGetValue("Content-Length", out var header)
            && int.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var length) && length is > 0 and <= MaxPresizedBody)
        {
            var bytes = new byte[length];
            var read = 0;
            while (read < length && await content.ReadAsync(bytes.AsMemory(read), cancellationToken) is var n and > 0)
            {
                read += n;
            }

            if (read == length)
            {
                return BinaryData.FromBytes(bytes);
            }

            // Shorter than announced: what came is the body, as the copying path below would have returned it.
            return BinaryData.FromBytes(bytes.AsMemory(0, read));
        }

        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken);
        return BinaryData.FromBytes(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }

    private async Task<Attempt> RunAsync(
        IReadOnlyList<(ProviderDefinition Provider, ProviderModel Model)> candidates, JsonObject request, string operation, bool stream, CancellationToken cancellationToken)
    {
        ModelFailure? last = null;
        ProviderDefinition? lastProvider = null;
        var timeout = TimeSpan.FromSeconds(_options.RequestTimeoutSeconds);
        foreach (var (provider, model) in candidates)
        {
            lastProvider = provider;
            var requestBody = BinaryData.FromBytes(Serialize(request, model.UpstreamModel, operation, stream));
            for (var attempt = 0; ; attempt++)
            {
                var retryable = false;
                int? retryAfter = null;
                using (var attemptTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    attemptTimeout.CancelAfter(timeout);
                    // The body is read here, under this attempt's timeout, rather than by the SDK's buffering policy.
                    var requestOptions = new RequestOptions { CancellationToken = attemptTimeout.Token, BufferResponse = false, ErrorOptions = ClientErrorBehaviors.NoThrow };
                    PipelineResponse? response = null;
                    BinaryData? body = null;
                    try
                    {
                        var client = clients.For(provider);
                        var content = BinaryContent.Create(requestBody);
                        var result = operation == EmbeddingOperation
                            ? await client.Embeddings.GenerateEmbeddingsAsync(content, requestOptions)
                            : await client.Chat.CompleteChatAsync(content, requestOptions);
                        response = result.GetRawResponse();
                        if (!stream || response.IsError)
                        {
                            body = await ReadBodyAsync(response, attemptTimeout.Token);
                        }
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        response?.Dispose();
                        throw;
                    }
                    catch (Exception exception) when (exception is OperationCanceledException or ClientResultException or HttpRequestException or IOException)
                    {
                        // The answer may have started before it broke off; its connection must not be left open.
                        response?.Dispose();
                        response = null;
                        var timedOut = exception is OperationCanceledException || exception.InnerException is TimeoutException or OperationCanceledException;
                        last = timedOut
                            ? new ModelFailure(ModelFailureKind.Timeout, 504, $"The provider '{provider.Name}' did not answer in time.")
                            : new ModelFailure(ModelFailureKind.Upstream, 502, $"The provider '{provider.Name}' could not be reached.");
                        ModelGatewayLog.UpstreamUnreachable(logger, provider.Name, attempt, exception.GetType().Name);
                        retryable = true;
                    }

                    if (response is not null)
                    {
                        if (!response.IsError)
                        {
                            return new Attempt(response, provider, model, null, body);
                        }

                        var status = response.Status;
                        ModelGatewayLog.UpstreamFailed(logger, provider.Name, attempt, status);
                        if (status is 400 or 422)
                        {
                            var upstreamBody = body;
                            response.Dispose();
                            return new Attempt(null, provider, model, new ModelFailure(ModelFailureKind.UpstreamRejected, status,
                                $"The provider '{provider.Name}' rejected the request.", null, null, upstreamBody));
                        }

                        await credentials.ProviderRefusedAsync(provider, status, cancellationToken);
                        retryable = status is 408 or 429 or >= 500;
                        retryAfter = RetryAfterSeconds(response);
                        response.Dispose();
                        last = new ModelFailure(ModelFailureKind.Upstream, 502, $"The provider '{provider.Name}' answered {status}.");
                    }
                }

                if (!retryable || attempt >= _options.MaxRetries)
                {
                    break;
                }

                await Task.Delay(Backoff(attempt, retryAfter), time, cancellationToken);
            }
        }

        var message = candidates.Count > 1 ? $"Every provider of this model failed; the last: {last!.Message}" : last!.Message;
        return new Attempt(null, lastProvider, null, last with { Message = message });
    }

    private TimeSpan Backoff(int attempt, int? retryAfterSeconds)
    {
        var delay = retryAfterSeconds is { } seconds
            ? TimeSpan.FromSeconds(seconds)
            : TimeSpan.FromMilliseconds(_options.RetryBaseDelayMs * Math.Pow(2, attempt) * (0.8 + Random.Shared.NextDouble() * 0.4));
        return delay > TimeSpan.FromMilliseconds(_options.MaxRetryDelayMs) ? TimeSpan.FromMilliseconds(_options.MaxRetryDelayMs) : delay;
    }

    private static int? RetryAfterSeconds(PipelineResponse response) =>
        response.Headers.TryGetValue("Retry-After", out var value) && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? seconds
            : null;

    /// <summary>
    /// The upstream body: the caller's JSON with the upstream model name, and for streams usage switched on (the
    /// stream strips that extra chunk again when the client did not ask for it), so streamed calls are billed too.
    /// </summary>
    private static byte[] Serialize(JsonObject request, string upstreamModel, string operation, bool stream)
    {
        // Written straight from the caller's nodes: no copy of the request is built for each provider tried.
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            var chat = operation == ChatOperation;
            writer.WriteStartObject();
            foreach (var (name, node) in request)
            {
                if (name == "model" || (chat && name is "stream" or "stream_options"))
                {
                    continue;
                }

                WriteProperty(writer, name, node);
            }

            writer.WriteString("model", upstreamModel);
            if (chat && stream)
            {
                writer.WriteBoolean("stream", true);
                writer.WritePropertyName("stream_options");
                writer.WriteStartObject();
                foreach (var (name, node) in request["stream_options"] as JsonObject ?? [])
                {
                    if (name != "include_usage")
                    {
                        WriteProperty(writer, name, node);
                    }
                }

                writer.WriteBoolean("include_usage", true);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteProperty(Utf8JsonWriter writer, string name, JsonNode? node)
    {
        writer.WritePropertyName(name);
        if (node is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            node.WriteTo(writer);
        }
    }

    /// <summary>The usage the provider reported, and the model it says answered.</summary>
    private static (TokenUsage? Usage, string? Model) ReadUsage(BinaryData body, bool embedding)
    {
        try
        {
            using var document = JsonDocument.Parse(body.ToMemory());
            var root = document.RootElement;
            var model = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            return (ModelChatStream.UsageOf(root, embedding), model);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    /// <summary>A rough count (about four characters a token) for providers that report no usage.</summary>
    internal static int EstimateTokens(int characters) => (characters + 3) / 4;

    private static string StatusOf(ModelFailure failure) => failure.Kind switch
    {
        ModelFailureKind.Timeout => UsageStatus.Timeout,
        ModelFailureKind.UpstreamRejected => UsageStatus.Rejected,
        _ => UsageStatus.Error,
    };

    private static void EndSpan(Activity? span, ProviderDefinition? provider, string? responseModel, TokenUsage usage, string status) =>
        PlatformTelemetry.EndModelCall(span, provider?.Name, provider?.Kind, provider?.BaseUrl, responseModel, usage.PromptTokens, usage.CompletionTokens, status);

    private UsageRecord Record(ModelCaller caller, string modelId, string? provider, string operation, bool stream, TokenUsage usage, decimal cost,
        long started, long? ttftMs, string status)
    {
        PlatformTelemetry.RecordModelUsage(modelId, usage.PromptTokens, usage.CompletionTokens, cost);
        var record = new UsageRecord(
            Guid.CreateVersion7().ToString("N"), caller.WorkspaceId, caller.UserId, caller.ApiKeyId, modelId, provider, operation, stream,
            usage.PromptTokens, usage.CompletionTokens, usage.TotalTokens, cost,
            (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, ttftMs, status, caller.Source, time.GetUtcNow(), caller.WorkflowId, caller.AppId);
        quotas.Add(record);
        ledger.Record(record);
        return record;
    }
}
