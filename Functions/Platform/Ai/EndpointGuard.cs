using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Serverless.Functions.Platform.Ai;

/// <summary>
/// Keeps workspace-supplied provider URLs off the platform's own network: loopback, private, link-local and other
/// non-public addresses are refused unless the operator allow-listed the host. Checked when a provider is saved and
/// again on every connection (the address a name resolves to can change after it was saved).
/// </summary>
internal sealed class EndpointGuard(IOptions<ModelsOptions> options)
{
    public bool IsAllowListed(string host) =>
        options.Value.PrivateHostAllowList.Any(h => string.Equals(h, host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase));

    /// <summary>Null when the URL may be used by a workspace provider, else why not.</summary>
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

        return addresses.Length > 0 && addresses.All(IsPublic) ? null : "The URL points to a private, loopback or otherwise internal address.";
    }

    /// <summary>The connect step of the guarded HTTP handler: resolves, refuses internal addresses, connects.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = IsAllowListed(host) ? addresses : [.. addresses.Where(IsPublic)];
        if (allowed.Length == 0)
        {
            throw new HttpRequestException($"Connections to {host} are not allowed for workspace providers.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast))
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224
                || (b[0] == 100 && b[1] >= 64 && b[1] < 128)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] >= 16 && b[1] < 32)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] is 0 or 2)
                || (b[0] == 198 && b[1] is 18 or 19));
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || (b[0] & 0xFE) == 0xFC
                || address.IsIPv6Teredo || (b[0] == 0x20 && b[1] == 0x02));
        }

        return false;
    }
}
