using System.Net;
using PaperVec.Api.Http;

namespace PaperVec.Api.Security;

/// <summary>
/// Without an API key the server answers only connections that arrived on a loopback address,
/// whatever configuration made Kestrel bind: the start-up check refuses such addresses, and this
/// closes the moment between binding and that check (and any binding it could miss).
/// </summary>
public static class LoopbackOnlyWithoutKey
{
    public static IApplicationBuilder UseLoopbackOnlyWithoutKey(this IApplicationBuilder app, ApiKey key) =>
        app.Use((context, next) =>
        {
            if (key.IsRequired || context.Connection.LocalIpAddress is not { } local) return next(context); // in-process test servers have no address
            if (IPAddress.IsLoopback(local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local)) return next(context);
            throw new ApiProblemException(StatusCodes.Status403Forbidden, "this server has no API key, so it answers only on loopback addresses");
        });
}
