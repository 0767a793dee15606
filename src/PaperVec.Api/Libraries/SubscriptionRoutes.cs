using PaperVec.Api.Hosting;
using PaperVec.Api.Http;
using PaperVec.Api.Security;
using PaperVec.Storage;

namespace PaperVec.Api.Libraries;

/// <summary>PUT /libraries/{name}/subscription: where to mail the library's top papers of each new digest.</summary>
public sealed record SubscriptionPut(string? Email, int? Top);

/// <summary>A library's subscription as the API shows it.</summary>
public sealed record SubscriptionView(string Library, string Email, int Top, DateTimeOffset Since, IReadOnlyList<string> Mailed);

/// <summary>PUT/GET/DELETE /libraries/{name}/subscription: e-mail digests of a library (sent by the server's <see cref="DigestMailer"/>).</summary>
public static class SubscriptionRoutes
{
    public const int DefaultTop = 10;

    public static void Map(IEndpointRouteBuilder app)
    {
        var subscription = app.MapGroup("/libraries/{name}/subscription").WithTags("Libraries");
        subscription.MapPut("", async (string name, HttpRequest request, ServedPapers served, ServerLimits limits) =>
            {
                string text = await RequestBody.ReadTextAsync(request, limits.MaxBodyBytes, "the request body");
                var body = StrictJson.Read<SubscriptionPut>(text, "{\"email\": \"reader@example.org\", \"top\": 10}");
                if (body.Email == null) throw ApiProblemException.BadRequest("email is required: {\"email\": \"reader@example.org\", \"top\": 10}");
                var library = await served.Collection.SubscribeAsync(name, body.Email, body.Top ?? DefaultTop) ?? throw ApiProblemException.NotFound($"no library named '{name}'");
                return TypedResults.Ok(View(library));
            })
            .RequireApiKey()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Mail the library's top papers (top, default 10) of each digest ingested from now on to email: {\"email\": \"...\", \"top\": 10}");
        subscription.MapGet("", async (string name, ServedPapers served) =>
            {
                var library = await served.Collection.LibraryAsync(name) ?? throw ApiProblemException.NotFound($"no library named '{name}'");
                return TypedResults.Ok(View(library));
            })
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("The library's subscription and the digests already mailed");
        subscription.MapDelete("", async (string name, ServedPapers served) =>
            {
                var library = await served.Collection.LibraryAsync(name) ?? throw ApiProblemException.NotFound($"no library named '{name}'");
                if (library.Subscription == null) throw ApiProblemException.NotFound($"library '{name}' has no subscription");
                await served.Collection.SubscribeAsync(name, null, 0);
                return TypedResults.NoContent();
            })
            .RequireApiKey()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("End the library's e-mail digests");
    }

    static SubscriptionView View(ReaderLibrary library) =>
        library.Subscription is { } s ? new(library.Name, s.Email, s.Top, s.Since, library.Mailed)
        : throw ApiProblemException.NotFound($"library '{library.Name}' has no subscription");
}
