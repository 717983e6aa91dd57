using System.Text;
using System.Text.RegularExpressions;

namespace Serverless.Functions.Features.Integrations;

/// <summary>A field of a provider's credential: secret fields are sealed at rest and never returned.</summary>
internal sealed record CredentialField(string Name, string Label, bool Secret, bool Required, string Description);

/// <summary>
/// What a credential fills in a request: a header or a query parameter whose name and value are templates over the
/// credential's fields (<c>{token}</c>; <c>{base64:a:b}</c> is base64 of "a:b", HTTP Basic). A fill that names an
/// optional field the credential lacks is left out.
/// </summary>
internal sealed record CredentialFill(string In, string Name, string Value)
{
    public const string Header = "header";
    public const string QueryParameter = "query";
}

/// <param name="Url">A template like the fills' (<c>{testUrl}</c> alone is the field's URL as given).</param>
/// <param name="SuccessField">A JSON field the answer must hold as true to count as success (Slack answers 200 with <c>ok: false</c>).</param>
/// <param name="RejectedErrors">Values of the answer's <c>error</c> field that mean the credential was refused, as a 401 would.</param>
internal sealed record ProviderTest(string Method, string Url, string? SuccessField = null, IReadOnlyList<string>? RejectedErrors = null);

/// <param name="Type">api_key, oauth2, basic or bearer.</param>
/// <param name="Hosts">The hosts (https, port 443; <c>*.example.com</c> for subdomains) the credential may be sent to;
/// empty for the generic providers, whose credential is bound to the origin of its own <c>baseUrl</c>.</param>
internal sealed record IntegrationProvider(
    string Id, string Name, string Type, string Description, IReadOnlyList<CredentialField> Fields, IReadOnlyList<CredentialFill> Fills,
    IReadOnlyList<string> Hosts, ProviderTest? Test, string? DocsUrl)
{
    public const string BaseUrlField = "baseUrl";
    public const string TestUrlField = "testUrl";

    /// <summary>Generic providers point at any API: the credential is bound to its baseUrl's origin.</summary>
    public bool IsGeneric => Hosts.Count == 0;

    public CredentialField? Field(string name) => Fields.FirstOrDefault(f => f.Name == name);

    public IEnumerable<CredentialField> SecretFields => Fields.Where(f => f.Secret);

    /// <summary>Where a credential with these (non-secret) fields may be sent: its baseUrl's origin, or the provider's hosts.</summary>
    public IReadOnlyList<string> BoundTo(IReadOnlyDictionary<string, string> fields) =>
        !IsGeneric ? Hosts
        : fields.TryGetValue(BaseUrlField, out var baseUrl) && Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) ? [uri.GetLeftPart(UriPartial.Authority)]
        : [];

    /// <summary>
    /// Whether a credential with these fields may go with a request to <paramref name="target"/>: the same origin as its
    /// baseUrl (generic providers), or https on the default port to one of the provider's hosts.
    /// </summary>
    public bool Allows(IReadOnlyDictionary<string, string> fields, Uri target)
    {
        if (IsGeneric)
        {
            return fields.TryGetValue(BaseUrlField, out var baseUrl) && Uri.TryCreate(baseUrl, UriKind.Absolute, out var origin)
                && Uri.Compare(origin, target, UriComponents.SchemeAndServer, UriFormat.SafeUnescaped, StringComparison.OrdinalIgnoreCase) == 0;
        }

        return target.Scheme == Uri.UriSchemeHttps && target.IsDefaultPort && Hosts.Any(host => host.StartsWith("*.", StringComparison.Ordinal)
            ? target.IdnHost.EndsWith(host[1..], StringComparison.OrdinalIgnoreCase)
            : string.Equals(host, target.IdnHost, StringComparison.OrdinalIgnoreCase));
    }
}

internal static partial class IntegrationProviders
{
    public static readonly IReadOnlyList<string> Types = ["api_key", "oauth2", "basic", "bearer"];

    private static readonly CredentialField BaseUrl = new(IntegrationProvider.BaseUrlField, "Base URL", false, true,
        "The API's URL; the credential is sent only to this origin (scheme, host and port).");

    private static readonly CredentialField TestUrl = new(IntegrationProvider.TestUrlField, "Test URL", false, false,
        "A URL on the same origin that answers 2xx to a valid credential (GET); POST /api/v1/integrations/{id}/test calls it.");

    private static readonly ProviderTest GenericTest = new("GET", "{testUrl}");

