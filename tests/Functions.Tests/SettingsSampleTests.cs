using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests;

/// <summary>local.settings.sample.json lists every setting the app binds, so an operator sees them all.</summary>
public sealed class SettingsSampleTests
{
    [Fact]
    public void Sample_ListsEveryBoundOption_AndTheFunctionsHostBasics()
    {
        var values = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "local.settings.sample.json")))!["Values"]!.AsObject();

        var missing = BoundSettings.All.Where(k => !BoundSettings.IsPresent(k, values.Select(v => v.Key))).ToList();

        Assert.True(missing.Count == 0, "Missing from local.settings.sample.json: " + string.Join(", ", missing));
        Assert.Equal("dotnet-isolated", values["FUNCTIONS_WORKER_RUNTIME"]!.GetValue<string>());
        Assert.Equal("UseDevelopmentStorage=true", values["AzureWebJobsStorage"]!.GetValue<string>());
    }
}
