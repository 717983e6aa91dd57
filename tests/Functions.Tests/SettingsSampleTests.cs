using System.Reflection;
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
        var optionTypes = typeof(Program).Assembly.GetTypes()
            .Where(t => t.Name.EndsWith("Options", StringComparison.Ordinal) && t.GetField("Section", BindingFlags.Public | BindingFlags.Static) is not null);

        var expected = optionTypes.SelectMany(t =>
        {
            var section = (string)t.GetField("Section")!.GetValue(null)!;
            return t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => $"{section}__{p.Name}");
        }).ToList();

        Assert.True(expected.Count >= 20, "Option types were not found by reflection.");
        // A list (Models__Providers) appears through its first element's keys (Models__Providers__0__Name …).
        var missing = expected.Where(k => !values.ContainsKey(k) && !values.Any(v => v.Key.StartsWith(k + "__0__", StringComparison.Ordinal))).ToList();
        Assert.True(missing.Count == 0, "Missing from local.settings.sample.json: " + string.Join(", ", missing));
        Assert.Equal("custom", values["FUNCTIONS_WORKER_RUNTIME"]!.GetValue<string>());
        Assert.Equal("UseDevelopmentStorage=true", values["AzureWebJobsStorage"]!.GetValue<string>());
    }
}
