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
