using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Serverless.Benchmarks;

internal sealed record Credentials(string AccessToken, string ApiKey);

/// <summary>Creates the user, JWT and API key the authenticated scenarios send; sends the suites' JSON requests.</summary>
internal static class ApiSetup
{
    private const string Email = "bench@example.com";
    private const string Password = "Bench12345";

    public static async Task<Credentials> CreateCredentialsAsync(Uri baseAddress, CancellationToken ct)
    {
        using var handler = new SocketsHttpHandler { UseProxy = false };
        using var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var login = new { email = Email, password = Password };

        await SendAsync(client, HttpMethod.Post, "/api/v1/auth/register", login, HttpStatusCode.Created, ct);
        var loginBody = await SendAsync(client, HttpMethod.Post, "/api/v1/auth/login", login, HttpStatusCode.OK, ct);
        var accessToken = loginBody["data"]?["accessToken"]?.GetValue<string>()
            ?? throw new InvalidOperationException("login returned no accessToken");

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        var keyRequest = new { name = "bench", scopes = new[] { "api_keys:read", "profile:read" }, rateLimitPerMinute = 10_000_000 };
        var keyBody = await SendAsync(
            client, HttpMethod.Post, "/api/v1/user/api-keys", keyRequest, HttpStatusCode.Created, ct);
        var apiKey = keyBody["data"]?["key"]?.GetValue<string>()
            ?? throw new InvalidOperationException("api key creation returned no key");

        return new Credentials(accessToken, apiKey);
    }

    /// <summary>Sends <paramref name="body"/> (none when null) as JSON and returns the answer's JSON; any other status than <paramref name="expected"/> throws.</summary>
    public static async Task<JsonNode> SendAsync(
        HttpClient client, HttpMethod method, string path, object? body, HttpStatusCode expected, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await client.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException(
                $"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        }

        return JsonNode.Parse(text)!;
    }
}
