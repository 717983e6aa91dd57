using System.Net;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Identity;

public sealed class ProfileTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task UpdateProfile_ChangesOnlyTheGivenFields()
    {
        var user = await _client.RegisterAsync();

        var updated = await _client.ApiPutAsync("/api/v1/user/profile", new { lastname = "Hopper" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, updated.Status);
        Assert.Equal("Hopper", updated.Data["lastname"]!.GetValue<string>());
        Assert.Equal("Test", updated.Data["name"]!.GetValue<string>());
        Assert.Equal("Hopper", (await _client.ApiGetAsync("/api/v1/user/profile", user.AccessToken)).Data["lastname"]!.GetValue<string>());
    }

    [Fact]
    public async Task UpdateProfile_Username_MovesTheLoginAndRejectsTakenNames()
    {
        var alice = await _client.RegisterAsync();
        var bob = await _client.RegisterAsync();
        var name = "n" + Guid.NewGuid().ToString("N")[..12];

        var renamed = await _client.ApiPutAsync("/api/v1/user/profile", new { username = name }, alice.AccessToken);
        var taken = await _client.ApiPutAsync("/api/v1/user/profile", new { username = name.ToUpperInvariant() }, bob.AccessToken);
        var login = await _client.ApiPostAsync("/api/v1/auth/login", new { username = name, password = alice.Password });

        Assert.Equal(HttpStatusCode.OK, renamed.Status);
        Assert.Equal(HttpStatusCode.Conflict, taken.Status);
        Assert.Equal(alice.Id, login.Data["user"]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Settings_HaveDefaults_AndTakePartialUpdates()
    {
        var user = await _client.RegisterAsync();

        var defaults = await _client.ApiGetAsync("/api/v1/user/settings", user.AccessToken);
        var updated = await _client.ApiPutAsync("/api/v1/user/settings", new { theme = "dark", timezone = "Europe/Paris" }, user.AccessToken);

        Assert.Equal("system", defaults.Data["theme"]!.GetValue<string>());
        Assert.Equal("dark", updated.Data["theme"]!.GetValue<string>());
        Assert.Equal("Europe/Paris", updated.Data["timezone"]!.GetValue<string>());
        Assert.Equal("en", updated.Data["language"]!.GetValue<string>());
    }

    [Fact]
    public async Task Settings_InvalidValues_Are422PerField()
    {
        var user = await _client.RegisterAsync();

        var response = await _client.ApiPutAsync("/api/v1/user/settings", new { theme = "neon", timezone = "Mars/Olympus" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        var fields = response.Body!["error"]!["details"]!.AsArray().Select(d => d!["field"]!.GetValue<string>());
        Assert.Equal(["theme", "timezone"], fields);
    }
}
