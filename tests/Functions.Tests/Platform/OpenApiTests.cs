using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Platform;

public sealed class OpenApiTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Document_IsOpenApi31_WithBothAuthSchemes()
    {
        var document = JsonNode.Parse(await _client.GetStringAsync("/api/v1/openapi.json"))!;

        Assert.StartsWith("3.1", document["openapi"]!.GetValue<string>());
        var schemes = document["components"]!["securitySchemes"]!.AsObject();
        Assert.Equal("http", schemes["bearer"]!["type"]!.GetValue<string>());
        Assert.Equal("X-API-Key", schemes["apiKey"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Document_DescribesEveryEndpointWithSummaryTagsAndResponses()
    {
        var document = JsonNode.Parse(await _client.GetStringAsync("/api/v1/openapi.json"))!;
        var paths = document["paths"]!.AsObject();

        foreach (var path in new[] { "/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/user/api-keys", "/api/v1/workspaces/{id}/members/{userId}", "/api/v1/monitoring/health" })
        {
            Assert.True(paths.ContainsKey(path), path);
        }

        foreach (var (path, item) in paths)
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                Assert.False(string.IsNullOrEmpty(operation!["summary"]?.GetValue<string>()), $"{method} {path} has no summary");
                Assert.NotEmpty(operation["tags"]!.AsArray());
                Assert.NotEmpty(operation["responses"]!.AsObject());
            }
        }

        var createKey = paths["/api/v1/user/api-keys"]!["post"]!;
        Assert.NotNull(createKey["requestBody"]);
        Assert.NotNull(createKey["responses"]!["201"]);
        Assert.NotEmpty(createKey["security"]!.AsArray());
        Assert.Null(paths["/api/v1/auth/login"]!["post"]!["security"]);
    }

    [Fact]
    public async Task Docs_ServeTheInteractiveUi()
    {
        var response = await _client.GetAsync("/api/v1/docs/index.html");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("swagger", html, StringComparison.OrdinalIgnoreCase);
    }
}
