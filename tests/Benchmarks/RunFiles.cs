namespace Serverless.Benchmarks;

/// <summary>What every suite does at its end: print and save the report, stop the server, remove its temp files.</summary>
internal static class RunFiles
{
    public static async Task WriteReportAsync(string markdown, BenchmarkOptions options, CancellationToken ct)
    {
        Console.Write(markdown);
        if (options.OutFile is { } outFile)
        {
            await File.WriteAllTextAsync(outFile, markdown, ct);
        }
    }

    public static async Task CleanUpAsync(ServerProcess? server, DirectoryInfo workDir)
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }

        try
        {
            workDir.Delete(recursive: true);
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"[bench] could not delete {workDir.FullName}: {ex.Message}");
        }
    }
}
