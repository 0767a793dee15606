namespace PaperVec.Api.Http;

/// <summary>
/// Ids in a URL path. Digest ids ("2026-03-12/digest") and old-style arXiv ids (cs/0112017) hold a
/// slash; an HTTP client that percent-encodes the path segment sends it as %2F, which Kestrel leaves
/// encoded in the route value (it never decodes %2F, so that it cannot split segments). Every route
/// with an id decodes it here, so the encoded and the plain form name the same thing.
/// </summary>
public static class RouteIds
{
    public static string Decode(string id) => id.Contains('%') ? id.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase) : id;
}
