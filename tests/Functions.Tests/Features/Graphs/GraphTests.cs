using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Graphs;

/// <summary>AutoGPT's graph shape over workflows: /api/v1/graphs, the external /v1/graphs, and lossless conversion both ways.</summary>
public sealed class GraphTests(WorkflowFactory factory) : WorkflowTestBase(factory), IClassFixture<WorkflowFactory>
{
    private const string PinNode = "5f0c2a4e-8d7b-4c1e-9a3f-2b6d8e1f4a70";

    /// <summary>start → check (condition) → true: greet (template), false: a set node with a UUID id → end; pins, positions, link ids and extras.</summary>
    private static JsonObject AutoGptGraph(string name = "autogpt graph") => (JsonObject)JsonNode.Parse("""
        {"name": "NAME", "description": "from AutoGPT", "is_active": true,
         "nodes": [
           {"id": "start", "block_id": "start", "input_default": {}, "metadata": {"position": {"x": 0, "y": 0}}},
           {"id": "check", "block_id": "condition", "input_default": {"conditions": [{"left": "{{inputs.name}}", "operator": "not_empty"}]},
            "metadata": {"name": "Has a name?", "position": {"x": 100, "y": 0}, "customized_name": "check"}},
           {"id": "greet", "block_id": "template", "input_default": {"template": "Hi {{inputs.name}}"}, "metadata": {}},
           {"id": "PIN", "block_id": "set", "input_default": {"values": {"text": "nobody"}}, "metadata": {"name": "Fallback"}},
           {"id": "end", "block_id": "end", "input_default": {"outputs": {"text": "{{greet.text}}"}}, "metadata": {"position": {"x": 300, "y": 0}}}
         ],
         "links": [
           {"id": "l1", "source_id": "start", "sink_id": "check", "source_name": "default", "sink_name": "input", "is_static": false},
           {"id": "l2", "source_id": "check", "sink_id": "greet", "source_name": "true", "sink_name": "input"},
           {"source_id": "check", "sink_id": "PIN", "source_name": "false", "sink_name": "values"},
           {"source_id": "greet", "sink_id": "end", "source_name": "text", "sink_name": "outputs"},
           {"source_id": "PIN", "sink_id": "end", "source_name": "output", "sink_name": "outputs"}
         ]}
        """.Replace("\"NAME\"", $"\"{name}\"", StringComparison.Ordinal).Replace("PIN", PinNode, StringComparison.Ordinal))!.AsObject();

    [Fact]
    public async Task AutoGptGraph_ImportedThenExported_IsTheSame()
    {
        var original = AutoGptGraph();

        var created = await Client.ApiPostAsync("/api/v1/graphs", new JsonObject { ["graph"] = original.DeepClone() }, User.AccessToken);
        Assert.True(created.Status == HttpStatusCode.Created, created.Body?.ToJsonString());
        var read = await Client.ApiGetAsync($"/api/v1/graphs/{created.Data["id"]!.GetValue<string>()}", User.AccessToken);

        Assert.Equal(HttpStatusCode.OK, read.Status);
        Assert.Equal(1, read.Data["version"]!.GetValue<int>());
        Assert.True(read.Data["is_active"]!.GetValue<bool>());
        Assert.True(JsonNode.DeepEquals(Normalized(original["nodes"]), Normalized(read.Data["nodes"])), read.Data["nodes"]!.ToJsonString());
        Assert.True(JsonNode.DeepEquals(Normalized(original["links"]), Normalized(read.Data["links"])), read.Data["links"]!.ToJsonString());
    }

    [Fact]
    public async Task OurDefinition_ExportedThenImported_IsTheSame()
    {
        var definition = Line(new { text = "{{greet.text}}" }, Node("greet", "template", new { template = "Hi {{inputs.name}}" }));
        foreach (var node in definition["nodes"]!.AsArray())
        {
            node!["config"] ??= new JsonObject();
            node["metadata"] = new JsonObject { ["position"] = new JsonObject { ["x"] = 1, ["y"] = 2 } };
        }

        definition["nodes"]![1]!["name"] = "Greeting";
        definition["edges"]![0]!["targetHandle"] = "input";
        definition["edges"]![1]!["metadata"] = new JsonObject { ["color"] = "red" };
        definition["timeoutSeconds"] = 60;
        var workflow = await Client.CreateWorkflowAsync(User, definition);

        var exported = (await Client.ApiGetAsync($"/api/v1/graphs/{workflow}", User.AccessToken)).Data;
        var imported = await Client.ApiPostAsync("/api/v1/graphs", exported.DeepClone(), User.AccessToken);
        Assert.True(imported.Status == HttpStatusCode.Created, imported.Body?.ToJsonString());
        var back = await Client.ApiGetAsync($"/api/v1/workflows/{imported.Data["id"]!.GetValue<string>()}", User.AccessToken);

        Assert.True(JsonNode.DeepEquals(Normalized(definition), Normalized(back.Data["definition"])), back.Data["definition"]!.ToJsonString());
    }

