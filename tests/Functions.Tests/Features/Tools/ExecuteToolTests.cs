using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Features.Plugins;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Tools;

/// <summary>POST /api/v1/tools/execute and AutoGPT's external POST /v1/tools/execute: a block or a plugin run alone, as the caller.</summary>
public sealed class ExecuteToolTests(ToolFactory factory) : WorkflowTestBase(factory), IClassFixture<ToolFactory>
{
    private Task<ApiResponse> ToolAsync(string tool, object input, string? token = null, IDictionary<string, string>? headers = null, string path = "/api/v1/tools/execute") =>
        Client.ApiPostAsync(path, new JsonObject { ["tool"] = tool, ["input"] = Manifests.Node(input) }, token, headers);

    [Fact]
    public async Task Execute_TemplateBlock_ResolvesInputsReferencesAgainstItsOwnInput()
    {
        var ran = await ToolAsync("template", new { template = "Hi {{inputs.name}}", name = "Ada" }, User.AccessToken);

        Assert.True(ran.Status == HttpStatusCode.OK, ran.Body?.ToJsonString());
        Assert.Equal("template", ran.Data["tool"]!.GetValue<string>());
        Assert.Equal("block", ran.Data["kind"]!.GetValue<string>());
        Assert.Equal("succeeded", ran.Data["status"]!.GetValue<string>());
        Assert.Equal("Hi Ada", ran.Data["output"]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Execute_HttpRequestBlock_WithAnApiKey_CallsTheUpstream_AndAFailingUpstreamIs502()
    {
        var key = await Client.CreateKeyAsync(User, ["workflows:execute"]);

        var ran = await ToolAsync("block:http_request", new { url = Upstream.BaseUrl + "/echo" }, headers: Users.ApiKey(key));
        var failed = await ToolAsync("http_request", new { url = Upstream.BaseUrl + "/status/500" }, headers: Users.ApiKey(key));

        Assert.True(ran.Status == HttpStatusCode.OK, ran.Body?.ToJsonString());
        Assert.Equal(200, ran.Data["output"]!["status"]!.GetValue<int>());
        Assert.Equal("GET", ran.Data["output"]!["body"]!["method"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadGateway, failed.Status);
    }

    [Fact]
    public async Task Execute_ExternalPath_RunsABuiltinPlugin_AndAnswersBare()
    {
        var key = await Client.CreateKeyAsync(User, ["plugins:execute"]);

        var ran = await ToolAsync("calculator", new { expression = "2+3" }, headers: Users.ApiKey(key), path: "/v1/tools/execute");

        Assert.True(ran.Status == HttpStatusCode.OK, ran.Body?.ToJsonString());
        Assert.Null(ran.Body!["success"]);
        Assert.Equal("plugin", ran.Body!["kind"]!.GetValue<string>());
        Assert.Equal(5, ran.Body!["output"]!["result"]!.GetValue<double>());
        Assert.StartsWith("pex_", ran.Body!["executionId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Execute_WithAKeyLackingTheScopes_Is403()
    {
        var readOnly = await Client.CreateKeyAsync(User, ["workflows:read", "plugins:read"]);
        var noModels = await Client.CreateKeyAsync(User, ["workflows:execute"]);

        var block = await ToolAsync("template", new { template = "x" }, headers: Users.ApiKey(readOnly));
        var plugin = await ToolAsync("calculator", new { expression = "1" }, headers: Users.ApiKey(readOnly), path: "/v1/tools/execute");
        var model = await ToolAsync("llm", new { model = "any", userPrompt = "hi" }, headers: Users.ApiKey(noModels));

        Assert.Equal(HttpStatusCode.Forbidden, block.Status);
        Assert.Equal(HttpStatusCode.Forbidden, plugin.Status);
        Assert.Equal(HttpStatusCode.Forbidden, model.Status);
        Assert.Contains("models:use", model.Body!["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Execute_AnotherWorkspacesPlugin_Is404()
    {
        await Client.InstallAsync(User, Manifests.Http("owner-only", Upstream.BaseUrl + "/echo"));
        var stranger = await Client.RegisterAsync();

        var ran = await ToolAsync("owner-only", new { text = "x" }, stranger.AccessToken);
        var prefixed = await ToolAsync("plugin:owner-only", new { text = "x" }, stranger.AccessToken);

        Assert.Equal(HttpStatusCode.NotFound, ran.Status);
        Assert.Equal(HttpStatusCode.NotFound, prefixed.Status);
    }

    [Theory]
    [InlineData("start")]
    [InlineData("end")]
    [InlineData("merge")]
    [InlineData("delay")]
    [InlineData("human_review")]
    [InlineData("sub_workflow")]
    [InlineData("loop")]
    public async Task Execute_AWaitingOrStructuralBlock_Is422(string block)
    {
        var ran = await ToolAsync(block, new { }, User.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, ran.Status);
        Assert.Equal("VALIDATION_ERROR", ran.ErrorCode);
    }

    [Fact]
    public async Task Execute_InvalidConfig_UnknownTool_AndForeignReferences_AreRefused()
    {
        var missing = await ToolAsync("template", new { }, User.AccessToken);
        var foreign = await ToolAsync("template", new { template = "{{other.text}}" }, User.AccessToken);
        var unknown = await ToolAsync("no-such-tool", new { }, User.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, missing.Status);
        Assert.Contains(missing.Body!["error"]!["details"]!.AsArray(), d => d!["field"]!.GetValue<string>() == "input.template");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, foreign.Status);
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
    }
}
