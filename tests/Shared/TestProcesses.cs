using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Serverless.Testing;

/// <summary>
/// What the tests and benchmarks that start processes (Azurite, the published app) share: a free loopback port to
/// hand them, and a stop that takes the whole process tree down. Linked into each project that needs it.
/// </summary>
public static class TestProcesses
{
    /// <summary>A port free on 127.0.0.1 right now (the caller binds it soon after; a clash is retried by the caller).</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Kills the process (and, with <paramref name="entireProcessTree"/>, everything it started), waits for it to go, and disposes it.</summary>
    /// <remarks>
    /// A tree kill first stops (SIGSTOP) each process, then lists its children, then kills it: a test host that ends
    /// in between leaves a stopped process behind, which nothing wakes or ends. A process that starts no children
    /// is better killed alone, with one signal.
    /// </remarks>
    public static async Task StopAsync(Process process, bool entireProcessTree = true)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
            // Already gone, or refusing to die: there is nothing more to do.
        }
        finally
        {
            process.Dispose();
        }
    }
}
