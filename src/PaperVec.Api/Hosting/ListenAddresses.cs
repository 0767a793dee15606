using System.Net;
using Microsoft.AspNetCore.Http;

namespace PaperVec.Api.Hosting;

/// <summary>Which listen URLs reach beyond this machine: those need an API key on writes.</summary>
public static class ListenAddresses
{
    public static bool IsLoopback(string url)
    {
        BindingAddress address;
        try { address = BindingAddress.Parse(url); }
        catch (FormatException) { throw new ServerStartException($"'{url}' is not a listen URL (expected http://HOST:PORT)"); }
        string host = address.Host.Trim('[', ']');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        // Kestrel's IPv6 socket refuses to bind an IPv4 address written as IPv6 (EINVAL, which surfaced as a stack trace): say so before it tries.
        if (IPAddress.TryParse(host, out var mapped) && mapped.IsIPv4MappedToIPv6)
            throw new ServerStartException($"cannot listen on '{url}': {mapped} is an IPv4 address written as IPv6, which cannot be bound; use http://{mapped.MapToIPv4()}:{address.Port}");
        // "*", "+", "0.0.0.0", "::" and every routable address listen for other machines.
        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
    }

    public static IReadOnlyList<string> NonLoopback(IEnumerable<string> urls) => urls.Where(u => !IsLoopback(u)).ToList();
}
