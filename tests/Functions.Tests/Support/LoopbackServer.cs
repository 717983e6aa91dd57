using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Serverless.Functions.Tests.Support;

/// <summary>Real HTTP servers for tests to call: Kestrel on a free 127.0.0.1 port, quiet, started.</summary>
public static class LoopbackServer
{
    /// <summary>
    /// Builds the server, lets <paramref name="configure"/> add its routes, starts it; returns it and its base address.
    /// With <paramref name="certificate"/> it serves https with it instead of http.
    /// </summary>
    public static async Task<(WebApplication App, string Address)> StartAsync(Action<WebApplication> configure, X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        if (certificate is null)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        }

        builder.Logging.ClearProviders();
        var app = builder.Build();
        configure(app);
        await app.StartAsync();
        return (app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }
}
