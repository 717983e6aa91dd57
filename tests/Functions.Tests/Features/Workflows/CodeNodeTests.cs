using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Workflows;

/// <summary>The <c>code</c> node through the API: create a workflow with one, run it, read the execution.</summary>
public sealed class CodeNodeTests(WorkflowFactory factory) : WorkflowTestBase(factory), IClassFixture<WorkflowFactory>
{
    private static JsonObject Code(string id, string code, object? limits = null, object? retry = null, string? onError = null)
    {
        var config = new JsonObject { ["language"] = "javascript", ["code"] = code };
        if (limits is not null)
        {
            config["limits"] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(limits));
        }

        if (retry is not null)
        {
            config["retry"] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(retry));
        }

        if (onError is not null)
        {
            config["onError"] = onError;
        }

        return new JsonObject { ["id"] = id, ["type"] = "code", ["config"] = config };
    }

    /// <summary>Runs start → the node → end and returns the finished execution as the API shows it.</summary>
    private async Task<JsonNode> RunCodeAsync(JsonObject node, object? inputs = null)
    {
        var workflow = await Client.CreateWorkflowAsync(User, Line(new { result = "{{c}}" }, node));
        var run = await Client.RunAsync(User, workflow, inputs);
        return await Client.WaitForAsync(User, run["executionId"]!.GetValue<string>());
    }

    private static JsonNode FailedNode(JsonNode run, string nodeId = "c")
    {
        Assert.Equal("failed", run["status"]!.GetValue<string>());
        var node = NodeOf(run, nodeId);
        Assert.Equal("failed", node["status"]!.GetValue<string>());
        return node;
    }

    [Fact]
    public async Task Code_ReadsInputsAndEarlierNodes_AndItsReturnIsTheOutput()
    {
        var definition = Line(new { doubled = "{{c.doubled}}", seen = "{{c.seen}}", upstream = "{{c.upstream}}", next = "{{p.result}}", literal = "{{c.literal}}" },
            Node("s", "set", new { values = new { x = 5, name = "{{inputs.name}}" } }),
            Code("c", """
                const total = inputs.items.reduce((sum, item) => sum + item.price, 0);
                return { doubled: inputs.n * 2, seen: nodes.s.x + total, upstream: Object.keys(nodes).sort(), literal: '{{inputs.n}}' };
                """),
            Code("p", "return nodes.c.doubled + 1;"));

        var run = await Client.RunAsync(User, await Client.CreateWorkflowAsync(User, definition),
            new { n = 21, name = "Ada", items = new[] { new { price = 1.5 }, new { price = 2.5 } } });

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        var outputs = run["outputs"]!;
        Assert.Equal(42, outputs["doubled"]!.GetValue<int>());
        Assert.Equal(9, outputs["seen"]!.GetValue<int>());
        Assert.Equal(["s", "start"], outputs["upstream"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(43, outputs["next"]!.GetValue<int>()); // a number is output as {result: value}
        Assert.Equal("{{inputs.n}}", outputs["literal"]!.GetValue<string>()); // the code is taken as written, never interpolated
    }

    [Fact]
    public async Task Code_OnlyUpstreamNodesAreVisible_NotParallelBranches()
    {
        var definition = Definition(
            [Node("start", "start"), Node("side", "set", new { values = new { v = 1 } }), Node("main", "set", new { values = new { v = 2 } }),
             Code("c", "return { main: nodes.main.v, side: typeof nodes.side };"), Node("end", "end", new { outputs = new { c = "{{c}}" } })],
            [Edge("start", "side"), Edge("start", "main"), Edge("main", "c"), Edge("c", "end"), Edge("side", "end")]);

        var run = await Client.RunAsync(User, await Client.CreateWorkflowAsync(User, definition));

        Assert.Equal(2, run["outputs"]!["c"]!["main"]!.GetValue<int>());
        Assert.Equal("undefined", run["outputs"]!["c"]!["side"]!.GetValue<string>());
    }

    [Fact]
    public async Task Code_SyntaxError_IsRejectedWhenTheWorkflowIsSaved_NamingTheNodeLineAndColumn()
    {
        var definition = Line(new { }, Code("calc", "const a = 1;\nreturn { a: };"));

        var created = await Client.ApiPostAsync("/api/v1/workflows", new JsonObject { ["name"] = "bad", ["definition"] = definition }.ToJsonString(), User.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, created.Status);
        var detail = created.Body!["error"]!["details"]!.AsArray().Single()!;
        Assert.Equal("definition.nodes[1].config", detail["field"]!.GetValue<string>());
        var message = detail["message"]!.GetValue<string>();
        Assert.StartsWith("Node calc: config.code: SyntaxError", message);
        Assert.Contains("(line 2, column 13)", message);
    }

    [Fact]
    public async Task Code_LimitsAboveTheSettingsOrUnknown_AreRejectedWhenSaved()
    {
        var definition = Line(new { }, Code("c", "return 1;", limits: new { timeoutMilliseconds = 10_000_000, memory = 5 }));

        var created = await Client.ApiPostAsync("/api/v1/workflows", new JsonObject { ["name"] = "greedy", ["definition"] = definition }.ToJsonString(), User.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, created.Status);
        var messages = created.Body!["error"]!["details"]!.AsArray().Select(d => d!["message"]!.GetValue<string>()).ToList();
        Assert.Contains(messages, m => m.Contains("config.limits.timeoutMilliseconds may lower the platform's limit but not raise it: at most 5000", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("config.limits.memory is not a limit", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Code_RuntimeError_FailsTheNodeWithTheScriptsLineAndColumn()
    {
        var run = await RunCodeAsync(Code("c", "const a = null;\n\nreturn a.b;"));

        var error = FailedNode(run)["error"]!;
        Assert.Equal("CODE_ERROR", error["code"]!.GetValue<string>());
        Assert.Equal("TypeError: Cannot read properties of null (reading 'b') (line 3, column 10)", error["message"]!.GetValue<string>());
        Assert.Equal(3, error["details"]!["line"]!.GetValue<int>());
        Assert.Equal(10, error["details"]!["column"]!.GetValue<int>());
        Assert.False(error["retryable"]!.GetValue<bool>());
        Assert.Equal("CODE_ERROR", run["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Code_ThrownError_KeepsItsMessage()
    {
        var run = await RunCodeAsync(Code("c", "if (!inputs.id) {\n  throw new Error('id is required');\n}\nreturn {};"));

        Assert.Equal("Error: id is required (line 2, column 9)", FailedNode(run)["error"]!["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("while (true) {}", null, "CODE_STATEMENT_LIMIT")]
    [InlineData("for (;;) {}", 1_000, "CODE_STATEMENT_LIMIT")]
    [InlineData("let s = 'x';\nwhile (true) s += s;", null, "CODE_MEMORY_LIMIT")]
    [InlineData("const a = [];\nwhile (true) a.push({ n: a.length, tag: 'item' });", null, "CODE_MEMORY_LIMIT")]
    [InlineData("return ['a'.repeat(2 ** 23), 'b'.repeat(2 ** 23), 'c'.repeat(2 ** 23), 'd'.repeat(2 ** 23), 'e'.repeat(2 ** 23)].length;", null, "CODE_MEMORY_LIMIT")]
    [InlineData("return new Array(2 ** 30).fill(0).length;", null, "CODE_MEMORY_LIMIT")]
    [InlineData("function down(n) { return down(n + 1) + 1; }\nreturn down(0);", null, "CODE_RECURSION_LIMIT")]
    public async Task Code_HostileScript_FailsTheNodeInBoundedTime(string code, int? maxStatements, string expected)
    {
        var watch = Stopwatch.StartNew();

        var run = await RunCodeAsync(Code("c", code, limits: maxStatements is { } max ? new { maxStatements = max } : null));

        Assert.Equal(expected, FailedNode(run)["error"]!["code"]!.GetValue<string>());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Code_InfiniteLoop_StopsAtTheNodesTimeLimit_AsARetryableFailure()
    {
        var run = await RunCodeAsync(Code("c", "let i = 0;\nwhile (true) { i++; }", limits: new { timeoutMilliseconds = 100 }, retry: new { maxAttempts = 2, backoffSeconds = 0 }));

        var node = FailedNode(run);
        Assert.Equal("CODE_TIMEOUT", node["error"]!["code"]!.GetValue<string>());
        Assert.Contains("within 100 ms", node["error"]!["message"]!.GetValue<string>());
        Assert.Equal(2, node["attempts"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("return 'a'.repeat(2 ** 29 - 24).length;", "Invalid string length: repeat")]
    [InlineData("const s = 'a'.repeat(2 ** 20);\nreturn s.replaceAll('', s).length;", "Invalid string length: replaceAll")]
    public async Task Code_OneHugeStep_IsRefusedBeforeItAllocates(string code, string message)
    {
        var run = await RunCodeAsync(Code("c", code));

        var error = FailedNode(run)["error"]!;
        Assert.Equal("CODE_ERROR", error["code"]!.GetValue<string>());
        Assert.Contains(message, error["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("let o = {};\nfor (let i = 0; i < 100000; i++) o = { o };\nreturn JSON.stringify(o).length;")]
    [InlineData("let o = {};\nfor (let i = 0; i < 100000; i++) o = { o };\nreturn o;")]
    public async Task Code_DeepStructures_EndInAnErrorNotAStackOverflow(string code)
    {
        var run = await RunCodeAsync(Code("c", code));

        // Jint's stack guard turns the built-ins' deep recursion into a RangeError (or, on a busy machine, the time limit comes first).
        var error = FailedNode(run)["error"]!;
        Assert.True(error["message"]!.GetValue<string>().Contains("Maximum call stack size exceeded", StringComparison.Ordinal)
            || error["code"]!.GetValue<string>() == "CODE_TIMEOUT", error.ToJsonString());
        var after = await RunCodeAsync(Code("c", "return { alive: true };"));
        Assert.Equal("succeeded", after["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Code_HostileRuns_DoNotHoldUpOtherRuns()
    {
        var hostile = await Client.CreateWorkflowAsync(User, Line(new { }, Code("c", "const a = [];\nwhile (true) a.push('x' + a.length);")));
        var looping = await Client.CreateWorkflowAsync(User, Line(new { }, Code("c", "while (true) {}", limits: new { timeoutMilliseconds = 2_000 })));
        var normal = await Client.CreateWorkflowAsync(User, Line(new { sum = "{{c.sum}}" },
            Node("s", "set", new { values = new { n = "{{inputs.n}}" } }), Code("c", "return { sum: nodes.s.n + 1 };")));
        var watch = Stopwatch.StartNew();

        var started = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            started.Add(await Client.ExecuteAsync(User, hostile));
            started.Add(await Client.ExecuteAsync(User, looping));
        }

        var normalRuns = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => Client.RunAsync(User, normal, new { n = i })));
        foreach (var (run, i) in normalRuns.Select((r, i) => (r, i)))
        {
            Assert.Equal("succeeded", run["status"]!.GetValue<string>());
            Assert.Equal(i + 1, run["outputs"]!["sum"]!.GetValue<int>());
        }

        foreach (var id in started)
        {
            var run = await Client.WaitForAsync(User, id, seconds: 30);
            Assert.Contains(FailedNode(run)["error"]!["code"]!.GetValue<string>(), new[] { "CODE_MEMORY_LIMIT", "CODE_STATEMENT_LIMIT", "CODE_TIMEOUT" });
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Code_SeesNoHostObjects()
    {
        var names = new[]
        {
            "require", "process", "fetch", "System", "importNamespace", "clr", "host", "setTimeout", "setInterval", "XMLHttpRequest",
            "WebSocket", "console", "Buffer", "module", "exports", "WebAssembly", "ArrayBuffer", "SharedArrayBuffer", "Atomics", "Uint8Array",
        };
        var run = await RunCodeAsync(Code("c", $$"""
            const names = {{System.Text.Json.JsonSerializer.Serialize(names)}};
            const found = names.filter(n => typeof globalThis[n] !== 'undefined');
            let evalError = null;
            try { eval('1 + 1'); } catch (e) { evalError = e.name; }
            let functionError = null;
            try { new Function('return this')(); } catch (e) { functionError = e.name; }
            return { found, evalError, functionError, self: typeof this };
            """));

        var output = NodeOf(run, "c")["output"]!;
        Assert.Empty(output["found"]!.AsArray());
        Assert.Equal("TypeError", output["evalError"]!.GetValue<string>());
        Assert.Equal("TypeError", output["functionError"]!.GetValue<string>());
        Assert.Equal("undefined", output["self"]!.GetValue<string>());
    }

    [Fact]
    public async Task Code_ClrNamespaces_AreNotReachable()
    {
        var run = await RunCodeAsync(Code("c", "return System.IO.File.ReadAllText('/etc/passwd');"));

        Assert.StartsWith("ReferenceError: System is not defined", FailedNode(run)["error"]!["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("return () => 1;", "returned a function")]
    [InlineData("inputs.n * 2;", "returned nothing (undefined)")]
    [InlineData("return;", "returned nothing (undefined)")]
    [InlineData("const o = { name: 'loop' };\no.self = o;\nreturn o;", "contains a cycle")]
    [InlineData("return { total: 1, format() { return 'x'; } };", "holds a function at key 'format'")]
    [InlineData("return 10n;", "returned a BigInt")]
    [InlineData("return Promise.resolve(1);", "returned a Promise")]
    public async Task Code_NonJsonReturn_FailsClearly(string code, string message)
    {
        var run = await RunCodeAsync(Code("c", code), new { n = 1 });

        var error = FailedNode(run)["error"]!;
        Assert.Equal("CODE_INVALID_OUTPUT", error["code"]!.GetValue<string>());
        Assert.Contains(message, error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Code_UndefinedInsideTheOutput_FollowsJsonStringify()
    {
        var run = await RunCodeAsync(Code("c", "return { kept: 1, dropped: undefined, list: [undefined, 2] };"));

        Assert.Equal("""{"kept":1,"list":[null,2]}""", NodeOf(run, "c")["output"]!.ToJsonString());
    }

    [Fact]
    public async Task Code_OutputLargerThanTheLimit_Fails()
    {
        var run = await RunCodeAsync(Code("c", "return { text: 'x'.repeat(2000) };", limits: new { maxOutputBytes = 1000 }));

        var error = FailedNode(run)["error"]!;
        Assert.Equal("CODE_OUTPUT_TOO_LARGE", error["code"]!.GetValue<string>());
        Assert.Contains("at most 1000", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Code_ScriptError_IsNotRetried_AndTakesTheErrorBranch()
    {
        var definition = Definition(
            [Node("start", "start"),
             Code("c", "throw new RangeError('out of range');", retry: new { maxAttempts = 3, backoffSeconds = 0 }, onError: "branch"),
             Node("ok", "set", new { values = new { path = "ok" } }),
             Node("handled", "set", new { values = new { path = "error", code = "{{c.error.code}}", line = "{{c.error.details.line}}" } }),
             Node("end", "end", new { outputs = new { handled = "{{handled}}", ok = "{{ok}}" } })],
            [Edge("start", "c"), Edge("c", "ok"), Edge("c", "handled", "error"), Edge("ok", "end"), Edge("handled", "end")]);

        var result = await Client.RunAsync(User, await Client.CreateWorkflowAsync(User, definition));
        var run = await Client.GetExecutionAsync(User, result["executionId"]!.GetValue<string>());

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(1, NodeOf(run, "c")["attempts"]!.GetValue<int>());
        Assert.Equal("CODE_ERROR", run["outputs"]!["handled"]!["code"]!.GetValue<string>());
        Assert.Equal(1, run["outputs"]!["handled"]!["line"]!.GetValue<int>());
        Assert.Equal("skipped", NodeOf(run, "ok")["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Code_OnErrorDefault_UsesTheDefaultOutput()
    {
        var node = Code("c", "return inputs.missing.field;", onError: "default");
        node["config"]!["defaultOutput"] = new JsonObject { ["field"] = "fallback" };

        var run = await Client.RunAsync(User, await Client.CreateWorkflowAsync(User, Line(new { field = "{{c.field}}" }, node)));

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal("fallback", run["outputs"]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Blocks_PublishTheCodeNode_WithItsLimits()
    {
        var blocks = await Client.ApiGetAsync("/api/v1/blocks", User.AccessToken);

        var code = blocks.Data.AsArray().Single(b => b!["type"]!.GetValue<string>() == "code")!;
        Assert.False(code["instant"]!.GetValue<bool>());
        Assert.Equal("code", code["configSchema"]!["required"]![0]!.GetValue<string>());
        Assert.Equal(5000, code["configSchema"]!["properties"]!["limits"]!["properties"]!["timeoutMilliseconds"]!["maximum"]!.GetValue<int>());
        Assert.Contains("{result: v}", code["description"]!.GetValue<string>());
    }
}
