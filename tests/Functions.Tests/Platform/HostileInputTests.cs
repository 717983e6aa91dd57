using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Platform;

/// <summary>Every documented endpoint answers bad input with a 4xx envelope: never a 5xx, never a stack trace.</summary>
public sealed class HostileInputTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private static readonly string[] Bodies =
    [
        "{}",
        "[]",
        "\"text\"",
        "null",
        "{\"email\":{\"a\":1},\"password\":[1],\"name\":true,\"scopes\":\"x\",\"role\":7}",
        "{\"email\":\"a#b?c/d@e.f\",\"username\":\"../../etc\",\"userId\":\"x#y\",\"token\":\"\\u0000\",\"refreshToken\":\"" + new string('r', 5000) + "\"}",
        "{\"name\":\"" + new string('n', 100_000) + "\",\"scopes\":[\"profile:read\"]}",
        // Lone UTF-16 surrogates parse as JSON but are no text: every field a handler might read or store holds one.
        """{"name":"\ud800","title":"\udc00","email":"\ud800@x.io","query":"\ud800","message":"\ud800","content":"\ud800","model":"\ud800","messages":[{"role":"user","content":"\ud800"}],"documents":[{"content":"\ud800"}],"inputs":{"a":"\ud800"},"\ud800":1}""",
    ];

    private static readonly string[] PathValues = ["x%23y", "..%2F..", "%01%0A", new string('z', 600), "ws_does-not-exist"];

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task EveryEndpoint_WithHostileBodiesPathsAndHeaders_AnswersBelow500()
    {
        var user = await _client.RegisterAsync();
        var document = JsonNode.Parse(await _client.GetStringAsync("/api/v1/openapi.json"))!;
        var failures = new List<string>();

        foreach (var (template, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, _) in item!.AsObject())
            {
                foreach (var pathValue in PathValues)
                {
                    var url = System.Text.RegularExpressions.Regex.Replace(template, @"\{[^}]+\}", pathValue);
                    foreach (var body in method is "post" or "put" ? Bodies : new string?[] { null })
                    {
                        var headers = new Dictionary<string, string> { ["X-Workspace-Id"] = "ws#evil", ["Idempotency-Key"] = "k-" + Guid.NewGuid() };
                        var response = await _client.ApiSendAsync(new HttpMethod(method.ToUpperInvariant()), url, body, user.AccessToken, headers);
                        if ((int)response.Status >= 500 || (response.Body?.ToJsonString().Contains("   at ", StringComparison.Ordinal) ?? false))
                        {
                            failures.Add($"{method.ToUpperInvariant()} {url} body={body?[..Math.Min(40, body.Length)]} → {(int)response.Status} {response.Body?.ToJsonString()}");
                        }
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData("""{"name":"\ud800 alone"}""")]
    [InlineData("""{"name":"low \udc00 first"}""")]
    [InlineData("""{"name":"high \ud83d then letter \u0041"}""")]
    [InlineData("""{"name":"ends high \ud83d"}""")]
    [InlineData("""{"\ud800":"in a property name","name":"x"}""")]
    public async Task JsonBody_WithALoneSurrogate_Is400BeforeAnythingIsStored(string body)
    {
        var user = await _client.RegisterAsync();

        var refused = await _client.ApiSendAsync(HttpMethod.Post, "/api/v1/tasks", body, user.AccessToken);
        var tasks = await _client.ApiGetAsync("/api/v1/tasks", user.AccessToken);

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains("lone UTF-16 surrogate", refused.Body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(tasks.Data.AsArray());
    }

    [Fact]
    public async Task JsonBody_WithPairedSurrogatesOrAnEscapedBackslash_IsText()
    {
        var user = await _client.RegisterAsync();

        var emoji = await _client.ApiSendAsync(HttpMethod.Post, "/api/v1/tasks", """{"name":"party \ud83c\udf89"}""", user.AccessToken);
        var literal = await _client.ApiSendAsync(HttpMethod.Post, "/api/v1/tasks", """{"name":"a path C:\\ud800"}""", user.AccessToken);

        Assert.Equal(HttpStatusCode.Created, emoji.Status);
        Assert.Equal("party \U0001F389", emoji.Data["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Created, literal.Status);
        Assert.Equal("a path C:\\ud800", literal.Data["name"]!.GetValue<string>());
    }
}
