using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Models;

/// <summary>The gateway fixture with the trigger host on, so workflow runs execute their LLM nodes against the fakes.</summary>
public sealed class LlmWorkflowFixture : GatewayFixture
{
    protected override IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Triggers:Enabled"] = "true",
        ["Workflows:HeartbeatSeconds"] = "1",
    };
}

public sealed class WorkflowNodeTests(LlmWorkflowFixture fixture) : IClassFixture<LlmWorkflowFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<(TestUser User, JsonNode Run)> RunAsync(JsonObject definition, object? inputs = null)
    {
        var user = await _client.RegisterAsync();
        var run = await _client.RunAsync(user, await _client.CreateWorkflowAsync(user, definition), inputs);
        return (user, run);
    }

    private static JsonObject Classifier(string id = "route") => Node(id, "question_classifier", new
    {
        model = "gpt-test",
        question = "{{inputs.question}}",
        classes = new[] { new { id = "billing", description = "invoices and payments" }, new { id = "tech", description = "bugs and errors" } },
    });

    private static JsonObject Routed(string branchOf) => Definition(
        [
            Node("start", "start"),
            Classifier(),
            Node("billing", "set", new { values = new { branch = "billing" } }),
            Node("tech", "set", new { values = new { branch = "tech" } }),
            Node("join", "merge"),
            Node("end", "end", new { outputs = new { branch = "{{join.merged.branch}}", classId = $"{{{{{branchOf}.classId}}}}" } }),
        ],
        [Edge("start", "route"), Edge("route", "billing", "billing"), Edge("route", "tech", "tech"), Edge("billing", "join"), Edge("tech", "join"), Edge("join", "end")]);

    [Fact]
    public async Task Llm_ReturnsTheModelsText_ParsesJsonMode_AndTheRunsTokenUsageSumsTheNodes()
    {
        fixture.Primary.EnqueueReply("Hello Ada");
        fixture.Primary.EnqueueReply("{\"n\":2}");

        var (_, run) = await RunAsync(Line(new { text = "{{a.text}}", n = "{{b.json.n}}", model = "{{a.model}}", total = "{{a.usage.totalTokens}}" },
            Node("a", "llm", new { model = "gpt-test", systemPrompt = "Be brief.", userPrompt = "Greet {{inputs.name}}", temperature = 0.3, maxTokens = 50 }),
            Node("b", "llm", new { model = "gpt-test", userPrompt = "Give n as JSON", jsonMode = true })),
            new { name = "Ada" });

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal("Hello Ada", run["outputs"]!["text"]!.GetValue<string>());
        Assert.Equal(2, run["outputs"]!["n"]!.GetValue<int>());
        Assert.Equal("gpt-test", run["outputs"]!["model"]!.GetValue<string>());
        Assert.Equal(15, run["outputs"]!["total"]!.GetValue<int>());
        Assert.Equal(20, run["tokenUsage"]!["promptTokens"]!.GetValue<long>());
        Assert.Equal(10, run["tokenUsage"]!["completionTokens"]!.GetValue<long>());
        Assert.Equal(30, run["tokenUsage"]!["totalTokens"]!.GetValue<long>());
        Assert.Equal(20, run["tokenUsage"]!["prompt"]!.GetValue<long>());
        Assert.Equal(10, run["tokenUsage"]!["completion"]!.GetValue<long>());
        Assert.Equal(30, run["tokenUsage"]!["total"]!.GetValue<long>());
        var sent = fixture.Primary.Received.Where(r => r.Path == "/v1/chat/completions").TakeLast(2).Select(r => r.Body!).ToList();
        Assert.Equal("system", sent[0]["messages"]![0]!["role"]!.GetValue<string>());
        Assert.Equal("Greet Ada", sent[0]["messages"]![1]!["content"]!.GetValue<string>());
        Assert.Equal(0.3, sent[0]["temperature"]!.GetValue<double>());
        Assert.Equal(50, sent[0]["max_tokens"]!.GetValue<int>());
        Assert.Null(sent[0]["response_format"]);
        Assert.Equal("json_object", sent[1]["response_format"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Llm_UpstreamFailingEveryTry_FailsTheNodeWithAiServiceError()
    {
        using (fixture.FailEveryUpstream())
        {
            var (user, run) = await RunAsync(Line(new { text = "{{a.text}}" }, Node("a", "llm", new { model = "gpt-test", userPrompt = "hi" })));

            Assert.Equal("failed", run["status"]!.GetValue<string>());
            Assert.Equal("AI_SERVICE_ERROR", run["error"]!["code"]!.GetValue<string>());
            var node = NodeOf(await _client.GetExecutionAsync(user, run["executionId"]!.GetValue<string>()), "a");
            Assert.Equal("AI_SERVICE_ERROR", node["error"]!["code"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task QuestionClassifier_TakesTheBranchOfTheClassId_RetryingOnceOnAnUnknownId()
    {
        fixture.Primary.EnqueueReply("{\"classId\":\"weather\"}");
        fixture.Primary.EnqueueReply("{\"classId\":\"tech\",\"reason\":\"mentions an error\"}");

        var (user, run) = await RunAsync(Routed("route"), new { question = "The app shows error 500" });

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal("tech", run["outputs"]!["branch"]!.GetValue<string>());
        Assert.Equal("tech", run["outputs"]!["classId"]!.GetValue<string>());
        var detail = await _client.GetExecutionAsync(user, run["executionId"]!.GetValue<string>());
        Assert.Equal("skipped", NodeOf(detail, "billing")["status"]!.GetValue<string>());
        Assert.Equal("mentions an error", NodeOf(detail, "route")["output"]!["reason"]!.GetValue<string>());
        var sent = fixture.Primary.Received.Where(r => r.Path == "/v1/chat/completions").TakeLast(2).Select(r => r.Body!).ToList();
        Assert.All(sent, body => Assert.Equal("json_object", body["response_format"]!["type"]!.GetValue<string>()));
        Assert.Contains("billing", sent[0]["messages"]![0]!["content"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task QuestionClassifier_TwoAnswersThatAreNoClass_FailWithClassificationFailed()
    {
        fixture.Primary.EnqueueReply("{\"classId\":\"weather\"}");
        fixture.Primary.EnqueueReply("no idea");

        var (_, run) = await RunAsync(Routed("route"), new { question = "?" });

        Assert.Equal("failed", run["status"]!.GetValue<string>());
        Assert.Equal("CLASSIFICATION_FAILED", run["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task QuestionClassifier_EdgesMustNameItsClassIds()
    {
        var user = await _client.RegisterAsync();
        var definition = Definition(
            [Node("start", "start"), Classifier(), Node("end", "end")],
            [Edge("start", "route"), Edge("route", "end", "weather")]);

        var created = await _client.ApiPostAsync("/api/v1/workflows", new JsonObject { ["name"] = "bad", ["definition"] = definition }.ToJsonString(), user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, created.Status);
        Assert.Contains("billing or tech", created.Body!.ToJsonString(), StringComparison.Ordinal);
    }

    private static JsonObject Extraction() => Line(new { person = "{{x}}" },
        Node("x", "parameter_extractor", new
        {
            model = "gpt-test",
            text = "{{inputs.text}}",
            schema = new
            {
                type = "object",
                properties = new { name = new { type = "string" }, age = new { type = "integer" }, vip = new { type = "boolean" }, tags = new { type = "array" } },
                required = new[] { "name", "age" },
            },
        }));

    [Fact]
    public async Task ParameterExtractor_OutputsTheTypedObject()
    {
        fixture.Primary.EnqueueReply("{\"name\":\"Ada\",\"age\":36,\"vip\":true,\"tags\":[\"math\"]}");

        var (_, run) = await RunAsync(Extraction(), new { text = "Ada, 36, a VIP who likes math" });

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        var person = run["outputs"]!["person"]!;
        Assert.Equal("Ada", person["name"]!.GetValue<string>());
        Assert.Equal(36, person["age"]!.GetValue<int>());
        Assert.True(person["vip"]!.GetValue<bool>());
        Assert.Equal("math", person["tags"]![0]!.GetValue<string>());
        var sent = fixture.Primary.Received.Last(r => r.Path == "/v1/chat/completions").Body!;
        Assert.Equal("json_object", sent["response_format"]!["type"]!.GetValue<string>());
        Assert.Equal("Ada, 36, a VIP who likes math", sent["messages"]![1]!["content"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("not json at all", "not a JSON object")]
    [InlineData("{\"name\":\"Ada\",\"age\":\"old\"}", "age must be of type integer")]
    [InlineData("{\"age\":36.5}", "name is required")]
    public async Task ParameterExtractor_AnAnswerThatDoesNotFitTheSchema_FailsTheRun(string answer, string expected)
    {
        fixture.Primary.EnqueueReply(answer);

        var (user, run) = await RunAsync(Extraction(), new { text = "someone" });

        Assert.Equal("failed", run["status"]!.GetValue<string>());
        Assert.Equal("EXTRACTION_INVALID", run["error"]!["code"]!.GetValue<string>());
        var node = NodeOf(await _client.GetExecutionAsync(user, run["executionId"]!.GetValue<string>()), "x");
        Assert.Contains(expected, node["error"]!.ToJsonString(), StringComparison.Ordinal);
    }
}
