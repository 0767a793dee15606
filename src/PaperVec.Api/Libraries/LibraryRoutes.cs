using PaperVec.Api.Hosting;
using PaperVec.Api.Http;
using PaperVec.Api.Security;
using PaperVec.Recommend;
using PaperVec.Storage;

namespace PaperVec.Api.Libraries;

/// <summary>PUT /libraries/{name}: the whole library.</summary>
public sealed record LibraryPut(IReadOnlyList<string?>? Liked, IReadOnlyList<string?>? Disliked);

/// <summary>PATCH /libraries/{name}: papers to mark liked or disliked, or to take out.</summary>
public sealed record LibraryPatch(IReadOnlyList<string?>? Like, IReadOnlyList<string?>? Dislike, IReadOnlyList<string?>? Remove);

/// <summary>A reader's library as the API shows it: liked and disliked PaperVec ids, oldest first.</summary>
public sealed record LibraryView(string Name, IReadOnlyList<string> Liked, IReadOnlyList<string> Disliked, DateTimeOffset UpdatedAt)
{
    public static LibraryView Of(ReaderLibrary library) =>
        new(library.Name, library.Liked.Select(PaperIdentity.Format).ToList(), library.Disliked.Select(PaperIdentity.Format).ToList(), library.UpdatedAt);
}

/// <summary>GET /libraries, and PUT/PATCH/GET/DELETE /libraries/{name}: readers' named lists of liked and disliked papers.</summary>
public static class LibraryRoutes
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var libraries = app.MapGroup("/libraries").WithTags("Libraries");
        libraries.MapGet("", async (ServedPapers served) => TypedResults.Ok((await served.Collection.LibrariesAsync()).Select(LibraryView.Of).ToList()))
            .WithSummary("Every reader's library");
        libraries.MapGet("/{name}", GetLibrary)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("One library: its liked and disliked paper ids");
        libraries.MapPut("/{name}", PutLibraryAsync)
            .RequireApiKey()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Create or replace a library: {\"liked\": [ids], \"disliked\": [ids]}");
        libraries.MapPatch("/{name}", PatchLibraryAsync)
            .RequireApiKey()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Mark papers liked or disliked, or take them out: {\"like\": [], \"dislike\": [], \"remove\": []} (creates the library)");
        libraries.MapDelete("/{name}", DeleteLibraryAsync)
            .RequireApiKey()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Delete a library");
    }

    static async Task<Microsoft.AspNetCore.Http.HttpResults.Ok<LibraryView>> GetLibrary(string name, ServedPapers served) =>
        TypedResults.Ok(LibraryView.Of(await served.Collection.LibraryAsync(name) ?? throw ApiProblemException.NotFound($"no library named '{name}'")));

    static async Task<Microsoft.AspNetCore.Http.HttpResults.Ok<LibraryView>> PutLibraryAsync(string name, HttpRequest request, ServedPapers served, ServerLimits limits)
    {
        var body = await ReadAsync<LibraryPut>(request, limits, "{\"liked\": [\"ID\"], \"disliked\": []}");
        var liked = StrictJson.Ids(body.Liked, "liked");
        var disliked = StrictJson.Ids(body.Disliked, "disliked");
        StrictJson.CheckDisjoint(liked, "liked", disliked, "disliked");
        return TypedResults.Ok(LibraryView.Of(await served.Collection.ChangeLibraryAsync(name, liked, disliked, [], replace: true)));
    }

    static async Task<Microsoft.AspNetCore.Http.HttpResults.Ok<LibraryView>> PatchLibraryAsync(string name, HttpRequest request, ServedPapers served, ServerLimits limits)
    {
        var body = await ReadAsync<LibraryPatch>(request, limits, "{\"like\": [\"ID\"], \"dislike\": [], \"remove\": []}");
        var like = StrictJson.Ids(body.Like, "like");
        var dislike = StrictJson.Ids(body.Dislike, "dislike");
        var remove = StrictJson.Ids(body.Remove, "remove");
        StrictJson.CheckDisjoint(like, "like", dislike, "dislike");
        StrictJson.CheckDisjoint(like, "like", remove, "remove");
        StrictJson.CheckDisjoint(dislike, "dislike", remove, "remove");
        return TypedResults.Ok(LibraryView.Of(await served.Collection.ChangeLibraryAsync(name, like, dislike, remove, replace: false)));
    }

    static async Task<Microsoft.AspNetCore.Http.HttpResults.NoContent> DeleteLibraryAsync(string name, ServedPapers served) =>
        await served.Collection.DeleteLibraryAsync(name) ? TypedResults.NoContent() : throw ApiProblemException.NotFound($"no library named '{name}'");

    static async Task<T> ReadAsync<T>(HttpRequest request, ServerLimits limits, string example) where T : class
    {
        string text = await RequestBody.ReadTextAsync(request, limits.MaxBodyBytes, "the request body");
        return StrictJson.Read<T>(text, example);
    }
}
