using System.Text.Json.Nodes;

namespace Serverless.Orchestrations.Ports;

/// <summary>
/// Stored credentials (a workspace's integrations) used by reference: nodes and plugins name a credential id, never
/// hold its secret. The resolver looks the credential up in the caller's workspace only, checks that the target is a
/// host the credential is bound to and that it has not expired, and answers what to add to the request.
/// </summary>
public interface ICredentialResolver
{
    /// <summary>
    /// What to add to a request for <paramref name="target"/> with credential <paramref name="credentialId"/> of
    /// <paramref name="workspaceId"/>; a refusal (see <see cref="ResolvedCredential.Refusal"/>) when the credential is
    /// not there, is bound to other hosts, has expired or cannot be read. Never throws for those.
    /// </summary>
    /// <param name="workspaceId">The workspace the caller acts in (a run's workspace); other workspaces' credentials do not exist for it.</param>
    /// <param name="credentialId">The credential's id.</param>
    /// <param name="target">The URL the request goes to.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    Task<ResolvedCredential> ResolveAsync(string workspaceId, string credentialId, Uri target, CancellationToken cancellationToken);

    /// <summary>
    /// Tells the store the credential's upstream refused it (<paramref name="statusCode"/> 401 or 403; others are
    /// ignored): the credential is marked expired and <c>credential.expired</c> is recorded once per secret (until
    /// the credential is updated). Never throws for a failure to record.
    /// </summary>
    /// <param name="credential">The credential as it was resolved for the refused request.</param>
    /// <param name="statusCode">The upstream's status code.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    Task ReportRejectedAsync(ResolvedCredential credential, int statusCode, CancellationToken cancellationToken);
}

/// <summary>Why a credential was not handed out.</summary>
/// <param name="Code">One of <see cref="CredentialRefusals"/>' codes (what a node fails with).</param>
/// <param name="Message">For people; names the credential and the host, never a secret.</param>
public sealed record CredentialRefusal(string Code, string Message);

/// <summary>The codes of <see cref="CredentialRefusal"/>.</summary>
public static class CredentialRefusals
{
    /// <summary>No credential with that id in the workspace (never created, deleted, or another workspace's).</summary>
    public const string NotFound = "CREDENTIAL_NOT_FOUND";

    /// <summary>The target is not a host the credential is bound to; nothing was attached.</summary>
    public const string HostNotAllowed = "CREDENTIAL_HOST_NOT_ALLOWED";

    /// <summary>The credential's <c>expiresAt</c> has passed.</summary>
    public const string Expired = "CREDENTIAL_EXPIRED";

    /// <summary>The stored secret cannot be decrypted (the platform's key changed); store the credential again.</summary>
    public const string Unreadable = "CREDENTIAL_UNREADABLE";

    /// <summary>The host runs without a credential store.</summary>
    public const string Unavailable = "CREDENTIALS_UNAVAILABLE";

    /// <summary>Whether an upstream status means the credential itself was refused (what <see cref="ICredentialResolver.ReportRejectedAsync"/> reports).</summary>
    /// <param name="statusCode">An HTTP status code.</param>
    public static bool IsRejection(int statusCode) => statusCode is 401 or 403;
}

/// <summary>
/// A credential resolved for one target: the headers and query parameters to add, or why not. It holds secrets:
/// never log, serialize or return it (its <see cref="ToString"/> names only the credential).
/// </summary>
public sealed class ResolvedCredential
{
    private const string Redacted = "[REDACTED]";

    private ResolvedCredential(string workspaceId, string credentialId, CredentialRefusal? refusal)
    {
        WorkspaceId = workspaceId;
        CredentialId = credentialId;
        Refusal = refusal;
    }

    /// <summary>The workspace the credential belongs to.</summary>
    public string WorkspaceId { get; }

    /// <summary>The credential's id.</summary>
    public string CredentialId { get; }

    /// <summary>Why it was refused; null when it may be used.</summary>
    public CredentialRefusal? Refusal { get; }

