using System.Reflection;

namespace Serverless.Functions.Tests.Support;

/// <summary>Every setting the app binds, found by reflection: each writable property of each <c>XOptions</c> type with a <c>Section</c> constant.</summary>
public static class BoundSettings
{
    /// <summary>The settings in environment form, <c>Section__Key</c>.</summary>
    public static IReadOnlyList<string> All { get; } = Discover();

    /// <summary>
    /// Whether <paramref name="setting"/> is among <paramref name="keys"/>: directly, or for a list setting
    /// (Models__Providers) through its first element's keys (Models__Providers__0__Name …).
    /// </summary>
    public static bool IsPresent(string setting, IEnumerable<string> keys) =>
        keys.Any(k => k == setting || k.StartsWith(setting + "__0__", StringComparison.Ordinal));

    private static List<string> Discover()
    {
        var optionTypes = typeof(Program).Assembly.GetTypes()
            .Where(t => t.Name.EndsWith("Options", StringComparison.Ordinal) && t.GetField("Section", BindingFlags.Public | BindingFlags.Static) is not null);
        var settings = optionTypes.SelectMany(t =>
        {
            var section = (string)t.GetField("Section")!.GetValue(null)!;
            return t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => $"{section}__{p.Name}");
        }).Order(StringComparer.Ordinal).ToList();
        Assert.True(settings.Count >= 20, "Option types were not found by reflection.");
        return settings;
    }
}
