using System.Net;
using System.Net.Sockets;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Functions.Platform.Security;

/// <summary>
/// Keeps URLs that workspaces supply (provider endpoints, webhook receivers) off the platform's own network: loopback,
/// private, link-local and other non-public addresses are refused unless the operator allow-listed the host. Checked
/// when the URL is saved and again on every connection (the address a name resolves to can change after it was saved).
/// </summary>
internal class PrivateNetworkGuard(Func<IReadOnlyList<string>> allowList, string usedBy)
{
    /// <summary>Whether a URL someone gave us is an absolute http(s) URL with a host, without credentials in it, of at most 2000 characters.</summary>
    public static bool IsHttpUrl([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? url) =>
        url is { Length: <= 2000 } && Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.IdnHost.Length > 0 && uri.UserInfo.Length == 0;

    public bool IsAllowListed(string host) =>
        allowList().Any(h => string.Equals(h, host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase));

    /// <summary>Null when the URL may be used, else why not.</summary>
    public async Task<string?> CheckAsync(Uri url, CancellationToken cancellationToken)
    {
        if (IsAllowListed(url.IdnHost))
        {
            return null;
        }

        IPAddress[] addresses;
        if (IPAddress.TryParse(url.IdnHost.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                addresses = await Dns.GetHostAddressesAsync(url.IdnHost, timeout.Token);
            }
            catch (Exception exception) when (exception is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return "The host does not resolve.";
            }
        }

        return addresses.Length > 0 && addresses.All(a => !InternalAddresses.IsInternal(a)) ? null : "The URL points to a private, loopback or otherwise internal address.";
    }

    /// <summary>The connect step of a guarded HTTP handler (<c>SocketsHttpHandler.ConnectCallback</c>): resolves, refuses internal addresses, connects.</summary>
    public ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var hostAllowed = IsAllowListed(context.DnsEndPoint.Host);
        return InternalAddresses.ConnectAsync(context.DnsEndPoint, a => hostAllowed || !InternalAddresses.IsInternal(a),
            host => new HttpRequestException($"Connections to {host} are not allowed for {usedBy}."), cancellationToken);
    }
}
