using System.Net;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Serverless.Functions.Platform.Telemetry;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;
using Attr = Serverless.Functions.Platform.Telemetry.PlatformTelemetry.Attributes;

namespace Serverless.Functions.Tests.Telemetry;

/// <summary>
/// With OTEL_EXPORTER_OTLP_ENDPOINT set, the app exports over OTLP/HTTP (protobuf) to a collector on 127.0.0.1: request
/// spans, workflow run and node spans in one trace per run, gen_ai spans for model calls (no prompt text), outgoing
/// HTTP spans, and the platform's metrics.
/// </summary>
public sealed class TelemetryExportTests : IAsyncLifetime
{
    private const string Model = "gpt-otel";
    private const string UpstreamModel = "upstream-otel";

    private OtlpReceiver _receiver = null!;
    private FakeModelServer _upstream = null!;
    private PlatformFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _receiver = await OtlpReceiver.StartAsync();
        _upstream = await FakeModelServer.StartAsync();
        _factory = PlatformFactory.With(new Dictionary<string, string?>
        {
            [TelemetrySetup.OtlpEndpoint] = _receiver.Address,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "platform-under-test",
            ["Triggers:Enabled"] = "true",
            ["Http:AllowedPrivateHosts"] = "127.0.0.1",
            ["RateLimits:ExecutePerMinute"] = "100000",
            ["Models:Providers:0:Name"] = "fake",
            ["Models:Providers:0:Kind"] = "openai-compatible",
            ["Models:Providers:0:BaseUrl"] = _upstream.OpenAiBase,
            ["Models:Providers:0:Models:0:Id"] = Model,
            ["Models:Providers:0:Models:0:UpstreamModel"] = UpstreamModel,
            ["Models:Providers:0:Models:0:InputPricePer1K"] = "1.0",
            ["Models:Providers:0:Models:0:OutputPricePer1K"] = "2.0",
        });
        _client = _factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await _upstream.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task Export_RequestsRunsNodesAndModelCalls_ReachTheOtlpCollector_WithoutPromptText()
    {
        var user = await _client.RegisterAsync();
        var directPrompt = "direct-secret-" + Guid.NewGuid().ToString("N");
        var nodePrompt = "node-secret-" + Guid.NewGuid().ToString("N");

        var chat = await _client.ApiPostAsync("/v1/chat/completions",
            new { model = Model, messages = new[] { new { role = "user", content = directPrompt } } }, user.AccessToken);
        Assert.Equal(HttpStatusCode.OK, chat.Status);
        var workflow = await _client.CreateWorkflowAsync(user, Line(new { text = "{{ask.text}}" },
            Node("fetch", "http_request", new { url = _upstream.BaseUrl + "v1/models", method = "GET" }),
            Node("ask", "llm", new { model = Model, userPrompt = nodePrompt })));
        var run = await _client.RunAsync(user, workflow);
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        var runId = run["executionId"]!.GetValue<string>();

        // The run span is written as the run's end is committed, which the waiting request may see a moment earlier.
        var spans = await FlushUntilAsync(s => s.Any(x => x.Name == PlatformTelemetry.Spans.Run && x.Attribute(Attr.RunId) == runId));

        // Every app in this test process reports to the collector while it listens: the model name singles ours out.
        var direct = Assert.Single(spans, s => s.Name == $"chat {Model}" && spans.Any(p => p.SpanId == s.ParentSpanId && p.Kind == OtlpSpan.ServerKind));
        var server = spans.First(s => s.SpanId == direct.ParentSpanId);
        Assert.Equal("/v1/chat/completions", server.Attribute("url.path"));
        Assert.Equal("/v1/chat/completions", server.Attribute("http.route"));
        Assert.Equal("200", server.Attribute("http.response.status_code"));
        Assert.Equal(server.TraceId, direct.TraceId);
        Assert.Equal(OtlpSpan.ClientKind, direct.Kind);
        Assert.Equal("chat", direct.Attribute(Attr.GenAiOperation));
        Assert.Equal(Model, direct.Attribute(Attr.GenAiRequestModel));
        Assert.Equal(UpstreamModel, direct.Attribute(Attr.GenAiResponseModel));
        Assert.Equal("openai-compatible", direct.Attribute(Attr.GenAiProvider));
        Assert.Equal("10", direct.Attribute(Attr.GenAiInputTokens));
        Assert.Equal("5", direct.Attribute(Attr.GenAiOutputTokens));

        var runSpan = Assert.Single(spans, s => s.Name == PlatformTelemetry.Spans.Run && s.Attribute(Attr.RunId) == runId);
        Assert.Equal("succeeded", runSpan.Attribute(Attr.RunStatus));
        Assert.Equal(workflow, runSpan.Attribute(Attr.WorkflowId));
        var nodes = spans.Where(s => s.Name == PlatformTelemetry.Spans.Node && s.Attribute(Attr.RunId) == runId).ToList();
        Assert.All(nodes, n => Assert.Equal(runSpan.SpanId, n.ParentSpanId));
        Assert.Equal(new[] { "end", "http_request", "llm", "start" }, nodes.Select(n => n.Attribute(Attr.NodeType)).Order().ToArray());
        Assert.Equal("fetch", Assert.Single(nodes, n => n.Attribute(Attr.NodeType) == "http_request").Attribute(Attr.NodeId));

        // Nodes with effects run live in the run's trace; their own calls nest under their attempt.
        var fetch = Assert.Single(spans, s => s.Name == PlatformTelemetry.Spans.NodeAttempt && s.Attribute(Attr.RunId) == runId && s.Attribute(Attr.NodeId) == "fetch");
        var ask = Assert.Single(spans, s => s.Name == PlatformTelemetry.Spans.NodeAttempt && s.Attribute(Attr.RunId) == runId && s.Attribute(Attr.NodeId) == "ask");
        Assert.Equal(runSpan.TraceId, fetch.TraceId);
        Assert.Equal(runSpan.ParentSpanId, fetch.ParentSpanId);
        Assert.Equal("llm", ask.Attribute(Attr.NodeType));
        var outgoing = Assert.Single(spans, s => s.ParentSpanId == fetch.SpanId && s.Kind == OtlpSpan.ClientKind);
        Assert.EndsWith("/v1/models", outgoing.Attribute("url.full"), StringComparison.Ordinal);
        var nodeCall = Assert.Single(spans, s => s.ParentSpanId == ask.SpanId && s.Name == $"chat {Model}");
        Assert.Equal(runSpan.TraceId, nodeCall.TraceId);
        Assert.Equal("10", nodeCall.Attribute(Attr.GenAiInputTokens));
        Assert.Equal("5", nodeCall.Attribute(Attr.GenAiOutputTokens));

        Assert.False(_receiver.TracesContain(directPrompt), "A span carries the prompt of the direct call.");
        Assert.False(_receiver.TracesContain(nodePrompt), "A span carries the llm node's prompt.");
    }

