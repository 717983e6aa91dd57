using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Serverless.Benchmarks;

internal sealed record Credentials(string AccessToken, string ApiKey);

/// <summary>Creates the user, JWT and API key the authenticated scenarios send.</summary>
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
        using var loginBody = await SendAsync(client, HttpMethod.Post, "/api/v1/auth/login", login, HttpStatusCode.OK, ct);
        var accessToken = loginBody.RootElement.GetProperty("data").GetProperty("accessToken").GetString()
            ?? throw new InvalidOperationException("login returned no accessToken");

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        var keyRequest = new { name = "bench", scopes = new[] { "api_keys:read", "profile:read" }, rateLimitPerMinute = 10_000_000 };
        using var keyBody = await SendAsync(
            client, HttpMethod.Post, "/api/v1/user/api-keys", keyRequest, HttpStatusCode.Created, ct);
        var apiKey = keyBody.RootElement.GetProperty("data").GetProperty("key").GetString()
            ?? throw new InvalidOperationException("api key creation returned no key");

        return new Credentials(accessToken, apiKey);
    }

    private static async Task<JsonDocument> SendAsync(
        HttpClient client, HttpMethod method, string path, object body, HttpStatusCode expected, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        using var response = await client.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException(
                $"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        }

        return JsonDocument.Parse(text);
    }
}
