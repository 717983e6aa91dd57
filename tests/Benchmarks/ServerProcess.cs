using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Serverless.Benchmarks;

/// <summary>The published Functions app running as a child process on a loopback port.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private const int OutputTailLines = 40;
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly Stopwatch _sinceStart;
    private readonly ConcurrentQueue<string> _outputTail = new();

    private ServerProcess(Process process, Stopwatch sinceStart, Uri baseAddress)
    {
        _process = process;
        _sinceStart = sinceStart;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int Id => _process.Id;

    public static ServerProcess Start(string appDir, string dataDir, IReadOnlyDictionary<string, string>? environment = null)
    {
        Directory.CreateDirectory(dataDir);
        var port = Serverless.Testing.TestProcesses.FreeLoopbackPort();
        var startInfo = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = appDir,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add(Path.Combine(appDir, "Functions.dll"));
        startInfo.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        startInfo.Environment["Storage__DataDirectory"] = dataDir;
        startInfo.Environment["RateLimits__GeneralPerMinute"] = "10000000";
        startInfo.Environment["RateLimits__AuthPerMinutePerIp"] = "10000";
        startInfo.Environment["Logging__LogLevel__Default"] = "Warning";
        startInfo.Environment["Triggers__Enabled"] = "false";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[key] = value;
        }

        return Launch(startInfo, port);
    }

    /// <summary>
    /// Starts the package's entry point as worker.config.json names it (`dotnet Functions.dll`, in the app folder) but
    /// without a Functions host, so it runs standalone; <paramref name="settings"/> are its app settings.
    /// </summary>
    public static ServerProcess StartPackageStandalone(string appDir, IReadOnlyDictionary<string, string> settings)
    {
        var port = Serverless.Testing.TestProcesses.FreeLoopbackPort();
        var startInfo = new ProcessStartInfo("dotnet", [Path.Combine(appDir, "Functions.dll")])
        {
            WorkingDirectory = appDir,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        startInfo.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (name, value) in settings)
        {
            startInfo.Environment[name] = value;
        }

        return Launch(startInfo, port);
    }

    private static ServerProcess Launch(ProcessStartInfo startInfo, int port)
    {
        var sinceStart = Stopwatch.StartNew();
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException("dotnet did not start");
        var server = new ServerProcess(process, sinceStart, new Uri($"http://127.0.0.1:{port}"));
        // Output is drained continuously so a chatty server never blocks on a full pipe; the tail explains crashes.
        process.OutputDataReceived += (_, e) => server.Remember(e.Data);
        process.ErrorDataReceived += (_, e) => server.Remember(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Polls /health until the first 200 and returns the time since Process.Start.</summary>
    public async Task<TimeSpan> WaitUntilHealthyAsync(CancellationToken ct)
    {
        using var handler = new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(1) };
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        var healthUri = new Uri(BaseAddress, "/health");

        while (_sinceStart.Elapsed < StartupTimeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(
                    $"server exited with code {_process.ExitCode} before /health answered:\n{OutputTail()}");
            }

            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
            attempt.CancelAfter(TimeSpan.FromSeconds(1));
            try
            {
                using var response = await client.GetAsync(healthUri, attempt.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return _sinceStart.Elapsed;
                }
            }
            catch (HttpRequestException)
            {
                // Connection refused until Kestrel binds; keep polling.
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
            }

            await Task.Delay(TimeSpan.FromMilliseconds(5), ct);
        }

        throw new TimeoutException($"/health did not answer 200 within {StartupTimeout}:\n{OutputTail()}");
    }

    public double ReadRssMegabytes()
    {
        // VmRSS is what the kernel charges the process; Process.WorkingSet64 reads the same file but caches.
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kilobytes = long.Parse(
                    line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                return kilobytes / 1024.0;
            }
        }

        throw new InvalidOperationException("VmRSS missing from /proc status");
    }

    public ValueTask DisposeAsync() => new(Serverless.Testing.TestProcesses.StopAsync(_process));

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }

        _outputTail.Enqueue(line);
        while (_outputTail.Count > OutputTailLines && _outputTail.TryDequeue(out _))
        {
        }
    }

    private string OutputTail() => string.Join('\n', _outputTail);
}

/// <summary>Publishes the Functions app in Release so startup is measured on the real artifact.</summary>
internal static class Publisher
{
    private const int Attempts = 3;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMinutes(1);

    public static async Task<string> PublishAsync(string outputDir, CancellationToken ct)
    {
        var project = Path.Combine(FindRepoRoot(), "Functions");
        for (var attempt = 1; ; attempt++)
        {
            Console.Error.WriteLine($"[bench] publishing {project} (attempt {attempt})");
            var (exitCode, output) = await RunDotnetAsync(
                ["publish", project, "-c", "Release", "-o", outputDir, "--nologo"], ct);
            if (exitCode == 0)
            {
                return outputDir;
            }

            // The tree is edited concurrently and can fail to build for a moment; a later attempt usually succeeds.
            Console.Error.WriteLine(output);
            if (attempt == Attempts)
            {
                throw new InvalidOperationException($"dotnet publish failed {Attempts} times");
            }

            await Task.Delay(RetryDelay, ct);
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Serverless.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Serverless.sln not found above " + AppContext.BaseDirectory);
    }

    private static async Task<(int ExitCode, string Output)> RunDotnetAsync(
        IEnumerable<string> arguments, CancellationToken ct)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("dotnet did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}

/// <summary>Samples the server's RSS in the background to catch the peak under load.</summary>
internal sealed class RssSampler : IAsyncDisposable
{
    private readonly ServerProcess _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private double _peakMb;

    private RssSampler(ServerProcess server, TimeSpan interval)
    {
        _server = server;
        _peakMb = server.ReadRssMegabytes();
        _loop = SampleAsync(interval, _stop.Token);
    }

    public static RssSampler Start(ServerProcess server, TimeSpan interval) => new(server, interval);

    public async Task<double> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        return _peakMb;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task SampleAsync(TimeSpan interval, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                _peakMb = Math.Max(_peakMb, _server.ReadRssMegabytes());
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
            // The server died; the scenarios report that as errors, so keep the peak seen so far.
        }
    }
}
