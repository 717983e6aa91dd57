using System.Reflection;

namespace Serverless.Functions.Tests.Support;

/// <summary>Every setting the app binds, found by reflection: each writable property of each <c>XOptions</c> type with a <c>Section</c> constant.</summary>
public static class BoundSettings
{
    // Declared first: static initializers run in order, and All is discovered from these.
    private static IReadOnlyList<Type> OptionTypes { get; } = [.. typeof(Program).Assembly.GetTypes()
        .Where(t => t.Name.EndsWith("Options", StringComparison.Ordinal) && t.GetField("Section", BindingFlags.Public | BindingFlags.Static) is not null)];

    /// <summary>The settings in environment form, <c>Section__Key</c>.</summary>
    public static IReadOnlyList<string> All { get; } = Discover();

    /// <summary>
    /// Whether <paramref name="setting"/> is among <paramref name="keys"/>: directly, or for a list setting
    /// (Models__Providers) through its first element's keys (Models__Providers__0__Name …).
    /// </summary>
    public static bool IsPresent(string setting, IEnumerable<string> keys) =>
        keys.Any(k => k == setting || k.StartsWith(setting + "__0__", StringComparison.Ordinal));

    /// <summary>
    /// Whether the app binds <paramref name="key"/> (environment form): the section of an options type, then property
    /// names, with an index after each list (<c>Models__Providers__0__Models__1__Embedding</c>).
    /// </summary>
    public static bool IsBound(string key)
    {
        var parts = key.Split("__");
        var type = OptionTypes.FirstOrDefault(t => SectionOf(t) == parts[0]);
        for (var i = 1; type is not null && i < parts.Length; i++)
        {
            var property = type.GetProperty(parts[i], BindingFlags.Public | BindingFlags.Instance);
            type = property is { CanWrite: true } ? property.PropertyType : null;
            if (type is { IsGenericType: true } && type.GetGenericTypeDefinition() == typeof(List<>))
            {
                // A list is bound through its elements' keys only.
                i++;
                type = i < parts.Length - 1 && int.TryParse(parts[i], out _) ? type.GetGenericArguments()[0] : null;
            }
        }

        return type is not null && parts.Length > 1;
    }

    // A nested settings object of the app's own (Search__AzureAISearch__Endpoint) is bound through its properties.
    private static IEnumerable<string> Keys(Type type, string prefix) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).SelectMany(p =>
            p.PropertyType.Assembly == typeof(Program).Assembly && p.PropertyType.IsClass
                ? Keys(p.PropertyType, $"{prefix}__{p.Name}")
                : [$"{prefix}__{p.Name}"]);

    private static string SectionOf(Type optionsType) => (string)optionsType.GetField("Section")!.GetValue(null)!;

    private static List<string> Discover()
    {
        var settings = OptionTypes.SelectMany(t => Keys(t, SectionOf(t))).Order(StringComparer.Ordinal).ToList();
        Assert.True(settings.Count >= 20, "Option types were not found by reflection.");
        return settings;
    }
}