    /// <summary>The catalog provider of the credential (null when refused before it was known).</summary>
    public string? Provider { get; private init; }

    /// <summary>Which stored secret this is (opaque): a rejection report marks only the secret that was refused, not one stored since.</summary>
    public string Version { get; private init; } = "";

    /// <summary>The origin (scheme, host, port) it was resolved for; <see cref="ApplyTo"/> refuses requests to any other.</summary>
    public Uri? Target { get; private init; }

    /// <summary>Headers that carry the secret; they replace a header of the same name.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; private init; } = [];

    /// <summary>Headers the provider needs beside the secret (e.g. an API version); added only when the request has none of that name.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> DefaultHeaders { get; private init; } = [];

    /// <summary>Query parameters to add (replacing one of the same name).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Query { get; private init; } = [];

    /// <summary>The secret values as sent (raw and as rendered into headers), to scrub from anything shown.</summary>
    private IReadOnlyList<string> Secrets { get; init; } = [];

    /// <summary>A usable credential.</summary>
    /// <param name="workspaceId">Its workspace.</param>
    /// <param name="credentialId">Its id.</param>
    /// <param name="provider">Its catalog provider.</param>
    /// <param name="version">Which stored secret this is (opaque).</param>
    /// <param name="target">The URL it was resolved for.</param>
    /// <param name="headers">Headers carrying the secret.</param>
    /// <param name="defaultHeaders">Other headers the provider needs.</param>
    /// <param name="query">Query parameters to add.</param>
    /// <param name="secrets">The secret values (raw and rendered), for <see cref="Redact(string)"/>.</param>
    public static ResolvedCredential Usable(
        string workspaceId, string credentialId, string provider, string version, Uri target,
        IReadOnlyList<KeyValuePair<string, string>> headers, IReadOnlyList<KeyValuePair<string, string>> defaultHeaders,
        IReadOnlyList<KeyValuePair<string, string>> query, IEnumerable<string> secrets) =>
        new(workspaceId, credentialId, null)
        {
            Provider = provider,
            Version = version,
            Target = target,
            Headers = headers,
            DefaultHeaders = defaultHeaders,
            Query = query,
            // Longest first, so a rendered header ("Bearer <token>") is scrubbed whole before the token inside it.
            Secrets = [.. secrets.Where(s => s.Length >= 4).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length)],
        };

    /// <summary>A refusal.</summary>
    /// <param name="workspaceId">The workspace asked in.</param>
    /// <param name="credentialId">The credential asked for.</param>
    /// <param name="code">One of <see cref="CredentialRefusals"/>' codes.</param>
    /// <param name="message">Why, for people; never a secret.</param>
    public static ResolvedCredential Refused(string workspaceId, string credentialId, string code, string message) =>
        new(workspaceId, credentialId, new CredentialRefusal(code, message));

    /// <summary>
    /// Adds the credential to <paramref name="request"/>: secret headers replace same-named ones, default headers fill
    /// in, query parameters are appended. Throws when the credential was refused or the request goes to another
    /// origin than the one it was resolved for (that would send the secret elsewhere).
    /// </summary>
    /// <param name="request">The request, with its final <see cref="HttpRequestMessage.RequestUri"/>.</param>
    public void ApplyTo(HttpRequestMessage request)
    {
        if (Refusal is not null || Target is null)
        {
            throw new InvalidOperationException($"Credential {CredentialId} was refused ({Refusal?.Code}); it cannot be applied.");
        }

        if (request.RequestUri is not { IsAbsoluteUri: true } uri || Uri.Compare(uri, Target, UriComponents.SchemeAndServer, UriFormat.SafeUnescaped, StringComparison.OrdinalIgnoreCase) != 0)
        {
            throw new InvalidOperationException($"Credential {CredentialId} was resolved for {Target.GetLeftPart(UriPartial.Authority)}, not for this request's origin.");
        }

        foreach (var (name, value) in Headers)
        {
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }

        foreach (var (name, value) in DefaultHeaders)
        {
            if (!request.Headers.Contains(name))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        if (Query.Count > 0)
        {
            var builder = new UriBuilder(uri);
            var names = Query.Select(q => q.Key).ToHashSet(StringComparer.Ordinal);
            var kept = builder.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
                .Where(pair => !names.Contains(Uri.UnescapeDataString(pair.Split('=', 2)[0])));
            var added = Query.Select(q => Uri.EscapeDataString(q.Key) + "=" + Uri.EscapeDataString(q.Value));
            builder.Query = string.Join('&', kept.Concat(added));
            request.RequestUri = builder.Uri;
        }
    }

    /// <summary><paramref name="text"/> with every secret of the credential replaced by <c>[REDACTED]</c> (an upstream may echo what it received).</summary>
    /// <param name="text">Text to show.</param>
    public string Redact(string text)
    {
        foreach (var secret in Secrets)
        {
            text = text.Replace(secret, Redacted, StringComparison.Ordinal);
        }

        return text;
    }

    /// <summary>A copy of <paramref name="node"/> whose strings (values and property names) carry no secret of the credential.</summary>
    /// <param name="node">A JSON value to show (a node's output).</param>
    public JsonNode? Redact(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject obj when Secrets.Count > 0:
                var redacted = new JsonObject();
                foreach (var (name, value) in obj)
                {
                    // Two names that differ only in a secret become one: the later wins rather than the copy failing.
                    redacted[Redact(name)] = Redact(value);
                }

                return redacted;
            case JsonArray array when Secrets.Count > 0:
                return new JsonArray([.. array.Select(Redact)]);
            case JsonValue value when Secrets.Count > 0 && value.TryGetValue<string>(out var text):
                return JsonValue.Create(Redact(text));
            default:
                return node.DeepClone();
        }
    }

    /// <summary>Names the credential only.</summary>
    public override string ToString() => Refusal is null ? $"credential {CredentialId} ({Provider})" : $"credential {CredentialId} (refused: {Refusal.Code})";
}

