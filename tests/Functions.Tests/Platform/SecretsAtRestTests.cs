using System.Net;
using System.Text;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Platform;

/// <summary>Secrets handed to a caller (API keys, tokens) never reach the store in the clear, not even as kept idempotent answers.</summary>
public sealed class SecretsAtRestTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task IssuedSecrets_AreNotInTheStoreFiles_EvenWhenKeptForIdempotentReplay()
    {
        var user = await _client.RegisterAsync();
        var idempotency = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };

        var created = await _client.ApiPostAsync("/api/v1/user/api-keys", new { name = "k", scopes = new[] { "profile:read" } }, user.AccessToken, idempotency);
        var replayed = await _client.ApiPostAsync("/api/v1/user/api-keys", new { name = "k", scopes = new[] { "profile:read" } }, user.AccessToken, idempotency);
        var refreshed = await _client.ApiPostAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken }, headers: idempotency);

        var secret = created.Data["key"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.Created, replayed.Status);
        Assert.Equal(secret, replayed.Data["key"]!.GetValue<string>());
        var stored = ReadStoreFiles();
        Assert.DoesNotContain(secret, stored);
        Assert.DoesNotContain(user.RefreshToken, stored);
        Assert.DoesNotContain(refreshed.Data["refreshToken"]!.GetValue<string>(), stored);
        Assert.DoesNotContain(user.AccessToken, stored);
        Assert.DoesNotContain(user.Password, stored);
    }

    private string ReadStoreFiles()
    {
        var text = new StringBuilder();
        foreach (var file in Directory.GetFiles(factory.DataDirectory, "*", SearchOption.AllDirectories))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, Encoding.Latin1);
            text.Append(reader.ReadToEnd());
        }

        return text.ToString();
    }
}
