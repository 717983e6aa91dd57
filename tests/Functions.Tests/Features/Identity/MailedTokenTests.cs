using System.Net;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Identity;

/// <summary>Mails travel the real path: the email-outbox queue, drained by the standalone trigger host.</summary>
public sealed class MailedTokenTests(MailedTokenTests.Factory factory) : IClassFixture<MailedTokenTests.Factory>
{
    public sealed class Factory() : PlatformFactory(new Dictionary<string, string?> { ["Triggers:Enabled"] = "true" });

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task ResetPassword_WithMailedToken_ChangesPasswordAndEndsSessions()
    {
        var user = await _client.RegisterAsync();
        await _client.ApiPostAsync("/api/v1/auth/forgot-password", new { email = user.Email });
        var mail = await factory.Mail.WaitForAsync(user.Email, "reset");
        var token = Http.TokenIn(mail.Body);

        var reset = await _client.ApiPostAsync("/api/v1/auth/reset-password", new { token, password = "Brand9newpass" });

        Assert.Equal(HttpStatusCode.OK, reset.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.ApiPostAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password })).Status);
        Assert.Equal(HttpStatusCode.OK, (await _client.ApiPostAsync("/api/v1/auth/login", new { email = user.Email, password = "Brand9newpass" })).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.ApiPostAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken })).Status);
        var again = await _client.ApiPostAsync("/api/v1/auth/reset-password", new { token, password = "Another9pass" });
        Assert.Equal(HttpStatusCode.BadRequest, again.Status);
    }

    [Fact]
    public async Task ResetPassword_WithExpiredToken_Is400()
    {
        var user = await _client.RegisterAsync();
        await _client.ApiPostAsync("/api/v1/auth/forgot-password", new { email = user.Email });
        var token = Http.TokenIn((await factory.Mail.WaitForAsync(user.Email, "reset")).Body);

        factory.Clock.Advance(TimeSpan.FromHours(2));
        var reset = await _client.ApiPostAsync("/api/v1/auth/reset-password", new { token, password = "Brand9newpass" });

        Assert.Equal(HttpStatusCode.BadRequest, reset.Status);
    }

    [Fact]
    public async Task VerifyEmail_WithMailedToken_MarksTheAddressVerifiedOnce()
    {
        var user = await _client.RegisterAsync();
        var token = Http.TokenIn((await factory.Mail.WaitForAsync(user.Email, "confirm")).Body);

        var verified = await _client.ApiPostAsync("/api/v1/auth/verify-email", new { token });
        var reused = await _client.ApiPostAsync("/api/v1/auth/verify-email", new { token });

        Assert.Equal(HttpStatusCode.OK, verified.Status);
        Assert.True(verified.Data["emailVerified"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.BadRequest, reused.Status);
        var profile = await _client.ApiGetAsync("/api/v1/user/profile", user.AccessToken);
        Assert.True(profile.Data["emailVerified"]!.GetValue<bool>());
    }

    [Fact]
    public async Task ResetToken_CannotVerifyEmail()
    {
        var user = await _client.RegisterAsync();
        await _client.ApiPostAsync("/api/v1/auth/forgot-password", new { email = user.Email });
        var token = Http.TokenIn((await factory.Mail.WaitForAsync(user.Email, "reset")).Body);

        var response = await _client.ApiPostAsync("/api/v1/auth/verify-email", new { token });

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
    }
}
