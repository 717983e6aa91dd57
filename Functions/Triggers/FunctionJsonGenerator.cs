using System.Text.Json;
using System.Text.Json.Nodes;

namespace Serverless.Functions.Triggers;

/// <summary>
/// Writes one <c>{Name}/function.json</c> (httpTrigger in, http out) per endpoint of the app's endpoint table,
/// and removes HTTP function folders whose endpoint is gone. Timer and queue functions are written by hand.
/// Run: <c>dotnet run --project Functions -- generate-functions Functions</c>.
/// </summary>
internal static class FunctionJsonGenerator
{
    public const string Command = "generate-functions";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The function.json text of every HTTP function, by function name.</summary>
    public static SortedDictionary<string, string> Render(IEnumerable<Endpoint> endpoints)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var endpoint in endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<NotAFunction>() is not null || endpoint.Metadata.GetMetadata<HttpMethodMetadata>() is not { } methods)
            {
                continue;
            }

            var name = endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName
                ?? throw new InvalidOperationException($"Endpoint {endpoint.RoutePattern.RawText} has no name; give it .WithName(...) so it becomes a function.");
            var json = new JsonObject
            {
                ["bindings"] = new JsonArray(
                    new JsonObject
                    {
                        ["type"] = "httpTrigger",
                        ["direction"] = "in",
                        ["name"] = "req",
                        ["authLevel"] = "anonymous",
                        ["methods"] = new JsonArray([.. methods.HttpMethods.Select(m => (JsonNode)m.ToLowerInvariant())]),
                        ["route"] = (endpoint.RoutePattern.RawText ?? "").Trim('/'),
                    },
                    new JsonObject { ["type"] = "http", ["direction"] = "out", ["name"] = "res" }),
            };
            if (!files.TryAdd(name, json.ToJsonString(Indented).ReplaceLineEndings("\n") + "\n"))
            {
                throw new InvalidOperationException($"Two endpoints are named {name}; function names must be unique.");
            }
        }

        return files;
    }

    public static void Write(IEnumerable<Endpoint> endpoints, string functionsDirectory)
    {
        var files = Render(endpoints);
        if (files.Count == 0)
        {
            // An empty table means the endpoints were read too early, never that the app has none: deleting every
            // function would be the wrong conclusion.
            throw new InvalidOperationException("No HTTP endpoints were found; nothing was written or deleted.");
        }
        foreach (var existing in Directory.GetDirectories(functionsDirectory))
        {
            var path = Path.Combine(existing, "function.json");
            if (File.Exists(path) && IsHttpFunction(path) && !files.ContainsKey(Path.GetFileName(existing)))
            {
                Directory.Delete(existing, recursive: true);
            }
        }

        foreach (var (name, text) in files)
        {
            Directory.CreateDirectory(Path.Combine(functionsDirectory, name));
            File.WriteAllText(Path.Combine(functionsDirectory, name, "function.json"), text);
        }
    }

    public static bool IsHttpFunction(string functionJsonPath) =>
        JsonNode.Parse(File.ReadAllText(functionJsonPath))?["bindings"]?.AsArray().Any(b => b?["type"]?.GetValue<string>() == "httpTrigger") ?? false;
}
