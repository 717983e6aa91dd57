namespace Serverless.Functions.Platform;

/// <summary>Whether an Azure Functions host drives this process (it sets FUNCTIONS_CUSTOMHANDLER_PORT) or it runs standalone.</summary>
internal static class HostingMode
{
    public const string PortVariable = "FUNCTIONS_CUSTOMHANDLER_PORT";

    public static string? FunctionsHostPort => Environment.GetEnvironmentVariable(PortVariable) is { Length: > 0 } port ? port : null;

    public static bool IsFunctionsHost => FunctionsHostPort is not null;
}
