namespace Serverless.Functions.Tests.Support;

public static class RepoPaths
{
    /// <summary>The repository root: the folder holding Serverless.sln, found upward from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    public static string FunctionsDirectory => Path.Combine(Root, "Functions");

    private static string FindRoot()
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
}
