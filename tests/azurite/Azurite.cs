using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Serverless.Testing;

/// <summary>
/// Azurite, the local Azure Storage emulator, as the Azure adapter tests and the storage benchmark use it: the
/// version pinned by <c>tests/azurite/package-lock.json</c> (installed with <c>npm ci</c> on first use), listening
/// on free loopback ports, in memory only. <see cref="SharedAsync"/> starts one per process and shares it; it stops
/// when the process ends, even when the process is killed.
/// </summary>
/// <remarks>Compiled into each project that needs it (linked, with TestProcesses.cs), so it depends on nothing but the BCL.</remarks>
public sealed class Azurite : IAsyncDisposable
{
    public const string AccountName = "devstoreaccount1";

    /// <summary>Azurite's well-known development account key (from Azurite's documentation).</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const string PinnedVersion = "3.37.0";
    private const int OutputTailLines = 40;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);
    private static readonly Lazy<Task<Azurite>> Shared = new(() => StartAsync(CancellationToken.None));

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;

    private Azurite(Process process, ConcurrentQueue<string> output, int blobPort, int queuePort, int tablePort)
    {
        _process = process;
        _output = output;
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
    }

    public int BlobPort { get; }

    public int QueuePort { get; }

    public int TablePort { get; }

    /// <summary>A connection string with the development key and this instance's path-style endpoints.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{AccountName};QueueEndpoint=http://127.0.0.1:{QueuePort}/{AccountName};" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/{AccountName};";

    /// <summary>How long the last start took, from launching node to all three services accepting connections.</summary>
    public TimeSpan StartTime { get; private set; }

    /// <summary>The process-wide instance, started on first use.</summary>
    public static Task<Azurite> SharedAsync() => Shared.Value;

    /// <summary>Starts a new instance (installing Azurite first when the checkout has no node_modules yet).</summary>
    public static async Task<Azurite> StartAsync(CancellationToken cancellationToken)
    {
        var folder = FindFolder();
        await EnsureInstalledAsync(folder, cancellationToken);

        // A port picked free can be taken before Azurite binds it; a new set of ports then makes it through.
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                return await LaunchAsync(folder, cancellationToken);
            }
            catch (InvalidOperationException e)
            {
                last = e;
            }
        }

        throw new InvalidOperationException("Azurite did not start.", last);
    }

    // Azurite is one node process (run.js loads it in-process): killed alone, with no SIGSTOP first (see StopAsync).
    public ValueTask DisposeAsync() => new(TestProcesses.StopAsync(_process, entireProcessTree: false));

    private static async Task<Azurite> LaunchAsync(string folder, CancellationToken cancellationToken)
    {
        var (blob, queue, table) = (TestProcesses.FreeLoopbackPort(), TestProcesses.FreeLoopbackPort(), TestProcesses.FreeLoopbackPort());
        var start = new ProcessStartInfo("node")
        {
            // In memory, Azurite writes no files; a neutral working directory keeps it that way should that change.
            WorkingDirectory = Path.GetTempPath(),
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[]
        {
            Path.Combine(folder, "run.js"),
            "--blobHost", "127.0.0.1", "--blobPort", $"{blob}",
            "--queueHost", "127.0.0.1", "--queuePort", $"{queue}",
            "--tableHost", "127.0.0.1", "--tablePort", $"{table}",
            "--inMemoryPersistence", "--extentMemoryLimit", "1024",
            "--skipApiVersionCheck", "--disableTelemetry", "--silent",
        })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["AZURITE_PARENT_PID"] = $"{Environment.ProcessId}";
        var clock = Stopwatch.StartNew();
        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        var output = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => Remember(output, e.Data);
        process.ErrorDataReceived += (_, e) => Remember(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var azurite = new Azurite(process, output, blob, queue, table);
        try
        {
            while (!(await AcceptsAsync(blob) && await AcceptsAsync(queue) && await AcceptsAsync(table)))
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"Azurite exited with code {process.ExitCode}:\n{azurite.OutputTail()}");
                }

                if (clock.Elapsed > StartTimeout)
                {
                    throw new InvalidOperationException($"Azurite did not listen within {StartTimeout}:\n{azurite.OutputTail()}");
                }

                await Task.Delay(50, cancellationToken);
            }
        }
        catch
        {
            await azurite.DisposeAsync();
            throw;
        }

        azurite.StartTime = clock.Elapsed;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => azurite.Kill();
        return azurite;
    }

    /// <summary>Runs <c>npm ci</c> when the pinned Azurite is not installed yet; one process at a time installs.</summary>
    private static async Task EnsureInstalledAsync(string folder, CancellationToken cancellationToken)
    {
        if (IsInstalled(folder))
        {
            return;
        }

        using var installLock = await AcquireLockAsync(Path.Combine(folder, ".npm-ci.lock"), cancellationToken);
        if (IsInstalled(folder))
        {
            return;
        }

        var start = new ProcessStartInfo("npm")
        {
            WorkingDirectory = folder,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "ci", "--no-audit", "--no-fund", "--loglevel=error" })
        {
            start.ArgumentList.Add(argument);
        }

        using var npm = Process.Start(start) ?? throw new InvalidOperationException("npm did not start; Node.js and npm must be installed.");
        var stdout = npm.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = npm.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(InstallTimeout);
        try
        {
            await npm.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            npm.Kill(entireProcessTree: true);
            throw;
        }

        if (npm.ExitCode != 0 || !IsInstalled(folder))
        {
            throw new InvalidOperationException($"npm ci in {folder} failed ({npm.ExitCode}):\n{await stdout}\n{await stderr}");
        }
    }

    private static bool IsInstalled(string folder)
    {
        var manifest = Path.Combine(folder, "node_modules", "azurite", "package.json");
        return File.Exists(manifest) && File.ReadAllText(manifest).Contains($"\"version\": \"{PinnedVersion}\"", StringComparison.Ordinal);
    }

    private static async Task<FileStream> AcquireLockAsync(string path, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (deadline.Elapsed < InstallTimeout)
            {
                await Task.Delay(200, cancellationToken);
            }
        }
    }

    /// <summary>The folder holding package.json, run.js and (once installed) node_modules, found upward from the binaries.</summary>
    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "azurite");
            if (File.Exists(Path.Combine(candidate, "package-lock.json")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("tests/azurite/package-lock.json not found above " + AppContext.BaseDirectory);
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static void Remember(ConcurrentQueue<string> output, string? line)
    {
        if (line is null)
        {
            return;
        }

        output.Enqueue(line);
        while (output.Count > OutputTailLines && output.TryDequeue(out _))
        {
        }
    }

    private void Kill()
    {
        try
        {
            // One SIGKILL: the host is exiting, and a tree kill's SIGSTOP could outlive it (see TestProcesses.StopAsync).
            _process.Kill(entireProcessTree: false);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    private string OutputTail() => string.Join('\n', _output);
}
