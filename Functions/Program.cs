using Serverless.Functions;
using Serverless.Functions.Hosting;
using Serverless.Functions.Platform.Telemetry;

// One executable, two modes. The Functions host starts it as a .NET isolated worker; started any other way it is the
// standalone ASP.NET Core app with the built-in trigger host.
if (RunMode.IsFunctionsWorker(args))
{
    WorkerHost.Run(args);
    return;
}

var builder = WebApplication.CreateBuilder(args);
builder.AddStandaloneServer();
builder.AddPlatform(standalone: true);
builder.AddPlatformTelemetry();
var app = builder.Build();
app.MapPlatform();

if (args is [HttpFunctionsGenerator.Command, ..])
{
    HttpFunctionsGenerator.Write(((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints), args.Length > 1 ? args[1] : null);
    return;
}

HostingLog.Mode(app.Logger, "standalone (ASP.NET Core on Kestrel, built-in trigger host)");
app.Run();

/// <summary>Entry point; public so the test host can start the app.</summary>
public partial class Program;
