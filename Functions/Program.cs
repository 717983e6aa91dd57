using Serverless.Functions;
using Serverless.Functions.Triggers;

var builder = WebApplication.CreateBuilder(args);
builder.AddPlatform();
var app = builder.Build();
app.MapPlatform();

if (args is [FunctionJsonGenerator.Command, ..])
{
    FunctionJsonGenerator.Write(((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints), args.Length > 1 ? args[1] : app.Environment.ContentRootPath);
    return;
}

app.Run();

/// <summary>Entry point; public so the test host can start the app.</summary>
public partial class Program;
