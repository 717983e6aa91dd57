using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace Serverless.Functions.Platform.Storage.AzureStorage;

/// <summary>Signs (Shared Key) or authenticates (bearer token) one attempt of a request, after its headers are final.</summary>
internal interface IStorageAuthorizer
{
    ValueTask AuthorizeAsync(HttpRequestMessage request, StorageService service, CancellationToken cancellationToken);
}

/// <summary>
/// Shared Key: an HMAC-SHA256 over the request's canonical form. Blob and Queue sign the long form (verb,
/// standard headers, every <c>x-ms-</c> header, the resource with every query parameter); Table signs the short
/// form (verb, Content-MD5, Content-Type, date, the resource with only <c>comp</c>).
/// </summary>
internal sealed class SharedKeyAuthorizer(string accountName, byte[] key) : IStorageAuthorizer
{
    public ValueTask AuthorizeAsync(HttpRequestMessage request, StorageService service, CancellationToken cancellationToken)
    {
        var text = StringToSign(request, service, accountName);
        var signature = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(text)));
        request.Headers.Authorization = new AuthenticationHeaderValue("SharedKey", $"{accountName}:{signature}");
        return ValueTask.CompletedTask;
    }

    public static string StringToSign(HttpRequestMessage request, StorageService service, string accountName)
    {
        var uri = request.RequestUri ?? throw new InvalidOperationException("The request has no URI.");
        var content = request.Content?.Headers;
        // Raw header text, exactly as it goes on the wire: a parsed-and-reformatted value could sign differently.
        var contentType = Raw(content, "Content-Type");
        var contentMd5 = Raw(content, "Content-MD5");
        // With a path-style endpoint (Azurite: http://host:port/account) the path already starts with the account,
        // which therefore appears twice in the canonical resource, exactly as the service computes it.
        var resource = new StringBuilder("/").Append(accountName).Append(uri.AbsolutePath);
        var query = ParseQuery(uri.Query);

        if (service == StorageService.Table)
        {
            if (query.TryGetValue("comp", out var comp))
            {
                resource.Append("?comp=").Append(string.Join(',', comp));
            }

            return string.Join('\n', request.Method.Method, contentMd5, contentType, Header(request, "x-ms-date"), resource.ToString());
        }

        foreach (var (name, values) in query.OrderBy(q => q.Key, StringComparer.Ordinal))
        {
            values.Sort(StringComparer.Ordinal);
            resource.Append('\n').Append(name).Append(':').Append(string.Join(',', values));
        }

        var canonicalHeaders = new StringBuilder();
        foreach (var header in request.Headers.NonValidated
            .Where(h => h.Key.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
            .Select(h => (Name: h.Key.ToLowerInvariant(), Value: h.Value.ToString().Trim()))
            .OrderBy(h => h.Name, StringComparer.Ordinal))
        {
            canonicalHeaders.Append(header.Name).Append(':').Append(header.Value).Append('\n');
        }

        // Since version 2015-02-21 a zero Content-Length is signed as the empty string.
        var length = content?.ContentLength is { } l && l > 0 ? l.ToString(CultureInfo.InvariantCulture) : "";
        return string.Join(
            '\n',
            request.Method.Method,
            Raw(content, "Content-Encoding"),
            Raw(content, "Content-Language"),
            length,
            contentMd5,
            contentType,
            "", // Date: x-ms-date is sent instead, and signed among the canonical headers.
            Header(request, "If-Modified-Since"),
            Header(request, "If-Match"),
            Header(request, "If-None-Match"),
            Header(request, "If-Unmodified-Since"),
            Header(request, "Range"),
            canonicalHeaders.ToString() + resource);
    }

    private static string Header(HttpRequestMessage request, string name) => Raw(request.Headers, name);

    private static string Raw(HttpHeaders? headers, string name) =>
        headers is not null && headers.NonValidated.TryGetValues(name, out var values) ? values.ToString() : "";

    private static Dictionary<string, List<string>> ParseQuery(string query)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]).ToLowerInvariant();
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
            if (!result.TryGetValue(name, out var values))
            {
                result[name] = values = [];
            }

            values.Add(value);
        }

        return result;
    }
}

/// <summary>
/// Entra ID: a bearer token for <c>https://storage.azure.com/.default</c> from the app's credential
/// (DefaultAzureCredential: managed identity in Azure, the developer's sign-in locally), cached by <see cref="EntraTokenCache"/>.
/// </summary>
internal sealed class TokenAuthorizer(EntraTokenCache tokens) : IStorageAuthorizer
{
    public const string Scope = "https://storage.azure.com/.default";

    public async ValueTask AuthorizeAsync(HttpRequestMessage request, StorageService service, CancellationToken cancellationToken) =>
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens.GetTokenAsync(Scope, cancellationToken));
}
