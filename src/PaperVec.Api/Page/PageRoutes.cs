namespace PaperVec.Api.Page;

/// <summary>GET /, /page.css, /page.js: the reader's page, plain files compiled into this assembly (no build step, no CDN).</summary>
public static class PageRoutes
{
    public static void Map(IEndpointRouteBuilder app)
    {
        Serve(app, "/", "index.html", "text/html; charset=utf-8");
        Serve(app, "/page.css", "page.css", "text/css; charset=utf-8");
        Serve(app, "/page.js", "page.js", "text/javascript; charset=utf-8");
    }

    static void Serve(IEndpointRouteBuilder app, string path, string file, string contentType)
    {
        byte[] bytes = Load("PaperVec.Api.Page." + file);
        app.MapGet(path, () => TypedResults.Bytes(bytes, contentType)).ExcludeFromDescription();
    }

    static byte[] Load(string resource)
    {
        using var stream = typeof(PageRoutes).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"{resource} is not embedded in {typeof(PageRoutes).Assembly.GetName().Name}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
