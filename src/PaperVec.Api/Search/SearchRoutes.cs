using PaperVec.Api.Http;
using PaperVec.Api.Embedding;
using PaperVec.Api.Hosting;
using PaperVec.Search;

namespace PaperVec.Api.Search;

/// <summary>The body of POST /search: a whole abstract, say.</summary>
public sealed record SearchRequest(string? Text, int? K, string? From, string? To, string? Mode, double? Diversity);

/// <summary>What search and similar answer: results best first, and what was asked.</summary>
public sealed record SearchResponse(IReadOnlyList<SearchResult> Results, int K, string? From, string? To, int Papers)
{
    /// <summary>hybrid, semantic or lexical for searches; null for similar papers.</summary>
    public string? Mode { get; init; }
    /// <summary>Why the answer is incomplete (hybrid answered by meaning alone while the lexical index is rebuilt), or null.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Degraded { get; init; }
}

/// <summary>A search request after its checks: what to look for, how, and where.</summary>
public sealed record CheckedSearch(string Text, SearchMode Mode, SearchScope Scope, string? From, string? To)
{
    /// <summary>The query's embedding for the modes that use one (not lexical): 503 while the model loads.</summary>
    public async Task<SearchQuery> EmbedAsync(QueryEmbeddingBatcher? queries, string? notReadyReason)
    {
        if (Mode == SearchMode.Lexical) return new SearchQuery(Text, null, Mode);
        var batcher = queries ?? throw ApiProblemException.Unavailable(notReadyReason ?? "the model is not loaded");
        return new SearchQuery(Text, await batcher.EmbedAsync(Text), Mode);
    }

    public SearchResponse Answer(IReadOnlyList<SearchResult> results, int papers) =>
        new(results, Scope.K, From, To, papers) { Mode = Mode.ToString().ToLowerInvariant() };
}

/// <summary>GET /search?q= and POST /search: semantic search for free text.</summary>
public static class SearchRoutes
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var search = app.MapGroup("/search").WithTags("Search");
        search.MapGet("", async (string? q, string? k, string? from, string? to, string? mode, string? diversity, ServedPapers served, ServerLimits limits, HttpContext context) =>
                TypedResults.Ok(await RunAsync(served, Check(limits, q, k, from, to, mode, QueryParameters.Diversity(diversity)), context)))
            .WithSummary("Papers best matching the text q, best first; mode=hybrid (default: BM25 and meaning fused), semantic or lexical");
        search.MapPost("", async (HttpRequest request, ServedPapers served, ServerLimits limits, HttpContext context) =>
            {
                string body = await RequestBody.ReadTextAsync(request, limits.MaxBodyBytes, "the request body");
                var asked = StrictJson.Read<SearchRequest>(body, "{\"text\": \"...\", \"k\": 10}");
                return TypedResults.Ok(await RunAsync(served, Check(limits, asked.Text, asked.K?.ToString(), asked.From, asked.To, asked.Mode, QueryParameters.Diversity(asked.Diversity)), context));
            })
            .WithSummary("Papers closest in meaning to a long text (a whole abstract), best first");
    }

    /// <summary>Response header naming what a degraded answer lacks ("lexical"), beside the JSON's "degraded" reason.</summary>
    public const string DegradedHeader = "PaperVec-Degraded";

    static async Task<SearchResponse> RunAsync(ServedPapers served, CheckedSearch search, HttpContext context)
    {
        var query = await search.EmbedAsync(served.Queries, served.NotReadyReason);
        // Read before and after: a rebuild that starts or ends during the search still marks it (lexical-only answers 503 instead).
        string? degraded = served.Collection.LexicalDegraded;
        var results = await Papers.PaperFacts.AddAsync(served.Collection, await served.Collection.SearchAsync(query, search.Scope));
        degraded ??= served.Collection.LexicalDegraded;
        var answer = search.Answer(results, served.PaperCount);
        if (degraded == null || search.Mode != SearchMode.Hybrid) return answer;
        context.Response.Headers[DegradedHeader] = "lexical";
        return answer with { Degraded = $"answered by meaning alone: {degraded}" };
    }

    static CheckedSearch Check(ServerLimits limits, string? text, string? kText, string? fromText, string? toText, string? modeText, double diversity)
    {
        if (string.IsNullOrWhiteSpace(text)) throw ApiProblemException.BadRequest("the search text is empty (GET: ?q=...; POST: {\"text\": \"...\"})");
        if (text.Length > limits.MaxQueryChars) throw ApiProblemException.BadRequest($"the search text is longer than {limits.MaxQueryChars:N0} characters");
        int k = QueryParameters.K(kText);
        DateOnly? from = QueryParameters.Date(fromText, "from"), to = QueryParameters.Date(toText, "to");
        QueryParameters.CheckRange(from, to);
        var mode = SearchQuery.ParseMode(modeText);
        return new CheckedSearch(text, mode, new SearchScope { K = k, From = from, To = to, Diversity = diversity }, fromText, toText);
    }
}
