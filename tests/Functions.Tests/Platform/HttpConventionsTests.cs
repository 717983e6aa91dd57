using System.Net;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Platform;

public sealed class HttpConventionsTests : IClassFixture<HttpConventionsTests.Factory>
{
    public sealed class Factory() : PlatformFactory(new Dictionary<string, string?> { ["Http:MaxRequestBodyBytes"] = "2048" });

    private readonly HttpClient _client;

    public HttpConventionsTests(Factory factory) => _client = factory.CreateClient();

    [Fact]
    public async Task Success_AnyEndpoint_WrapsDataInEnvelopeWithMeta()
    {
        var response = await _client.ApiGetAsync("/api/v1/auth/scopes");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.True(response.Body!["success"]!.GetValue<bool>());
        Assert.NotEmpty(response.Data.AsArray());
        Assert.Equal(response.Header("X-Request-Id"), response.Body["meta"]!["requestId"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(response.Body["meta"]!["version"]!.GetValue<string>()));
        Assert.True(DateTimeOffset.TryParse(response.Body["meta"]!["timestamp"]!.GetValue<string>(), out _));
    }

    [Fact]
    public async Task RequestId_GivenByCaller_IsEchoed()
    {
        var response = await _client.ApiGetAsync("/api/v1/auth/scopes", headers: new Dictionary<string, string> { ["X-Request-Id"] = "trace-abc_123" });

        Assert.Equal("trace-abc_123", response.Header("X-Request-Id"));
        Assert.Equal("trace-abc_123", response.Body!["meta"]!["requestId"]!.GetValue<string>());
    }

    [Fact]
    public async Task RequestId_WithUnsafeCharacters_IsReplaced()
    {
        var response = await _client.ApiGetAsync("/api/v1/auth/scopes", headers: new Dictionary<string, string> { ["X-Request-Id"] = "<script>" });

        Assert.StartsWith("req_", response.Header("X-Request-Id"));
    }

    [Fact]
    public async Task MalformedJson_Is400InvalidRequestEnvelope()
    {
        var response = await _client.ApiPostAsync("/api/v1/auth/login", "{\"email\": \"a@b.c\",");

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("INVALID_REQUEST", response.ErrorCode);
        Assert.False(response.Body!["success"]!.GetValue<bool>());
        Assert.NotNull(response.Header("X-Request-Id"));
    }

    [Fact]
    public async Task WrongJsonType_Is400NamingTheField()
    {
        var response = await _client.ApiPostAsync("/api/v1/auth/login", "{\"email\": 42, \"password\": \"x\"}");

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("email", response.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task MissingBody_Is400()
    {
        var response = await _client.ApiSendAsync(HttpMethod.Post, "/api/v1/auth/login", null);

        Assert.True(response.Status is HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType, response.Status.ToString());
        Assert.NotNull(response.ErrorCode);
    }

    [Fact]
    public async Task ValidationFailure_Is422WithPerFieldDetails()
    {
        var response = await _client.ApiPostAsync("/api/v1/auth/register", new { email = "not-an-email", password = "short" });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Equal("VALIDATION_ERROR", response.ErrorCode);
        var fields = response.Body!["error"]!["details"]!.AsArray().Select(d => d!["field"]!.GetValue<string>()).ToList();
        Assert.Contains("email", fields);
        Assert.Contains("password", fields);
    }

    [Fact]
    public async Task UnknownRoute_Is404Envelope()
    {
        var response = await _client.ApiGetAsync("/api/v1/no-such-thing");

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.Equal("NOT_FOUND", response.ErrorCode);
    }

    [Fact]
    public async Task WrongMethod_Is405Envelope()
    {
        var response = await _client.ApiDeleteAsync("/api/v1/auth/login");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.Status);
        Assert.Equal("METHOD_NOT_ALLOWED", response.ErrorCode);
    }

    [Fact]
    public async Task BodyOverLimit_Is413Envelope()
    {
        var response = await _client.ApiPostAsync("/api/v1/auth/login", new { email = new string('a', 4000) + "@b.c", password = "x" });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.Status);
        Assert.Equal("PAYLOAD_TOO_LARGE", response.ErrorCode);
    }

    [Fact]
    public async Task ProtectedRoute_WithoutCredential_Is401Envelope()
    {
        var response = await _client.ApiGetAsync("/api/v1/auth/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("UNAUTHORIZED", response.ErrorCode);
    }

    [Fact]
    public async Task ProtectedRoute_WithGarbageToken_Is401Envelope()
    {
        var response = await _client.ApiGetAsync("/api/v1/auth/me", token: "eyJhbGciOiJIUzI1NiJ9.e30.invalid");

        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("UNAUTHORIZED", response.ErrorCode);
    }
}
