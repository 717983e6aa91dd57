using System.Net;
using System.Net.Sockets;

namespace Serverless.Orchestrations.Nodes;

/// <summary>
/// The one rule for where user-supplied URLs may connect (the http_request node, workspace model providers):
/// internal addresses are refused at connect time, after DNS, so a name that later resolves elsewhere cannot
/// sneak past a check made earlier.
/// </summary>
public static class InternalAddresses
{
    /// <summary>
    /// Whether <paramref name="address"/> is one SSRF aims at: loopback, unspecified, private, carrier-grade NAT,
    /// link-local, documentation and benchmark ranges, multicast and broadcast, IPv6 unique-local, site-local,
    /// Teredo and 6to4, and the IPv4-mapped forms of all of these.
    /// </summary>
    public static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
        {
            return true;
        }

        var b = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6Teredo
                || (b[0] & 0xFE) == 0xFC
                || (b[0] == 0x20 && b[1] == 0x02);
        }

        return b[0] switch
        {
            0 or 10 or 127 => true,
            100 => b[1] >= 64 && b[1] <= 127,
            169 => b[1] == 254,
            172 => b[1] >= 16 && b[1] <= 31,
            192 => b[1] == 168 || (b[1] == 0 && b[2] is 0 or 2),
            198 => b[1] is 18 or 19,
            >= 224 => true,
            _ => false,
        };
    }

    /// <summary>
    /// The connect step of a guarded HTTP handler: resolves <paramref name="endPoint"/>, keeps the addresses
    /// <paramref name="allowed"/> accepts, and connects to one of them; none left → the exception <paramref name="refused"/> makes.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, Func<IPAddress, bool> allowed, Func<string, Exception> refused, CancellationToken cancellationToken)
    {
        var host = endPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var usable = addresses.Where(allowed).ToArray();
        if (usable.Length == 0)
        {
            throw refused(host);
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(usable, endPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
