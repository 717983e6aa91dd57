using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;

namespace Serverless.Functions.Platform.Telemetry;

/// <summary>
/// The platform's own spans and metrics: one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named
/// <see cref="Name"/>, and the names of what they emit. With no exporter configured nothing listens, and starting a
/// span or adding to a counter costs a check.
/// </summary>
internal static class PlatformTelemetry
{
    public const string Name = "Serverless.Platform";

    private static readonly string? Version = typeof(PlatformTelemetry).Assembly.GetName().Version?.ToString();

    public static readonly ActivitySource Source = new(Name, Version);

    public static readonly Meter Meter = new(Name, Version);

    /// <summary>Span names.</summary>
    public static class Spans
    {
        public const string Run = "workflow.run";
        public const string Node = "workflow.node";
        public const string NodeAttempt = "workflow.node.attempt";
    }

    /// <summary>Attributes of the spans and metrics: the workflow's own, and OpenTelemetry's gen_ai conventions for model calls (prompts and answers are never recorded).</summary>
    public static class Attributes
    {
        public const string RunId = "workflow.run.id";
        public const string RunStatus = "workflow.run.status";
        public const string RunGeneration = "workflow.run.retry";
        public const string ParentRunId = "workflow.run.parent_id";
        public const string WorkflowId = "workflow.id";
        public const string WorkflowVersion = "workflow.version";
        public const string WorkspaceId = "workspace.id";
        public const string NodeId = "workflow.node.id";
        public const string NodeType = "workflow.node.type";
        public const string NodeStatus = "workflow.node.status";
        public const string NodeAttempt = "workflow.node.attempt";
        public const string NodeAttempts = "workflow.node.attempts";
        public const string ErrorType = "error.type";
        public const string GenAiOperation = "gen_ai.operation.name";
        public const string GenAiSystem = "gen_ai.system";
        public const string GenAiProvider = "gen_ai.provider.name";
        public const string GenAiRequestModel = "gen_ai.request.model";
        public const string GenAiResponseModel = "gen_ai.response.model";
        public const string GenAiInputTokens = "gen_ai.usage.input_tokens";
        public const string GenAiOutputTokens = "gen_ai.usage.output_tokens";
        public const string GenAiChat = "chat";
        public const string GenAiEmbeddings = "embeddings";
        public const string ServerAddress = "server.address";
        public const string ModelProvider = "model.provider";
        public const string Model = "model";
        public const string Direction = "direction";
        public const string QueueName = "messaging.destination.name";
    }

    /// <summary>Metric names.</summary>
    public static class Metrics
    {
        public const string RunsStarted = "workflow.runs.started";
        public const string RunsFinished = "workflow.runs.finished";
        public const string RunsFailed = "workflow.runs.failed";
        public const string RunDuration = "workflow.run.duration";
        public const string NodeDuration = "workflow.node.duration";
        public const string ModelTokens = "model.tokens";
        public const string ModelCost = "model.cost";
        public const string QueueBacklog = "queue.backlog";
    }

    public static readonly Counter<long> RunsStartedCounter = Meter.CreateCounter<long>(Metrics.RunsStarted, "{run}", "Workflow runs that left the queue and started");
    public static readonly Counter<long> RunsFinishedCounter = Meter.CreateCounter<long>(Metrics.RunsFinished, "{run}", "Workflow runs that ended, by status");
    public static readonly Counter<long> RunsFailedCounter = Meter.CreateCounter<long>(Metrics.RunsFailed, "{run}", "Workflow runs that failed or timed out");
    public static readonly Histogram<double> RunDurationHistogram = Meter.CreateHistogram<double>(Metrics.RunDuration, "s", "Workflow run duration, from start to end");
    public static readonly Histogram<double> NodeDurationHistogram = Meter.CreateHistogram<double>(Metrics.NodeDuration, "s", "Workflow node duration, from its first attempt to its end, by node type");
    public static readonly Counter<long> ModelTokensCounter = Meter.CreateCounter<long>(Metrics.ModelTokens, "{token}", "Model tokens, by model and direction (input, output)");
    public static readonly Counter<double> ModelCostCounter = Meter.CreateCounter<double>(Metrics.ModelCost, "USD", "Model cost from the providers' per-1K prices, by model");

    /// <summary>
    /// The trace a run's spans share, and the id they hang from. A run outlives any one process (and its span is written
    /// when it ends), so its context is derived from its id and retry generation instead of being carried along: the
    /// node attempts that run meanwhile, anywhere, join the same trace.
    /// </summary>
    public static ActivityContext RunContext(string runId, int generation)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(runId + "/" + generation), hash);
        return new ActivityContext(ActivityTraceId.CreateFromBytes(hash[..16]), ActivitySpanId.CreateFromBytes(hash[16..24]),
            ActivityTraceFlags.Recorded, isRemote: true);
    }

    /// <summary>A model call's span (null when nobody listens), named as gen_ai spans are: "{operation} {model}".</summary>
    public static Activity? StartModelCall(string operation, string requestModel)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var name = operation == Ai.ModelGateway.EmbeddingOperation ? Attributes.GenAiEmbeddings : Attributes.GenAiChat;
        var span = Source.StartActivity(name + " " + requestModel, ActivityKind.Client);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(Attributes.GenAiOperation, name);
            span.SetTag(Attributes.GenAiRequestModel, requestModel);
        }

        return span;
    }

    /// <summary>Ends a model call's span with the provider that answered (or failed last), the answering model and the token counts.</summary>
    public static void EndModelCall(Activity? span, string? providerName, string? providerKind, Uri? providerUrl, string? responseModel,
        int inputTokens, int outputTokens, string status)
    {
        if (span is null)
        {
            return;
        }

        if (span.IsAllDataRequested)
        {
            if (providerKind is not null)
            {
                var system = GenAiSystemOf(providerKind);
                span.SetTag(Attributes.GenAiProvider, system);
                span.SetTag(Attributes.GenAiSystem, system);
            }

            span.SetTag(Attributes.ModelProvider, providerName);
            span.SetTag(Attributes.ServerAddress, providerUrl?.Host);
            span.SetTag(Attributes.GenAiResponseModel, responseModel);
            span.SetTag(Attributes.GenAiInputTokens, inputTokens);
            span.SetTag(Attributes.GenAiOutputTokens, outputTokens);
            if (status != Ai.UsageStatus.Ok)
            {
                span.SetTag(Attributes.ErrorType, status);
                span.SetStatus(ActivityStatusCode.Error);
            }
        }

        span.Stop();
    }

    /// <summary>Tokens and cost of one upstream call.</summary>
    public static void RecordModelUsage(string model, int inputTokens, int outputTokens, decimal cost)
    {
        if (ModelTokensCounter.Enabled)
        {
            var modelTag = new KeyValuePair<string, object?>(Attributes.Model, model);
            ModelTokensCounter.Add(inputTokens, modelTag, new KeyValuePair<string, object?>(Attributes.Direction, "input"));
            ModelTokensCounter.Add(outputTokens, modelTag, new KeyValuePair<string, object?>(Attributes.Direction, "output"));
        }

        if (ModelCostCounter.Enabled && cost > 0)
        {
            ModelCostCounter.Add((double)cost, new KeyValuePair<string, object?>(Attributes.Model, model));
        }
    }

    // gen_ai.provider.name's well-known values where one fits; otherwise the platform's own kind.
    private static string GenAiSystemOf(string providerKind) => providerKind switch
    {
        Ai.ProviderKinds.OpenAi => "openai",
        Ai.ProviderKinds.AzureOpenAi => "azure.ai.openai",
        _ => providerKind,
    };
}
