using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Serverless.Functions.Tests.Support;

public sealed record ApiResponse(HttpStatusCode Status, JsonNode? Body, HttpResponseHeaders Headers)
{
    public JsonNode Data => Body?["data"] ?? throw new InvalidOperationException($"No data in {Status}: {Body?.ToJsonString()}");

    public string? ErrorCode => Body?["error"]?["code"]?.GetValue<string>();

    public string? Header(string name) => Headers.TryGetValues(name, out var values) ? values.First() : null;
}

public static partial class Http
{
    public static async Task<ApiResponse> ApiSendAsync(this HttpClient client, HttpMethod method, string url, object? body = null, string? token = null, IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = body is string raw ? new StringContent(raw, Encoding.UTF8, "application/json") : JsonContent.Create(body);
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true)
        {
            json = JsonNode.Parse(text);
        }

        return new ApiResponse(response.StatusCode, json, response.Headers);
    }

    public static Task<ApiResponse> ApiGetAsync(this HttpClient client, string url, string? token = null, IDictionary<string, string>? headers = null) =>
        client.ApiSendAsync(HttpMethod.Get, url, null, token, headers);

    public static Task<ApiResponse> ApiPostAsync(this HttpClient client, string url, object? body, string? token = null, IDictionary<string, string>? headers = null) =>
        client.ApiSendAsync(HttpMethod.Post, url, body, token, headers);

    public static Task<ApiResponse> ApiPutAsync(this HttpClient client, string url, object? body, string? token = null, IDictionary<string, string>? headers = null) =>
        client.ApiSendAsync(HttpMethod.Put, url, body, token, headers);

    public static Task<ApiResponse> ApiDeleteAsync(this HttpClient client, string url, string? token = null, IDictionary<string, string>? headers = null) =>
        client.ApiSendAsync(HttpMethod.Delete, url, null, token, headers);

    /// <summary>The token of a mailed link.</summary>
    public static string TokenIn(string mailBody) => TokenPattern().Match(mailBody).Groups[1].Value;

    [GeneratedRegex(@"token=([A-Za-z0-9_\-]+)")]
    private static partial Regex TokenPattern();
}

public static class UsageRows
{
    /// <summary>The workspace's usage rows once at least <paramref name="count"/> are there (the gateway writes them in the background).</summary>
    public static async Task<List<JsonNode>> WaitForUsageAsync(this HttpClient client, string token, int count = 1)
    {
        for (var i = 0; i < 100; i++)
        {
            var rows = (await client.ApiGetAsync("/api/v1/analytics/usage", token)).Data.AsArray().Select(r => r!).ToList();
            if (rows.Count >= count)
            {
                return rows;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"fewer than {count} usage rows appeared");
    }
}

/// <summary>A registered, signed-in user.</summary>
public sealed record TestUser(string Id, string Email, string Password, string AccessToken, string RefreshToken, string PersonalWorkspaceId);

public static class Users
{
    public const string Password = "Correct1horse";

    public static async Task<TestUser> RegisterAsync(this HttpClient client, string? email = null)
    {
        email ??= $"user-{Guid.NewGuid():N}@example.com";
        var registered = await client.ApiPostAsync("/api/v1/auth/register", new { email, password = Password, name = "Test" });
        Assert.Equal(HttpStatusCode.Created, registered.Status);
        var login = await client.ApiPostAsync("/api/v1/auth/login", new { email, password = Password });
        Assert.Equal(HttpStatusCode.OK, login.Status);
        var data = login.Data;
        return new TestUser(data["user"]!["id"]!.GetValue<string>(), email, Password, data["accessToken"]!.GetValue<string>(),
            data["refreshToken"]!.GetValue<string>(), data["user"]!["personalWorkspaceId"]!.GetValue<string>());
    }

    /// <summary>A fresh session: moving the clock by hours expires the access token of the one the test began with.</summary>
    public static async Task<TestUser> SignInAgainAsync(this HttpClient client, TestUser user)
    {
        var login = await client.ApiPostAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password });
        Assert.Equal(HttpStatusCode.OK, login.Status);
        return user with { AccessToken = login.Data["accessToken"]!.GetValue<string>() };
    }

    public static async Task<string> CreateKeyAsync(this HttpClient client, TestUser user, string[] scopes, string? workspaceId = null, int? rateLimitPerMinute = null)
    {
        var headers = workspaceId is null ? null : new Dictionary<string, string> { ["X-Workspace-Id"] = workspaceId };
        var created = await client.ApiPostAsync("/api/v1/user/api-keys", new { name = "test key", scopes, rateLimitPerMinute }, user.AccessToken, headers);
        Assert.Equal(HttpStatusCode.Created, created.Status);
        return created.Data["key"]!.GetValue<string>();
    }

    public static Dictionary<string, string> ApiKey(string key) => new() { ["X-API-Key"] = key };
}
