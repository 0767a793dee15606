using PaperVec.Api.Hosting;
using PaperVec.Api.Http;
using PaperVec.Api.Search;
using PaperVec.Search;

namespace PaperVec.Api.Recommend;

/// <summary>The body of POST /recommend: liked and disliked paper ids (the words a library uses), or a stored library's name.</summary>
public sealed record RecommendRequest(IReadOnlyList<string?>? Liked, IReadOnlyList<string?>? Disliked, string? Library, int? K, string? From, string? To,
    string? Digest, double? Diversity);

/// <summary>POST /recommend: papers for a reader, from the papers they liked and disliked.</summary>
public static class RecommendRoutes
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/recommend", RecommendAsync)
            .WithTags("Recommend")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Papers for a reader who liked the liked ids (and not the disliked ones), or a stored library; digest= limits candidates to that digest");
    }

    static async Task<Microsoft.AspNetCore.Http.HttpResults.Ok<SearchResponse>> RecommendAsync(HttpRequest request, ServedPapers served, ServerLimits limits)
    {
        string body = await RequestBody.ReadTextAsync(request, limits.MaxBodyBytes, "the request body");
        var asked = StrictJson.Read<RecommendRequest>(body, "{\"liked\": [\"ID\"], \"disliked\": [], \"k\": 10}");
        var liked = StrictJson.Ids(asked.Liked, "liked");
        var disliked = StrictJson.Ids(asked.Disliked, "disliked");
        StrictJson.CheckDisjoint(liked, "liked", disliked, "disliked");
        int k = QueryParameters.K(asked.K?.ToString());
        DateOnly? from = QueryParameters.Date(asked.From, "from"), to = QueryParameters.Date(asked.To, "to");
        QueryParameters.CheckRange(from, to);
        var scope = new SearchScope { K = k, From = from, To = to, Diversity = QueryParameters.Diversity(asked.Diversity) };
        List<SearchResult> results;
        if (asked.Library is { } name)
        {
            if (liked.Count > 0 || disliked.Count > 0) throw ApiProblemException.BadRequest("name either a library or liked/disliked ids, not both");
            results = await served.Collection.RecommendForLibraryAsync(name, scope, asked.Digest)
                ?? throw ApiProblemException.NotFound($"no library named '{name}'");
        }
        else results = await served.Collection.RecommendAsync(liked, disliked, scope, asked.Digest);
        results = await Papers.PaperFacts.AddAsync(served.Collection, results);
        return TypedResults.Ok(new SearchResponse(results, k, asked.From, asked.To, served.PaperCount) { Mode = "recommend" });
    }
}
