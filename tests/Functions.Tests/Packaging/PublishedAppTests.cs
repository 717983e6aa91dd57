using System.Diagnostics;
using System.Net;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using Serverless.Testing;

namespace Serverless.Functions.Tests.Packaging;

/// <summary>
/// <c>dotnet publish Functions</c> makes the function app package: a folder the Functions host runs as it is, with
/// nothing installed beside it. Published once for these tests; then started exactly as the host starts a custom
/// handler — the executable named in host.json, in the app folder, with only FUNCTIONS_CUSTOMHANDLER_PORT set.
/// </summary>
public sealed class PublishedAppTests(PublishedAppTests.Package package) : IClassFixture<PublishedAppTests.Package>
{
    [Fact]
    public void Publish_Output_IsACompleteCustomHandlerFunctionApp()
    {
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(package.Directory, "host.json")))!;
        var executable = host["customHandler"]!["description"]!["defaultExecutablePath"]!.GetValue<string>();
        var executablePath = Path.Combine(package.Directory, executable);

        Assert.True(File.Exists(executablePath), $"host.json starts '{executable}', which the package lacks.");
        if (!OperatingSystem.IsWindows())
        {
            Assert.True((File.GetUnixFileMode(executablePath) & UnixFileMode.UserExecute) != 0, $"'{executable}' is not executable.");
        }

        Assert.True(host["customHandler"]!["enableProxyingHttpRequest"]!.GetValue<bool>());
        Assert.All(Directory.GetDirectories(RepoPaths.FunctionsDirectory).Where(d => File.Exists(Path.Combine(d, "function.json"))), folder =>
        {
            var name = Path.GetFileName(folder);
            var published = Path.Combine(package.Directory, name, "function.json");
            Assert.True(File.Exists(published), $"Function {name} is missing from the package.");
            Assert.Equal(File.ReadAllText(Path.Combine(folder, "function.json")), File.ReadAllText(published));
        });
    }

    [Fact]
    public void Publish_Output_IsSelfContainedLinuxX64AndReadyToRun()
    {
        var runtimeConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(package.Directory, "Functions.runtimeconfig.json")))!["runtimeOptions"]!;

        // A self-contained app lists the frameworks it carries instead of the ones it needs installed.
        Assert.NotNull(runtimeConfig["includedFrameworks"]);
        Assert.Null(runtimeConfig["frameworks"]);
        Assert.True(File.Exists(Path.Combine(package.Directory, "libcoreclr.so")), "The runtime is not in the package.");
        using var pe = new PEReader(File.OpenRead(Path.Combine(package.Directory, "Functions.dll")));
        Assert.True(pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0, "Functions.dll is not ReadyToRun-compiled.");
    }

    [Fact]
    public async Task PublishedApp_StartedLikeTheFunctionsHost_AnswersHttpAndTriggerEnvelopes()
    {
        await using var app = await package.StartAsync();
        using var client = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

        using var liveness = await client.GetAsync("/");
        using var register = await client.PostAsync("/api/v1/auth/register", Json("""{"email":"host@example.com","password":"Hosted9func","name":"Host"}"""));
        using var queue = await client.PostAsync("/SendEmail", Json("""
            {"Data":{"message":"{\"to\":\"ada@example.com\",\"subject\":\"Queued hello\",\"body\":\"Hi\"}"},
             "Metadata":{"Id":"7d3c","DequeueCount":1,"InsertionTime":"2026-01-01T00:00:00+00:00","sys":{"MethodName":"SendEmail"}}}
            """));
        using var timer = await client.PostAsync("/CleanupExpiredRecords", Json("""
            {"Data":{"timer":{"Schedule":{"AdjustForDST":true},"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"CleanupExpiredRecords"}}}
            """));
        using var failing = await client.PostAsync("/SendEmail", Json("""{"Data":{"message":"not an email"},"Metadata":{}}"""));

        Assert.Equal(HttpStatusCode.OK, liveness.StatusCode);
        Assert.Equal(HttpStatusCode.Created, register.StatusCode);
        Assert.Equal(HttpStatusCode.OK, queue.StatusCode);
        var queued = JsonNode.Parse(await queue.Content.ReadAsStringAsync())!;
        Assert.Equal(["Outputs", "Logs", "ReturnValue"], queued.AsObject().Select(p => p.Key));
        Assert.Contains("Sent 'Queued hello'.", queued["Logs"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, timer.StatusCode);
        Assert.Equal(0, JsonNode.Parse(await timer.Content.ReadAsStringAsync())!["ReturnValue"]!["deleted"]!.GetValue<int>());
        // A non-2xx answer is how the host learns an invocation failed (and retries or poisons the message).
        Assert.Equal(HttpStatusCode.InternalServerError, failing.StatusCode);
        // Under a Functions host the host drives triggers; the in-process trigger host must stand aside.
        await app.WaitForOutputAsync("Standalone trigger host is off");
        await app.WaitForOutputAsync("Email outbox (no SMTP configured) to ada@example.com");
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

        /// <summary>Starts the package's executable the way the Functions host does and waits for its first 200.</summary>
        public async Task<RunningApp> StartAsync()
        {
            var port = TestProcesses.FreeLoopbackPort();
            var executable = JsonNode.Parse(File.ReadAllText(Path.Combine(Directory, "host.json")))!["customHandler"]!["description"]!["defaultExecutablePath"]!.GetValue<string>();
            var start = new ProcessStartInfo(Path.Combine(Directory, executable))
            {
                WorkingDirectory = Directory,
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Environment.Clear();
            start.Environment["FUNCTIONS_CUSTOMHANDLER_PORT"] = $"{port}";
            start.Environment["Models__Discover"] = "false";
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
                    using var response = await client.GetAsync("/");
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
