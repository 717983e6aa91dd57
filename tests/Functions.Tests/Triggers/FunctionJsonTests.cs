using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Routing;
using Serverless.Functions.Tests.Support;
using Serverless.Functions.Triggers;

namespace Serverless.Functions.Tests.Triggers;

/// <summary>The committed function.json files are what the Functions host routes by; they must match the endpoint table.</summary>
public sealed class FunctionJsonTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    [Fact]
    public void CommittedHttpFunctions_MatchTheEndpointTable()
    {
        var expected = FunctionJsonGenerator.Render(factory.Services.GetRequiredService<EndpointDataSource>().Endpoints);
        var committed = Directory.GetDirectories(RepoPaths.FunctionsDirectory)
            .Select(d => Path.Combine(d, "function.json"))
            .Where(File.Exists)
            .Where(FunctionJsonGenerator.IsHttpFunction)
            .ToDictionary(p => Path.GetFileName(Path.GetDirectoryName(p))!, File.ReadAllText);

        var missing = expected.Keys.Except(committed.Keys).ToList();
        var stale = committed.Keys.Except(expected.Keys).ToList();
        var changed = expected.Keys.Intersect(committed.Keys).Where(k => expected[k] != committed[k].ReplaceLineEndings("\n")).ToList();

        const string fix = "Run `dotnet run --project Functions -- generate-functions` and commit the result.";
        Assert.True(missing.Count == 0, $"No function.json for: {string.Join(", ", missing)}. {fix}");
        Assert.True(stale.Count == 0, $"function.json without an endpoint: {string.Join(", ", stale)}. {fix}");
        Assert.True(changed.Count == 0, $"function.json out of date: {string.Join(", ", changed)}. {fix}");
    }

    [Fact]
    public void EveryTriggerFunction_HasAFunctionJson_AndEveryNonHttpFunctionJsonHasAHandler()
    {
        var handlers = factory.Services.GetServices<ITriggerFunction>().Select(f => f.Name).Order().ToList();
        var declared = new FunctionManifest(RepoPaths.FunctionsDirectory).Functions
            .Where(f => f.TriggerType != "httpTrigger").Select(f => f.Name).Order().ToList();

        Assert.Equal(declared, handlers);
    }

    [Fact]
    public void HostJson_DeclaresTheCustomHandlerContract()
    {
        var host = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.FunctionsDirectory, "host.json")))!;

        Assert.True(host["customHandler"]!["enableProxyingHttpRequest"]!.GetValue<bool>());
        Assert.Equal("", host["extensions"]!["http"]!["routePrefix"]!.GetValue<string>());
        Assert.Equal("[4.*, 5.0.0)", host["extensionBundle"]!["version"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(host["customHandler"]!["description"]!["defaultExecutablePath"]!.GetValue<string>()));
    }
}
