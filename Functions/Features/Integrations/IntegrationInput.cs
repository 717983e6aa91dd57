using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Integrations;

/// <summary>
/// The body of storing and updating a credential: <c>credentials</c> holds the provider's fields by name (on update,
/// the fields given replace the stored ones and <c>null</c> or "" removes an optional one).
/// </summary>
internal sealed record IntegrationRequest(string? Provider, string? Name, JsonObject? Credentials, DateTimeOffset? ExpiresAt);

internal static partial class IntegrationInput
{
    public const int MaxNameLength = 100;
    private const int MaxValueLength = 4000;

    /// <summary>Headers a credential may not set: they frame the request, or the platform sets them.</summary>
    private static readonly string[] ReservedHeaders =
        ["host", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive", "expect", "idempotency-key"];

    /// <summary><paramref name="current"/> with the values of <paramref name="given"/> applied; problems are recorded on <paramref name="check"/>.</summary>
    public static Dictionary<string, string> Apply(Validator check, IntegrationProvider provider, JsonObject? given, IReadOnlyDictionary<string, string> current)
    {
        var values = new Dictionary<string, string>(current, StringComparer.Ordinal);
        foreach (var (name, value) in given ?? [])
        {
            var path = "credentials." + name;
            if (provider.Field(name) is null)
            {
                check.Add(path, $"{provider.Name} credentials have no field '{name}'; its fields are {string.Join(", ", provider.Fields.Select(f => f.Name))}.");
            }
            else if (value is null || value.GetValueKind() == JsonValueKind.String && value.GetValue<string>().Length == 0)
            {
                values.Remove(name);
            }
            else if (value.GetValueKind() != JsonValueKind.String)
            {
                check.Add(path, $"{path} must be a string.");
            }
            else
            {
                values[name] = value.GetValue<string>();
            }
        }

        return values;
    }

    /// <summary>Checks a credential's complete values against its provider: required fields, lengths, URLs, header and parameter names.</summary>
    public static Validator CheckValues(Validator check, IntegrationProvider provider, IReadOnlyDictionary<string, string> values)
    {
        foreach (var field in provider.Fields)
        {
            var path = "credentials." + field.Name;
            if (!values.TryGetValue(field.Name, out var value))
            {
                check.When(field.Required, path, $"{path} is required: {field.Description}");
                continue;
            }

            check.MaxLength(path, value, MaxValueLength)
                // A line break in a header value would let a credential write further headers.
                .When(value.Any(char.IsControl), path, $"{path} must not contain control characters (line breaks, tabs).");
        }

        if (values.TryGetValue(IntegrationProvider.BaseUrlField, out var baseUrl))
        {
            check.When(!IsOrigin(baseUrl), "credentials.baseUrl",
                "credentials.baseUrl must be an absolute http or https URL without user info, query or fragment (at most 2000 characters).");
        }

        if (values.TryGetValue(IntegrationProvider.TestUrlField, out var testUrl))
        {
            check.When(!PrivateNetworkGuard.IsHttpUrl(testUrl) || baseUrl is null || !PrivateNetworkGuard.IsHttpUrl(baseUrl) || !SameOrigin(testUrl, baseUrl), "credentials.testUrl",
                "credentials.testUrl must be an absolute http or https URL on the origin of baseUrl (the credential is sent to nothing else).");
        }

        if (values.TryGetValue("headerName", out var header))
        {
            check.When(!HeaderToken().IsMatch(header) || header.Length > 100 || ReservedHeaders.Contains(header.ToLowerInvariant())
                || header.StartsWith("content-", StringComparison.OrdinalIgnoreCase), "credentials.headerName",
                $"credentials.headerName must be an HTTP header name (letters, digits and !#$%&'*+-.^_`|~; at most 100), not Content-* nor one of {string.Join(", ", ReservedHeaders)}.");
        }

        if (values.TryGetValue("paramName", out var parameter))
        {
            check.MaxLength("credentials.paramName", parameter, 100);
        }

        return check;
    }

    /// <summary>The values a record keeps in the clear (the provider's non-secret fields) and those it seals.</summary>
    public static (Dictionary<string, string> Fields, Dictionary<string, string> Secrets) Split(IntegrationProvider provider, IReadOnlyDictionary<string, string> values)
    {
        var secret = provider.SecretFields.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        return (values.Where(v => !secret.Contains(v.Key)).ToDictionary(StringComparer.Ordinal),
                values.Where(v => secret.Contains(v.Key)).ToDictionary(StringComparer.Ordinal));
    }

    public static string KnownProviders => string.Join(", ", IntegrationProviders.All.Select(p => p.Id));

    private static bool IsOrigin(string url) =>
        PrivateNetworkGuard.IsHttpUrl(url) && new Uri(url) is { Query.Length: 0, Fragment.Length: 0 };

    private static bool SameOrigin(string a, string b) =>
        Uri.Compare(new Uri(a), new Uri(b), UriComponents.SchemeAndServer, UriFormat.SafeUnescaped, StringComparison.OrdinalIgnoreCase) == 0;

    [GeneratedRegex(@"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")]
    private static partial Regex HeaderToken();
}

/// <summary>A stored credential as shown: its non-secret fields and the names of its secret ones, never their values.</summary>
internal sealed record IntegrationDto(
    string Id, string Provider, string Type, string Name, IReadOnlyDictionary<string, string> Fields, IReadOnlyList<string> SecretFields,
    IReadOnlyList<string> Hosts, string Status, DateTimeOffset? ExpiresAt, DateTimeOffset? ExpiredAt, string? ExpiredReason,
    DateTimeOffset? LastTestedAt, bool? LastTestOk, int? LastTestStatus, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static IntegrationDto From(IntegrationRecord r, DateTimeOffset now)
    {
        var provider = IntegrationProviders.Find(r.Provider);
        return new(r.Id, r.Provider, provider?.Type ?? "unknown", r.Name, r.Fields, r.SecretFields, provider?.BoundTo(r.Fields) ?? [], r.StatusAt(now),
            r.ExpiresAt, r.ExpiredAt, r.ExpiredReason, r.LastTestedAt, r.LastTestOk, r.LastTestStatus, r.CreatedBy, r.CreatedAt, r.UpdatedAt);
    }
}
