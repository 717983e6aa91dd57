namespace Serverless.Benchmarks;

/// <summary>
/// What the suites measuring the published app against the fake upstream share: a temp directory, the fake, the app
/// (published unless <c>--app</c> names one) started with the suite's settings, and clean-up however the run ends.
/// </summary>
internal static class SuiteRun
{
    public static async Task<int> WithAppAsync(string name, BenchmarkOptions options, Func<FakeOpenAi, IReadOnlyDictionary<string, string>> settings,
        Func<FakeOpenAi, ServerProcess, Task<int>> run, CancellationToken ct)
    {
        var workDir = Directory.CreateTempSubdirectory($"serverless-{name}-bench-");
        ServerProcess? server = null;
        try
        {
            await using var upstream = await FakeOpenAi.StartAsync();
            var appDir = options.AppDir ?? await Publisher.PublishAsync(Path.Combine(workDir.FullName, "app"), ct);
            server = ServerProcess.Start(appDir, Path.Combine(workDir.FullName, "data"), settings(upstream));
            await server.WaitUntilHealthyAsync(ct);
            return await run(upstream, server);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Console.Error.WriteLine("[bench] cancelled");
            return 130;
        }
        finally
        {
            await RunFiles.CleanUpAsync(server, workDir);
        }
    }

    /// <summary>The machine's 1/5/15-minute load averages: the machine is shared, and reports say how busy it was.</summary>
    public static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