    public static readonly IReadOnlyList<IntegrationProvider> All =
    [
        new("github", "GitHub", "bearer", "A GitHub personal access token (classic or fine-grained) or a GitHub App token.",
            [new("token", "Token", true, true, "ghp_…, github_pat_… or an app installation token.")],
            [new(CredentialFill.Header, "Authorization", "Bearer {token}")],
            ["api.github.com", "uploads.github.com"], new("GET", "https://api.github.com/user"), "https://docs.github.com/en/rest/authentication"),
        new("openai", "OpenAI", "bearer", "An OpenAI API key.",
            [
                new("apiKey", "API key", true, true, "sk-…"),
                new("organization", "Organization", false, false, "An organization id (org-…), sent as OpenAI-Organization."),
            ],
            [new(CredentialFill.Header, "Authorization", "Bearer {apiKey}"), new(CredentialFill.Header, "OpenAI-Organization", "{organization}")],
            ["api.openai.com"], new("GET", "https://api.openai.com/v1/models"), "https://platform.openai.com/docs/api-reference/authentication"),
        new("anthropic", "Anthropic", "api_key", "An Anthropic API key, sent as x-api-key with the API version header.",
            [new("apiKey", "API key", true, true, "sk-ant-…")],
            [new(CredentialFill.Header, "x-api-key", "{apiKey}"), new(CredentialFill.Header, "anthropic-version", "2023-06-01")],
            ["api.anthropic.com"], new("GET", "https://api.anthropic.com/v1/models"), "https://docs.anthropic.com/en/api/overview"),
        new("slack", "Slack", "oauth2", "A Slack bot or user token from an app's OAuth install (xoxb-…, xoxp-…); with token rotation, give expiresAt.",
            [new("token", "Token", true, true, "xoxb-… or xoxp-….")],
            [new(CredentialFill.Header, "Authorization", "Bearer {token}")],
            ["slack.com"], new("POST", "https://slack.com/api/auth.test", "ok", ["invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"]),
            "https://api.slack.com/authentication/token-types"),
        new("notion", "Notion", "bearer", "A Notion integration secret (internal integration token) or an OAuth access token.",
            [new("token", "Token", true, true, "ntn_… or secret_….")],
            [new(CredentialFill.Header, "Authorization", "Bearer {token}"), new(CredentialFill.Header, "Notion-Version", "2022-06-28")],
            ["api.notion.com"], new("GET", "https://api.notion.com/v1/users/me"), "https://developers.notion.com/reference/authentication"),
        new("google", "Google", "oauth2",
            "A Google OAuth 2.0 access token for Google APIs; it lives an hour, so give expiresAt. No test request: what a token may call depends on its scopes.",
            [new("accessToken", "Access token", true, true, "ya29.….")],
            [new(CredentialFill.Header, "Authorization", "Bearer {accessToken}")],
            ["*.googleapis.com"], null, "https://developers.google.com/identity/protocols/oauth2"),
        new("twilio", "Twilio", "basic", "A Twilio account SID with its auth token (HTTP Basic).",
            [
                new("accountSid", "Account SID", false, true, "AC…; also names the account in the test request."),
                new("authToken", "Auth token", true, true, "The account's auth token."),
            ],
            [new(CredentialFill.Header, "Authorization", "Basic {base64:accountSid:authToken}")],
            ["api.twilio.com"], new("GET", "https://api.twilio.com/2010-04-01/Accounts/{accountSid}.json"), "https://www.twilio.com/docs/usage/requests-to-twilio"),
        new("http_bearer", "HTTP bearer token", "bearer", "Any API that takes Authorization: Bearer <token>.",
            [BaseUrl, new("token", "Token", true, true, "The bearer token."), TestUrl],
            [new(CredentialFill.Header, "Authorization", "Bearer {token}")], [], GenericTest, null),
        new("http_basic", "HTTP basic auth", "basic", "Any API that takes a user name and password as HTTP Basic.",
            [BaseUrl, new("username", "User name", false, true, "Shown in lists; only the password is secret."), new("password", "Password", true, true, "The password."), TestUrl],
            [new(CredentialFill.Header, "Authorization", "Basic {base64:username:password}")], [], GenericTest, null),
        new("http_header", "API key in a header", "api_key", "Any API that takes a key in a header of its choosing (X-API-Key …).",
            [BaseUrl, new("headerName", "Header name", false, true, "The header that carries the key, e.g. X-API-Key."), new("apiKey", "API key", true, true, "The key."), TestUrl],
            [new(CredentialFill.Header, "{headerName}", "{apiKey}")], [], GenericTest, null),
        new("http_query", "API key in the query", "api_key", "Any API that takes a key as a query parameter (?api_key=…).",
            [BaseUrl, new("paramName", "Parameter name", false, true, "The query parameter that carries the key, e.g. api_key."), new("apiKey", "API key", true, true, "The key."), TestUrl],
            [new(CredentialFill.QueryParameter, "{paramName}", "{apiKey}")], [], GenericTest, null),
    ];

    public static IntegrationProvider? Find(string? id) => All.FirstOrDefault(p => p.Id == id);

    /// <summary>
    /// The template with the credential's values in; null when it names a field the credential lacks.
    /// <paramref name="escape"/> escapes substituted values (for URLs), except a template that is one field alone.
    /// </summary>
    public static string? Render(string template, IReadOnlyDictionary<string, string> values, Func<string, string>? escape = null)
    {
        var missing = false;
        var whole = Placeholder().Match(template) is { Success: true } m && m.Length == template.Length;
        var rendered = Placeholder().Replace(template, match =>
        {
            var parts = match.Groups[1].Value.Split(':');
            string? value = parts is ["base64", var user, var password] && values.TryGetValue(user, out var u) && values.TryGetValue(password, out var p)
                ? Convert.ToBase64String(Encoding.UTF8.GetBytes(u + ":" + p))
                : parts is [var name] && values.TryGetValue(name, out var v) && v.Length > 0 ? v : null;
            missing |= value is null;
            return value is null ? "" : whole || escape is null ? value : escape(value);
        });
        return missing ? null : rendered;
    }

    /// <summary>The placeholders of a template, each as a template of its own (<c>{token}</c>).</summary>
    public static IEnumerable<string> Placeholders(string template) => Placeholder().Matches(template).Select(m => m.Value);

    [GeneratedRegex(@"\{([A-Za-z0-9_:]+)\}")]
    private static partial Regex Placeholder();
}
