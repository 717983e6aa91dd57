using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Serverless.Functions.Platform.Http;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Functions.Features.Store;

/// <summary>
/// Makes a workflow graph fit for the store. References to the submitter's stored credentials and integrations are
/// stripped (they name things in the submitter's workspace and mean nothing elsewhere; the copy asks for its own).
/// A literal secret (an Authorization or API-key header, a field named like a key or password, a value shaped like a
/// known key or token) is refused with the node and field, never silently removed: removing it would publish a graph
/// that quietly stops working, and keeping it would publish the secret. Template references (<c>{{inputs.key}}</c>) pass.
/// A node that runs another workflow of the workspace (<c>workflowId</c>) is refused too: the copy could not run it.
/// </summary>
internal static partial class SnapshotSanitizer
{
    private static readonly HashSet<string> ReferenceNames = new(StringComparer.Ordinal)
    {
        "credentialid", "credentialids", "credential", "credentials", "integrationid", "integrationids", "connectionid",
    };

    private static readonly HashSet<string> SecretNames = new(StringComparer.Ordinal)
    {
        "authorization", "proxyauthorization", "xapikey", "apikey", "cookie", "xauthtoken", "token", "accesstoken", "refreshtoken",
        "authtoken", "bearertoken", "idtoken", "secret", "clientsecret", "password", "passwd", "privatekey", "secretkey", "accesskey",
        "signingsecret", "webhooksecret",
    };

    private static readonly string[] SecretSuffixes = ["apikey", "secret", "password", "accesstoken", "authtoken", "secretkey", "privatekey"];

    public sealed record Result(WorkflowDefinition Definition, IReadOnlyList<StrippedField> Stripped, IReadOnlyList<FieldError> Refused);

    /// <summary>Where a walk is: the node (null in the inputs schema, where nothing is stripped) and what refusals name.</summary>
    private sealed record Scope(string? NodeId, string FieldPrefix, List<StrippedField> Stripped, List<FieldError> Refused);

    /// <summary>The sanitized graph; the inputs schema (its defaults and examples) is checked for secrets too.</summary>
    public static Result Sanitize(WorkflowDefinition definition, JsonObject? inputsSchema)
    {
        var stripped = new List<StrippedField>();
        var refused = new List<FieldError>();
        var nodes = new List<NodeDefinition>(definition.Nodes.Count);
        foreach (var node in definition.Nodes)
        {
            if (node.Config is not { } config)
            {
                nodes.Add(node);
                continue;
            }

            var copy = (JsonObject)config.DeepClone();
            var scope = new Scope(node.Id, $"definition.nodes[{node.Id}].config.", stripped, refused);
            if (copy["workflowId"] is not null)
            {
                // sub_workflow and loop nodes name another workflow of the submitter's workspace: the store copies one graph.
                refused.Add(new FieldError(scope.FieldPrefix + "workflowId",
                    $"Node '{node.Id}', field 'workflowId': it runs another workflow of your workspace, which a listing cannot bring along; submit a self-contained workflow."));
            }

            Walk(copy, "", scope);
            nodes.Add(node with { Config = copy });
        }

        Walk(inputsSchema, "", new Scope(null, "inputsSchema.", stripped, refused));
        return new Result(definition with { Nodes = nodes }, stripped, refused);
    }

    private static void Walk(JsonNode? node, string path, Scope scope)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj.ToList())
                {
                    var field = path.Length == 0 ? name : $"{path}.{name}";
                    var normalized = Normalize(name);
                    if (scope.NodeId is { } nodeId && ReferenceNames.Contains(normalized))
                    {
                        obj.Remove(name);
                        scope.Stripped.Add(new StrippedField(nodeId, field));
                        continue;
                    }

                    if (value is JsonValue v && v.TryGetValue<string>(out var text) && IsSecretName(normalized) && HasLiteral(text))
                    {
                        scope.Refused.Add(Refusal(scope, field, $"'{name}' holds a literal secret"));
                        continue;
                    }

                    Walk(value, field, scope);
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Walk(array[i], $"{path}[{i}]", scope);
                }

                break;
            case JsonValue value when value.TryGetValue<string>(out var text) && LooksLikeKey(Templates().Replace(text, "")):
                scope.Refused.Add(Refusal(scope, path, "the value looks like a key, token or password"));
                break;
        }
    }

    private static FieldError Refusal(Scope scope, string field, string why) =>
        new(scope.FieldPrefix + field,
            $"{(scope.NodeId is { } nodeId ? $"Node '{nodeId}', field '{field}'" : $"Inputs schema, '{field}'")}: {why}. "
            + "Replace it with an input ({{inputs.name}}) or a stored credential before submitting to the store.");

    private static string Normalize(string name) => new([.. name.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit)]);

    private static bool IsSecretName(string normalized) => SecretNames.Contains(normalized) || SecretSuffixes.Any(s => normalized.EndsWith(s, StringComparison.Ordinal));

    /// <summary>True when something is left once template references and auth scheme words are taken out.</summary>
    private static bool HasLiteral(string value) => SchemeWords().Replace(Templates().Replace(value, ""), "").Trim().Length > 0;

    private static bool LooksLikeKey(string value) => value.Length >= 12 && KeyShapes().IsMatch(value);

    [GeneratedRegex(@"\{\{.*?\}\}", RegexOptions.Singleline)]
    private static partial Regex Templates();

    [GeneratedRegex(@"(?i)\b(bearer|basic|token)\b")]
    private static partial Regex SchemeWords();

    [GeneratedRegex(
        @"\bsk-[A-Za-z0-9_\-]{20,}|\bgh[pousr]_[A-Za-z0-9]{30,}|\bxox[abprs]-[A-Za-z0-9-]{10,}|\bAKIA[0-9A-Z]{16}\b|\bAIza[0-9A-Za-z_\-]{35}"
        + @"|\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}|(?i:\bbearer\s+[A-Za-z0-9._~+/=-]{16,})|(?i:\bbasic\s+[A-Za-z0-9+/=]{12,})"
        + @"|-----BEGIN [A-Z ]*PRIVATE KEY-----|://[^/\s:@]+:[^/\s@]+@")]
    private static partial Regex KeyShapes();
}
