using System.Text.Json;
using PaperVec.Api.Hosting;
using PaperVec.Api.Http;
using PaperVec.Api.Search;
using PaperVec.Search;

namespace PaperVec.Api.Recommend;

/// <summary>The body of POST /recommend: liked (positive) and disliked (negative) paper ids, or a stored library's name.</summary>
public sealed record RecommendRequest(IReadOnlyList<string>? Positive, IReadOnlyList<string>? Negative, string? Library, int? K, string? From, string? To,
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
            .WithSummary("Papers for a reader who liked the positive ids (and not the negative ones), or a stored library; digest= limits candidates to that digest");
    }

    static async Task<Microsoft.AspNetCore.Http.HttpResults.Ok<SearchResponse>> RecommendAsync(HttpRequest request, IServedPapers served, ServerLimits limits)
    {
        string body = await RequestBody.ReadTextAsync(request, limits.MaxBodyBytes, "the request body");
        RecommendRequest? asked;
        try { asked = JsonSerializer.Deserialize<RecommendRequest>(body, JsonSerializerOptions.Web); }
        catch (JsonException e) { throw ApiProblemException.BadRequest($"the body must be JSON like {{\"positive\": [\"ID\"], \"negative\": [], \"k\": 10}} ({e.Message})"); }
        if (asked == null) throw ApiProblemException.BadRequest("the body must be a JSON object");
        int k = QueryParameters.K(asked.K?.ToString());
        DateOnly? from = QueryParameters.Date(asked.From, "from"), to = QueryParameters.Date(asked.To, "to");
        QueryParameters.CheckRange(from, to);
        var scope = new SearchScope { K = k, From = from, To = to, Diversity = QueryParameters.Diversity(asked.Diversity) };
        List<SearchResult> results;
        if (asked.Library is { } name)
        {
            if (asked.Positive is { Count: > 0 } || asked.Negative is { Count: > 0 }) throw ApiProblemException.BadRequest("name either a library or positive/negative ids, not both");
            results = await served.RecommendForLibraryAsync(name, scope, asked.Digest)
                ?? throw ApiProblemException.NotFound($"no library named '{name}'");
        }
        else results = await served.RecommendAsync(asked.Positive ?? [], asked.Negative ?? [], scope, asked.Digest);
        return TypedResults.Ok(new SearchResponse(results, k, asked.From, asked.To, served.PaperCount) { Mode = "recommend" });
    }
}