    [Fact]
    public async Task ExternalApi_ListsGraphs_AndRunsOne_WithAnApiKey()
    {
        var created = await Client.ApiPostAsync("/api/v1/graphs", AutoGptGraph("runnable"), User.AccessToken);
        var id = created.Data["id"]!.GetValue<string>();
        var key = Users.ApiKey(await Client.CreateKeyAsync(User, ["workflows:read", "workflows:execute"]));

        var list = await Client.ApiGetAsync("/v1/graphs", headers: key);
        var started = await Client.ApiPostAsync($"/v1/graphs/{id}/execute", new { inputs = new { name = "Ada" } }, headers: key);
        var bare = await Client.ApiPostAsync($"/v1/graphs/{id}/execute", new { name = "Grace" }, headers: key);

        Assert.Equal(HttpStatusCode.OK, list.Status);
        var listed = Assert.Single(list.Body!.AsArray(), g => g!["id"]!.GetValue<string>() == id)!;
        Assert.Equal(5, listed["nodes"]!.AsArray().Count);
        Assert.True(started.Status == HttpStatusCode.OK, started.Body?.ToJsonString());
        Assert.Equal(started.Body!["id"]!.GetValue<string>(), started.Body!["graph_exec_id"]!.GetValue<string>());
        var run = await Client.WaitForAsync(User, started.Body!["graph_exec_id"]!.GetValue<string>());
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal("Hi Ada", run["outputs"]!["text"]!.GetValue<string>());
        var second = await Client.WaitForAsync(User, bare.Body!["graph_exec_id"]!.GetValue<string>());
        Assert.Equal("Hi Grace", second["outputs"]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task ExternalApi_AnotherWorkspacesGraph_Is404()
    {
        var created = await Client.ApiPostAsync("/api/v1/graphs", AutoGptGraph(), User.AccessToken);
        var stranger = await Client.RegisterAsync();
        var key = Users.ApiKey(await Client.CreateKeyAsync(stranger, ["workflows:read", "workflows:execute"]));

        var started = await Client.ApiPostAsync($"/v1/graphs/{created.Data["id"]!.GetValue<string>()}/execute", new { inputs = new { } }, headers: key);
        var list = await Client.ApiGetAsync("/v1/graphs", headers: key);

        Assert.Equal(HttpStatusCode.NotFound, started.Status);
        Assert.Empty(list.Body!.AsArray());
    }

    [Fact]
    public async Task UpdateGraph_NewLinks_MakeANewVersion()
    {
        var created = await Client.ApiPostAsync("/api/v1/graphs", AutoGptGraph(), User.AccessToken);
        var graph = created.Data.DeepClone().AsObject();
        graph["nodes"]![2]!["input_default"]!["template"] = "Hello {{inputs.name}}";

        var updated = await Client.ApiPutAsync($"/api/v1/graphs/{graph["id"]!.GetValue<string>()}", graph, User.AccessToken);

        Assert.True(updated.Status == HttpStatusCode.OK, updated.Body?.ToJsonString());
        Assert.Equal(2, updated.Data["version"]!.GetValue<int>());
        Assert.Equal("Hello {{inputs.name}}", updated.Data["nodes"]![2]!["input_default"]!["template"]!.GetValue<string>());
    }

    /// <summary>Null-valued properties dropped: absent and null mean the same in both shapes.</summary>
    private static JsonNode? Normalized(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Where(p => p.Value is not null).Select(p => KeyValuePair.Create(p.Key, Normalized(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Normalized)]),
        _ => node?.DeepClone(),
    };
}