/// <summary>Using a <see cref="ICredentialResolver"/> on an <see cref="HttpRequestMessage"/> (what a node or plugin does).</summary>
public static class CredentialRequests
{
    /// <summary>
    /// Resolves <paramref name="credentialId"/> for the request's URL and, when usable, applies it (see
    /// <see cref="ResolvedCredential.ApplyTo"/>). A refused credential adds nothing; the caller fails with its
    /// <see cref="ResolvedCredential.Refusal"/>. Keep the result: after the response, pass it to
    /// <see cref="ReportIfRejectedAsync"/> and scrub what is shown with <see cref="ResolvedCredential.Redact(string)"/>.
    /// </summary>
    /// <param name="resolver">The credential store.</param>
    /// <param name="workspaceId">The workspace the caller acts in.</param>
    /// <param name="credentialId">The credential's id.</param>
    /// <param name="request">The request, with its final absolute URL.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    public static async Task<ResolvedCredential> AttachAsync(
        this ICredentialResolver resolver, string workspaceId, string credentialId, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var target = request.RequestUri is { IsAbsoluteUri: true } uri ? uri : throw new ArgumentException("The request needs an absolute URL.", nameof(request));
        var credential = await resolver.ResolveAsync(workspaceId, credentialId, target, cancellationToken);
        if (credential.Refusal is null)
        {
            credential.ApplyTo(request);
        }

        return credential;
    }

    /// <summary>Reports a 401 or 403 answer to a request that carried <paramref name="credential"/>; other statuses are ignored.</summary>
    /// <param name="resolver">The credential store.</param>
    /// <param name="credential">The credential the request carried.</param>
    /// <param name="statusCode">The answer's status code.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public static Task ReportIfRejectedAsync(this ICredentialResolver resolver, ResolvedCredential credential, int statusCode, CancellationToken cancellationToken) =>
        credential.Refusal is null && CredentialRefusals.IsRejection(statusCode)
            ? resolver.ReportRejectedAsync(credential, statusCode, cancellationToken)
            : Task.CompletedTask;
}
