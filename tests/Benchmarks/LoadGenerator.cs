using System.Net.Http.Headers;

namespace Serverless.Benchmarks;

internal sealed record Scenario(string Name, string Path, Action<HttpRequestHeaders> ConfigureHeaders);

internal sealed record ScenarioResult(
    string Name, int Connections, double RequestsPerSecond, double P50Ms, double P99Ms, long Errors);

/// <summary>The GET scenarios of the foundation suite, on the shared closed-loop load loop.</summary>
internal static class LoadGenerator
{
    public static async Task<ScenarioResult> RunAsync(
        Uri baseAddress, Scenario scenario, int connections, TimeSpan warmup, TimeSpan duration, CancellationToken ct)
    {
        var uri = new Uri(baseAddress, scenario.Path);
        var result = await HttpLoad.RunAsync(scenario.Name, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, uri);
            scenario.ConfigureHeaders(request.Headers);
            return request;
        }, stream: false, connections, warmup, duration, ct);
        return new ScenarioResult(result.Name, connections, result.RequestsPerSecond, result.P50Ms, result.P99Ms, result.Errors);
    }
}