    [Fact]
    public async Task Export_Metrics_NameRunsNodesModelsQueuesAndHttp()
    {
        var user = await _client.RegisterAsync();
        var workflow = await _client.CreateWorkflowAsync(user, Line(new { text = "{{ask.text}}" }, Node("ask", "llm", new { model = Model, userPrompt = "hi" })));
        Assert.Equal("succeeded", (await _client.RunAsync(user, workflow))["status"]!.GetValue<string>());

        var meters = _factory.Services.GetRequiredService<MeterProvider>();
        string[] expected =
        [
            PlatformTelemetry.Metrics.RunsStarted, PlatformTelemetry.Metrics.RunsFinished, PlatformTelemetry.Metrics.RunDuration,
            PlatformTelemetry.Metrics.NodeDuration, PlatformTelemetry.Metrics.ModelTokens, PlatformTelemetry.Metrics.ModelCost,
            PlatformTelemetry.Metrics.QueueBacklog, "http.server.request.duration", "http.client.request.duration",
        ];
        for (var i = 0; i < 100 && !expected.All(_receiver.MetricNames().Contains); i++)
        {
            Assert.True(meters.ForceFlush(5_000), "The metrics did not flush.");
        }

        Assert.Subset(_receiver.MetricNames().ToHashSet(), expected.ToHashSet());
    }

    /// <summary>Flushes the app's spans to the collector until <paramref name="done"/> holds for what arrived (bounded).</summary>
    private async Task<IReadOnlyList<OtlpSpan>> FlushUntilAsync(Func<IReadOnlyList<OtlpSpan>, bool> done)
    {
        var tracer = _factory.Services.GetRequiredService<TracerProvider>();
        for (var i = 0; i < 100; i++)
        {
            Assert.True(tracer.ForceFlush(5_000), "The spans did not flush.");
            var spans = _receiver.Spans();
            if (done(spans))
            {
                return spans;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("The expected spans never reached the collector.");
    }
}
