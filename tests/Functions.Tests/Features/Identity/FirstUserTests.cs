using Microsoft.Extensions.DependencyInjection;
using System.Net;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Identity;

public sealed class FirstUserTests : IDisposable
{
    private readonly PlatformFactory _factory = new();

    [Fact]
    public async Task Register_OnlyTheFirstOfConcurrentRegistrations_BecomesPlatformAdmin()
    {
        var client = _factory.CreateClient();

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            client.ApiPostAsync("/api/v1/auth/register", new { email = $"racer{i}@example.com", password = "Sup3rsecret" })));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.Status));
        Assert.Single(responses, r => r.Data["isPlatformAdmin"]!.GetValue<bool>());
    }

    public void Dispose() => _factory.Dispose();
}

public sealed class ConcurrentRegistrationTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    [Fact]
    public async Task Register_SameEmailConcurrently_CreatesExactlyOneAccount()
    {
        var client = factory.CreateClient();
        for (var round = 0; round < 5; round++)
        {
            var email = $"race-{Guid.NewGuid():N}@example.com";

            var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
                client.ApiPostAsync("/api/v1/auth/register", new { email, password = "Sup3rsecret" })));

            Assert.Single(responses, r => r.Status == HttpStatusCode.Created);
            Assert.All(responses.Where(r => r.Status != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.Conflict, r.Status));
        }
    }
}

public sealed class AbandonedRegistrationTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    [Fact]
    public async Task Register_AfterACrashMidRegistration_ReclaimsTheEmailOnlyOnceTheClaimIsOld()
    {
        var client = factory.CreateClient();
        var email = $"crashed-{Guid.NewGuid():N}@example.com";
        // What a registration that died after claiming the email, before writing its user, leaves behind.
        var logins = new Serverless.Functions.Platform.Storage.EntityTable<Serverless.Functions.Features.Identity.LoginRecord>(
            factory.Services.GetRequiredService<Serverless.Orchestrations.Ports.IEntityStore>(), "userlogins");
        await logins.InsertAsync("email", Serverless.Functions.Platform.Security.Secrets.Hash(email),
            new Serverless.Functions.Features.Identity.LoginRecord("usr_never_written", factory.Clock.GetUtcNow()), CancellationToken.None);

        var tooSoon = await client.ApiPostAsync("/api/v1/auth/register", new { email, password = "Sup3rsecret" });
        factory.Clock.Advance(TimeSpan.FromMinutes(3));
        var later = await client.ApiPostAsync("/api/v1/auth/register", new { email, password = "Sup3rsecret" });

        Assert.Equal(HttpStatusCode.Conflict, tooSoon.Status);
        Assert.Equal(HttpStatusCode.Created, later.Status);
        Assert.Equal(HttpStatusCode.OK, (await client.ApiPostAsync("/api/v1/auth/login", new { email, password = "Sup3rsecret" })).Status);
    }
}
