namespace PaperVec.Api.Page;

/// <summary>GET /: the search page, one self-contained HTML file compiled into this assembly (no build step, no CDN).</summary>
public static class PageRoutes
{
    const string Resource = "PaperVec.Api.Page.index.html";

    public static void Map(IEndpointRouteBuilder app)
    {
        byte[] page = Load();
        app.MapGet("/", () => TypedResults.Bytes(page, "text/html; charset=utf-8")).ExcludeFromDescription();
    }

    static byte[] Load()
    {
        using var stream = typeof(PageRoutes).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"{Resource} is not embedded in {typeof(PageRoutes).Assembly.GetName().Name}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
