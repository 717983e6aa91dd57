using Microsoft.Extensions.Options;

namespace Serverless.Functions.Features.Identity.OAuth;

/// <summary>Sign-in with external providers (<c>OAuth__Providers__0__Name</c> …) and where the frontend may be sent back to.</summary>
internal sealed class OAuthOptions
{
    public const string Section = "OAuth";

    public List<OAuthProviderSettings> Providers { get; set; } = [];

    /// <summary>Comma-separated frontend URIs a sign-in may end at, compared exactly.</summary>
    public string AllowedRedirectUris { get; set; } = "";

    /// <summary>The API's public base URL, for the callback URL given to providers; empty: taken from the request.</summary>
    public string PublicBaseUrl { get; set; } = "";

    /// <summary>Lets provider endpoints be plain http on a loopback address (tests and local fakes only).</summary>
    public bool AllowHttpLoopback { get; set; }

    public IReadOnlyList<string> RedirectUris =>
        AllowedRedirectUris.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The providers that are on: an entry without a client id (as in the sample settings) is off.</summary>
    public IEnumerable<OAuthProviderSettings> Enabled => Providers.Where(p => !string.IsNullOrWhiteSpace(p.ClientId));

    public OAuthProviderSettings? Find(string name) =>
        Enabled.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.Ordinal));

    public bool IsAllowedEndpoint(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || (AllowHttpLoopback && uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback));
}

/// <summary>One provider as settings give it; empty endpoints take the kind's well-known ones.</summary>
internal sealed class OAuthProviderSettings
{
    /// <summary>The <c>{provider}</c> of the routes.</summary>
    public string Name { get; set; } = "";

    /// <summary><c>github</c>, <c>google</c>, <c>microsoft</c> or <c>oidc</c>.</summary>
    public string Kind { get; set; } = "";

    public string ClientId { get; set; } = "";

    public string ClientSecret { get; set; } = "";

    /// <summary>The issuer whose discovery document is read (<c>oidc</c>; google and microsoft have defaults).</summary>
    public string Authority { get; set; } = "";

    /// <summary>Space-separated; empty: the kind's default.</summary>
    public string Scopes { get; set; } = "";

    public string AuthorizationEndpoint { get; set; } = "";

    public string TokenEndpoint { get; set; } = "";

    public string UserInfoEndpoint { get; set; } = "";

    /// <summary>github: the REST API root.</summary>
    public string ApiBaseUrl { get; set; } = "";
}

internal static class OAuthKinds
{
    public const string GitHub = "github";
    public const string Google = "google";
    public const string Microsoft = "microsoft";
    public const string Oidc = "oidc";

    public static bool UsesOpenIdConnect(string kind) => kind is Google or Microsoft or Oidc;
}

/// <summary>Checks the providers when the app starts, so a mistyped kind or a plain-http endpoint fails loudly.</summary>
internal sealed class OAuthOptionsValidator : IValidateOptions<OAuthOptions>
{
    public ValidateOptionsResult Validate(string? name, OAuthOptions options)
    {
        var problems = new List<string>();
        foreach (var (p, i) in options.Providers.Select((p, i) => (p, i)).Where(e => options.Enabled.Contains(e.p)))
        {
            var at = $"OAuth__Providers__{i}";
            if (p.Name.Length is 0 or > 40 || !p.Name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_'))
            {
                problems.Add($"{at}__Name must be 1 to 40 lowercase letters, digits, '-' or '_'.");
            }

            if (options.Enabled.Count(o => o.Name == p.Name) > 1)
            {
                problems.Add($"{at}__Name '{p.Name}' is used twice.");
            }

            if (p.Kind is not (OAuthKinds.GitHub or OAuthKinds.Google or OAuthKinds.Microsoft or OAuthKinds.Oidc))
            {
                problems.Add($"{at}__Kind must be github, google, microsoft or oidc.");
            }

            if (p.Kind == OAuthKinds.Oidc && string.IsNullOrWhiteSpace(p.Authority))
            {
                problems.Add($"{at}__Authority is required for an oidc provider.");
            }

            foreach (var (key, url) in new[] { ("Authority", p.Authority), ("AuthorizationEndpoint", p.AuthorizationEndpoint), ("TokenEndpoint", p.TokenEndpoint), ("UserInfoEndpoint", p.UserInfoEndpoint), ("ApiBaseUrl", p.ApiBaseUrl) })
            {
                if (url.Length > 0 && !options.IsAllowedEndpoint(url))
                {
                    problems.Add($"{at}__{key} must be an absolute https URL.");
                }
            }
        }

        if (options.PublicBaseUrl.Length > 0 && !Uri.TryCreate(options.PublicBaseUrl, UriKind.Absolute, out _))
        {
            problems.Add("OAuth__PublicBaseUrl must be an absolute URL.");
        }

        foreach (var uri in options.RedirectUris)
        {
            if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.Fragment.Length > 0)
            {
                problems.Add($"OAuth__AllowedRedirectUris: '{uri}' is not an absolute URI without a fragment.");
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
