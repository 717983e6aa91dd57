using System.Net;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Health;

public sealed class HealthTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Liveness_IsATinyOk()
    {
        var response = await _client.GetStringAsync("/");

        Assert.Equal("OK", response);
    }

    [Fact]
    public async Task Health_ReportsStatusVersionUptimeTimestamp()
    {
        var response = await _client.ApiGetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("healthy", response.Body!["status"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(response.Body["version"]!.GetValue<string>()));
        Assert.True(response.Body["uptimeSeconds"]!.GetValue<long>() >= 0);
        Assert.True(DateTimeOffset.TryParse(response.Body["timestamp"]!.GetValue<string>(), out _));
    }

    [Fact]
    public async Task MonitoringHealth_ReportsEachStorageComponent()
    {
        var response = await _client.ApiGetAsync("/api/v1/monitoring/health");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("HEALTHY", response.Data["status"]!.GetValue<string>());
        var components = response.Data["components"]!.AsArray();
        Assert.Equal(["blob-store", "entity-store", "work-queue"], components.Select(c => c!["name"]!.GetValue<string>()).Order());
        Assert.All(components, c =>
        {
            Assert.Equal("HEALTHY", c!["status"]!.GetValue<string>());
            Assert.True(c["latencyMs"]!.GetValue<long>() >= 0);
        });
    }
}
