using System.Diagnostics;
using System.Net;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Hosting;
using Serverless.Functions.Platform.Durable;
using Serverless.Functions.Tests.Support;
using Serverless.Functions.Triggers;
using Serverless.Orchestrations.Runtime;
using Serverless.Testing;

namespace Serverless.Functions.Tests.Packaging;

/// <summary>
/// <c>dotnet publish Functions</c> makes the function app package: a standard .NET isolated-worker package the Functions
/// host (Flex Consumption, dotnet-isolated 10.0) runs as it is. The host itself cannot run here, so these tests check what
/// it reads (functions.metadata against the endpoint table and the trigger functions, worker.config.json, the extensions)
/// and start the package's entry point standalone, as `dotnet Functions.dll`.
/// </summary>
public sealed class PublishedAppTests(PublishedAppTests.Package package, PlatformFactory factory)
    : IClassFixture<PublishedAppTests.Package>, IClassFixture<PlatformFactory>
{
    [Fact]
    public void Publish_Output_IsAnIsolatedWorkerPackage()
    {
        var worker = JsonNode.Parse(File.ReadAllText(Path.Combine(package.Directory, "worker.config.json")))!["description"]!;
        var extensions = JsonNode.Parse(File.ReadAllText(Path.Combine(package.Directory, "extensions.json")))!["extensions"]!.AsArray();
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(package.Directory, "host.json")))!;

        Assert.Equal("dotnet-isolated", worker["language"]!.GetValue<string>());
        Assert.Equal("dotnet", worker["defaultExecutablePath"]!.GetValue<string>());
        Assert.True(File.Exists(Path.Combine(package.Directory, worker["defaultWorkerPath"]!.GetValue<string>())));
        Assert.Contains(extensions, e => e!["name"]!.GetValue<string>() == "AzureStorageQueues");
        Assert.All(extensions, e => Assert.True(File.Exists(Path.Combine(package.Directory, e!["hintPath"]!.GetValue<string>())), $"{e["hintPath"]} is missing."));
        Assert.Null(host["customHandler"]);
        Assert.Equal("", host["extensions"]!["http"]!["routePrefix"]!.GetValue<string>());
    }

    [Fact]
    public void Publish_Output_IsFrameworkDependentAndReadyToRun()
    {
        var runtimeConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(package.Directory, "Functions.runtimeconfig.json")))!["runtimeOptions"]!;

        // Flex Consumption's dotnet-isolated 10.0 runtime provides .NET and ASP.NET Core.
        Assert.Contains(runtimeConfig["frameworks"]!.AsArray(), f => f!["name"]!.GetValue<string>() == "Microsoft.AspNetCore.App");
        Assert.Null(runtimeConfig["includedFrameworks"]);
        using var pe = new PEReader(File.OpenRead(Path.Combine(package.Directory, "Functions.dll")));
        Assert.True(pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0, "Functions.dll is not ReadyToRun-compiled.");
    }

    [Fact]
    public void FunctionsMetadata_HasOneHttpFunctionPerEndpoint_EveryTimerAndQueueFunction_AndTheWorkflowRunFunctions()
    {
        var functions = JsonNode.Parse(File.ReadAllText(Path.Combine(package.Directory, "functions.metadata")))!.AsArray();
        var metadata = functions
            .ToDictionary(f => f!["name"]!.GetValue<string>(), f => f!["bindings"]!.AsArray().First(b => b!["type"]!.GetValue<string>().EndsWith("Trigger", StringComparison.Ordinal))!);
        var bindingTypes = functions
            .ToDictionary(f => f!["name"]!.GetValue<string>(), f => f!["bindings"]!.AsArray().Select(b => b!["type"]!.GetValue<string>()).ToList());
        var endpoints = HttpFunctionsGenerator.Functions(factory.Services.GetRequiredService<EndpointDataSource>().Endpoints);
        var http = metadata.Where(f => f.Value["type"]!.GetValue<string>() == "httpTrigger").ToDictionary();

        Assert.Equal(endpoints.Keys.Order(), http.Keys.Order());
        Assert.All(endpoints, endpoint =>
        {
            var binding = http[endpoint.Key];
            Assert.Equal(endpoint.Value.Route, binding["route"]!.GetValue<string>());
            Assert.Equal(endpoint.Value.Methods.Order(), binding["methods"]!.AsArray().Select(m => m!.GetValue<string>()).Order());
            Assert.Equal("Anonymous", binding["authLevel"]!.GetValue<string>());
            // Runs are started and signalled through the invocation's Durable Functions client.
            Assert.Contains("durableClient", bindingTypes[endpoint.Key]);
        });
        var triggers = factory.Services.GetRequiredService<TriggerCatalog>().All;
        Assert.All(triggers, function =>
        {
            var binding = metadata[function.Name];
            if (function.QueueName is { } queue)
            {
                Assert.Equal("queueTrigger", binding["type"]!.GetValue<string>());
                Assert.Equal(queue, binding["queueName"]!.GetValue<string>());
                Assert.Equal(TriggerFunctions.Connection, binding["connection"]!.GetValue<string>());
            }
            else
            {
                Assert.Equal("timerTrigger", binding["type"]!.GetValue<string>());
                Assert.Equal(function.Schedule, binding["schedule"]!.GetValue<string>());
                Assert.Equal(function.RunOnStartup, binding["runOnStartup"]?.GetValue<bool>() ?? false);
            }
        });
        // Workflow runs on Durable Functions: the orchestrator and its activities (EndRun signals parent runs, so it binds the client).
        Assert.Equal("orchestrationTrigger", metadata[RunTasks.Orchestrator]["type"]!.GetValue<string>());
        Assert.All(RunActivityTypes.All, activity => Assert.Equal("activityTrigger", metadata[activity.Name]["type"]!.GetValue<string>()));
        Assert.Equal(
            [RunTasks.AdmitRun, RunTasks.CreateChildRuns, RunTasks.EndRun, RunTasks.RunNode, RunTasks.SaveRun],
            RunActivityTypes.All.Select(a => a.Name).Order(StringComparer.Ordinal));
        Assert.Contains("durableClient", bindingTypes[RunTasks.EndRun]);
        Assert.Equal(endpoints.Count + triggers.Count + 1 + RunActivityTypes.All.Count, metadata.Count);
    }

    [Fact]
    public async Task PublishedApp_StartedDirectly_RunsStandalone()
    {
        await using var app = await package.StartAsync();
        using var client = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

        using var register = await client.PostAsync("/api/v1/auth/register", Json("""{"email":"host@example.com","password":"Hosted9func","name":"Host"}"""));

        Assert.Equal(HttpStatusCode.Created, register.StatusCode);
        await app.WaitForOutputAsync("Run mode: standalone");
        // The standalone trigger host delivers the confirmation mail queued by the registration.
        await app.WaitForOutputAsync("Email outbox (no SMTP configured) to host@example.com");
    }

    /// <summary>
    /// The package on the Azure deployment's durable backend (Durable Task on Azure Storage, here Azurite) runs a workflow:
    /// publish drops what a plain build keeps (packages marked PrivateAssets="all"), and DurableTask.AzureStorage needs
    /// one of them (System.Linq.Async) the first time it takes a partition lease.
    /// </summary>
    [Fact]
    public async Task PublishedApp_OnAzureStorage_RunsAWorkflow()
    {
        var azurite = await Azurite.SharedAsync();
        await using var app = await package.StartAsync(new Dictionary<string, string>
        {
            ["Storage__Provider"] = "AzureStorage",
            ["Storage__ConnectionString"] = azurite.ConnectionString,
            ["Durable__TaskHub"] = "published" + Guid.NewGuid().ToString("N")[..8],
            ["Auth__PasswordHashIterations"] = "1000",
        });
        using var client = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var user = await client.RegisterAsync();
        var workflow = await client.CreateWorkflowAsync(user, WorkflowApi.Line(new { doubled = "{{twice.value}}" }, WorkflowApi.Node("twice", "set", new { values = new { value = "{{inputs.x}}{{inputs.x}}" } })));

        var run = await client.WaitForAsync(user, await client.ExecuteAsync(user, workflow, new { x = "ab" }), seconds: 60);

        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString() + "\n" + string.Join('\n', app.Output.TakeLast(40)));
        Assert.Equal("abab", run["outputs"]!["doubled"]!.GetValue<string>());
        Assert.DoesNotContain(app.Output, line => line.Contains("Could not load file or assembly", StringComparison.Ordinal));
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>The package, published once into a temporary folder with the same command azd runs.</summary>
    public sealed class Package : IAsyncLifetime
    {
        private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(5);

        private readonly DirectoryInfo _root = System.IO.Directory.CreateTempSubdirectory("published-app-");

        public string Directory => Path.Combine(_root.FullName, "app");

        public async Task InitializeAsync()
        {
            var start = new ProcessStartInfo("dotnet")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            // No build servers: nothing of this test outlives it.
            foreach (var argument in new[] { "publish", RepoPaths.FunctionsDirectory, "-c", "Release", "-o", Directory, "--nologo", "--disable-build-servers", "-nodeReuse:false" })
            {
                start.ArgumentList.Add(argument);
            }

            // The test host inherits MSBuild's own variables from `dotnet test`; the nested publish must choose its own.
            foreach (var variable in new[] { "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildExtensionsPath", "MSBuildLoadMicrosoftTargetsReadOnly" })
            {
                start.Environment.Remove(variable);
            }

            using var publish = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
            var stdout = publish.StandardOutput.ReadToEndAsync();
            var stderr = publish.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(PublishTimeout);
            try
            {
                await publish.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                publish.Kill(entireProcessTree: true);
                throw;
            }

            Assert.True(publish.ExitCode == 0, $"dotnet publish failed:\n{await stdout}\n{await stderr}");
        }

        public Task DisposeAsync()
        {
            _root.Delete(recursive: true);
            return Task.CompletedTask;
        }

        /// <summary>Starts the package's entry point directly (worker.config.json's `dotnet Functions.dll`, no host) and waits for its first 200.</summary>
        public async Task<RunningApp> StartAsync(IReadOnlyDictionary<string, string>? settings = null)
        {
            var port = TestProcesses.FreeLoopbackPort();
            var start = new ProcessStartInfo("dotnet", [Path.Combine(Directory, "Functions.dll")])
            {
                WorkingDirectory = Directory,
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var inherited in start.Environment.Keys.Where(k => k.StartsWith("Functions__", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_", StringComparison.Ordinal)).ToList())
            {
                start.Environment.Remove(inherited);
            }

            start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
            start.Environment["Storage__DataDirectory"] = Path.Combine(_root.FullName, "data");
            start.Environment["Models__Discover"] = "false";
            foreach (var (name, value) in settings ?? new Dictionary<string, string>())
            {
                start.Environment[name] = value;
            }

            var app = new RunningApp(Process.Start(start) ?? throw new InvalidOperationException("The app did not start."), new Uri($"http://127.0.0.1:{port}"));
            await app.WaitForFirstOkAsync();
            return app;
        }
    }

    public sealed class RunningApp : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly List<string> _output = [];

        public RunningApp(Process process, Uri baseAddress)
        {
            _process = process;
            BaseAddress = baseAddress;
            process.OutputDataReceived += (_, e) => Remember(e.Data);
            process.ErrorDataReceived += (_, e) => Remember(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Uri BaseAddress { get; }

        public IReadOnlyList<string> Output
        {
            get
            {
                lock (_output)
                {
                    return [.. _output];
                }
            }
        }

        public async Task WaitForFirstOkAsync()
        {
            using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                Assert.False(_process.HasExited, "The app exited:\n" + string.Join('\n', Output));
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "The app did not answer within 30 s:\n" + string.Join('\n', Output));
                try
                {
                    using var response = await client.GetAsync("/health");
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        return;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    // Not listening yet.
                }

                await Task.Delay(20);
            }
        }

        /// <summary>Waits for a log line (the console logger writes in the background, after the request that logged).</summary>
        public async Task WaitForOutputAsync(string text)
        {
            var deadline = Stopwatch.StartNew();
            while (!Output.Any(line => line.Contains(text, StringComparison.Ordinal)))
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), $"The app never logged '{text}':\n" + string.Join('\n', Output));
                await Task.Delay(20);
            }
        }

        public ValueTask DisposeAsync() => new(TestProcesses.StopAsync(_process));

        private void Remember(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.Add(line);
                }
            }
        }
    }
}
