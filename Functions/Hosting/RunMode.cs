namespace Serverless.Functions.Hosting;

/// <summary>
/// Which of the executable's two modes this process runs in. The Functions host starts a .NET isolated worker with
/// the address of its gRPC endpoint (<c>--functions-uri</c>, or the setting it maps to); nothing else does, so its
/// presence is the test. Without it the process is the standalone ASP.NET Core app.
/// </summary>
internal static class RunMode
{
    public const string HostEndpointArgument = "--functions-uri";
    public const string HostEndpointVariable = "Functions__Worker__HostEndpoint";

    public static bool IsFunctionsWorker(string[] args) =>
        args.Any(a => a.Equals(HostEndpointArgument, StringComparison.OrdinalIgnoreCase) || a.StartsWith(HostEndpointArgument + "=", StringComparison.OrdinalIgnoreCase))
        || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(HostEndpointVariable));
}
