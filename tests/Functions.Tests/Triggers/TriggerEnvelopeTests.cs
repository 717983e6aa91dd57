using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Triggers;

/// <summary>The Functions host's side of the contract: POST /{FunctionName} with {Data, Metadata} → {Outputs, Logs, ReturnValue}.</summary>
public sealed class TriggerEnvelopeTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<(HttpStatusCode Status, JsonNode Body)> InvokeAsync(string function, object envelope)
    {
        using var response = await _client.PostAsync("/" + function, System.Net.Http.Json.JsonContent.Create(envelope));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    [Fact]
    public async Task TimerInvocation_ReturnsTheHostEnvelope()
    {
        var (status, body) = await InvokeAsync("CleanupExpiredRecords", new
        {
            Data = new { timer = new { IsPastDue = false } },
            Metadata = new { sys = new { MethodName = "CleanupExpiredRecords" } },
        });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.NotNull(body["Outputs"]);
        Assert.Contains("expired records", body["Logs"]![0]!.GetValue<string>());
        Assert.Equal(0, body["ReturnValue"]!["deleted"]!.GetValue<int>());
    }

    [Fact]
    public async Task Cleanup_AfterExpiry_DeletesRefreshTokensSoTheyStopWorking()
    {
        var user = await _client.RegisterAsync();
        factory.Clock.Advance(TimeSpan.FromDays(31));

        var (status, body) = await InvokeAsync("CleanupExpiredRecords", new { Data = new { timer = new { } }, Metadata = new { } });
        var refresh = await _client.ApiPostAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken });

        Assert.Equal(HttpStatusCode.OK, status);
        // The refresh token, its family and the verification mail's token at least.
        Assert.True(body["ReturnValue"]!["deleted"]!.GetValue<int>() >= 3, body.ToJsonString());
        Assert.Equal(HttpStatusCode.Unauthorized, refresh.Status);
    }

    [Fact]
    public async Task QueueInvocation_DeliversTheMessage()
    {
        var to = $"queue-{Guid.NewGuid():N}@example.com";
        var message = new JsonObject { ["to"] = to, ["subject"] = "Hello", ["body"] = "Body" }.ToJsonString();

        var (status, body) = await InvokeAsync("SendEmail", new { Data = new { message }, Metadata = new { DequeueCount = 1, Id = "m1" } });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("Hello", body["Logs"]![0]!.GetValue<string>());
        Assert.Contains(factory.Mail.Sent, m => m.To == to && m.Subject == "Hello");
    }

    [Fact]
    public async Task FailingInvocation_IsNon2xxWithLogs_AndNoStackTrace()
    {
        var (status, body) = await InvokeAsync("SendEmail", new { Data = new { message = "not json" }, Metadata = new { } });

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Contains("SendEmail failed", body["Logs"]![0]!.GetValue<string>());
        Assert.DoesNotContain(" at ", body.ToJsonString());
    }

    [Fact]
    public async Task TriggerEndpoints_AreNotHttpFunctions_NorInTheApiDocument()
    {
        var document = await _client.GetStringAsync("/api/v1/openapi.json");

        Assert.DoesNotContain("CleanupExpiredRecords", document);
        Assert.False(Directory.Exists(Path.Combine(RepoPaths.FunctionsDirectory, "Trigger_SendEmail")));
    }
}
