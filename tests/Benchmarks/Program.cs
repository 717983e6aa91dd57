using System.Runtime.InteropServices;
using Serverless.Benchmarks;

if (!BenchmarkOptions.TryParse(args, out var options, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(BenchmarkOptions.Usage);
    return 2;
}

using var cts = new CancellationTokenSource();
// Cancelling (instead of letting the runtime die) lets the finally block kill the server and delete temp dirs.
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; cts.Cancel(); });
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; cts.Cancel(); });
var ct = cts.Token;

if (options.Suite == BenchmarkOptions.GatewaySuite)
{
    return await GatewaySuite.RunAsync(options, ct);
}

if (options.Suite == BenchmarkOptions.IngestSuite)
{
    return await IngestSuite.RunAsync(options, ct);
}

if (options.Suite == BenchmarkOptions.ListsSuite)
{
    return await ListsSuite.RunAsync(options, ct);
}

if (options.Suite == BenchmarkOptions.AnalyticsSuite)
{
    return await AnalyticsSuite.RunAsync(options, ct);
}

if (options.Suite == BenchmarkOptions.CodeSuite)
{
    return await CodeSuite.RunAsync(options, ct);
}

if (options.Suite == BenchmarkOptions.PluginsSuite)
{
    return await PluginsSuite.RunAsync(options, ct);
}

if (options.Suite == BenchmarkOptions.AutomationSuite)
{
    return await AutomationSuite.RunAsync(options, ct);
}

var workDir = Directory.CreateTempSubdirectory("serverless-bench-");
ServerProcess? server = null;
try
{
    if (options.Suite is BenchmarkOptions.StorageSuite or BenchmarkOptions.SearchSuite or BenchmarkOptions.TableScanSuite)
    {
        var report = options.Suite switch
        {
            BenchmarkOptions.SearchSuite => await SearchSuite.RunAsync(options, workDir.FullName, Log, ct),
            BenchmarkOptions.TableScanSuite => await TableScanSuite.RunAsync(options, workDir.FullName, Log, ct),
            _ => await StorageBenchmark.RunAsync(options, workDir.FullName, Log, ct),
        };
        Console.Write(report);
        if (options.OutFile is { } storageOutFile)
        {
            await File.WriteAllTextAsync(storageOutFile, report, ct);
        }

        return 0;
    }

    var appDir = options.AppDir ?? await Publisher.PublishAsync(Path.Combine(workDir.FullName, "app"), ct);
    if (options.Suite == BenchmarkOptions.WorkflowsSuite)
    {
        var report = await WorkflowSuite.RunBothBackendsAsync(appDir, workDir.FullName, options, Log, ct);
        Console.Write(report);
        if (options.OutFile is { } file)
        {
            await File.WriteAllTextAsync(file, report, ct);
        }

        return 0;
    }

    const int startRuns = 3;
    var startTimes = new List<TimeSpan>();
    for (var run = 1; run <= startRuns; run++)
    {
        server = ServerProcess.Start(appDir, Path.Combine(workDir.FullName, $"data-{run}"));
        var elapsed = await server.WaitUntilHealthyAsync(ct);
        startTimes.Add(elapsed);
        Log($"start run {run}: {elapsed.TotalMilliseconds:F0} ms to first /health 200");
        if (run < startRuns)
        {
            await server.DisposeAsync();
            server = null;
        }
    }

    var running = server!;
    await Task.Delay(TimeSpan.FromSeconds(2), ct);
    var idleRssMb = running.ReadRssMegabytes();
    Log($"idle RSS: {idleRssMb:F1} MB");

    var credentials = await ApiSetup.CreateCredentialsAsync(running.BaseAddress, ct);

    Scenario[] scenarios =
    [
        new(Report.BareScenario, "/", _ => { }),
        new("GET /api/v1/auth/me (JWT)", "/api/v1/auth/me",
            headers => headers.Authorization = new("Bearer", credentials.AccessToken)),
        new("GET /api/v1/user/api-keys (X-API-Key)", "/api/v1/user/api-keys",
            headers => headers.Add("X-API-Key", credentials.ApiKey)),
    ];

    var results = new List<ScenarioResult>();
    await using (var sampler = RssSampler.Start(running, TimeSpan.FromMilliseconds(100)))
    {
        // Scenarios at the same concurrency run back to back so their ratio sees similar machine noise.
        foreach (var connections in Report.Connections)
        {
            foreach (var scenario in scenarios)
            {
                Log($"running {scenario.Name} @ {connections} connections");
                var result = await LoadGenerator.RunAsync(
                    running.BaseAddress, scenario, connections, options.Warmup, options.Duration, ct);
                Log($"  {result.RequestsPerSecond:F0} req/s, p50 {result.P50Ms:F2} ms, p99 {result.P99Ms:F2} ms, errors {result.Errors}");
                results.Add(result);
            }
        }

        var markdown = Report.Render(new BenchmarkRun(
            options, results, startTimes, idleRssMb, await sampler.StopAsync()));
        await RunFiles.WriteReportAsync(markdown, options, ct);
    }

    return 0;
}
catch (OperationCanceledException) when (ct.IsCancellationRequested)
{
    Log("cancelled");
    return 130;
}
finally
{
    await RunFiles.CleanUpAsync(server, workDir);
}

// Progress goes to stderr so stdout carries only the markdown report.
static void Log(string message) => Console.Error.WriteLine($"[bench] {message}");
