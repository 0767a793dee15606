using System.Text.Json.Serialization;
using PaperVec.Api.Hosting;
using PaperVec.Api.Http;
using PaperVec.Api.Security;
using PaperVec.Ingest;
using PaperVec.Recommend;
using PaperVec.Storage;
using PaperVec.Search;
using PaperVec.Engine;

namespace PaperVec.Api.Digests;

/// <summary>An ingested digest in the list of GET /digests.</summary>
public sealed record DigestSummary(string Id, string Date, string Source, int Papers, DateTimeOffset IngestedAt)
{
    /// <summary>Its papers an earlier digest listed too (as its view counts them).</summary>
    public int SeenBefore { get; init; }
}

/// <summary>A paper DELETE /digests/{id} deleted, or kept and why ("other-digest", "record", "library", with a detail naming which).</summary>
public sealed record DeletedDigestPaper(string Id, string Title)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Reason { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Detail { get; init; }
}

/// <summary>DELETE /digests/{id}: what went with the digest and what was kept, counted by reason and per paper.</summary>
public sealed record DigestDeletionResponse(string Digest, string Summary, int Deleted, int Kept, IReadOnlyDictionary<string, int> KeptBy,
    IReadOnlyList<DeletedDigestPaper> DeletedPapers, IReadOnlyList<DeletedDigestPaper> KeptPapers)
{
    public static DigestDeletionResponse From(DigestDeletion d) => new(d.DigestId, d.Summary, d.Deleted.Count, d.Kept.Count,
        d.KeptByReason.ToDictionary(r => DigestDeletion.Name(r.Key), r => r.Value),
        d.Deleted.Select(p => new DeletedDigestPaper(p.Id, p.Title)).ToList(),
        d.Kept.Select(p => new DeletedDigestPaper(p.Id, p.Title) { Reason = DigestDeletion.Name(p.Reason), Detail = p.Detail }).ToList());
}

/// <summary>
/// A paper of a digest, and the earlier digests that listed it too (it was seen before), either as
/// this record or, under another title, as the record <c>SameAs</c> names (a retitled copy).
/// </summary>
public sealed record DigestPaperView(string Id, string Title, string Date, bool SeenBefore, IReadOnlyList<string> SeenIn, string Snippet, string? SameAs = null)
{
    /// <summary>With ?library=: how likely the reader wants it (the recommender's score), and the liked papers it is closest to.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Score { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<LikedMatch>? Because { get; init; }
    /// <summary>With ?library=: words it shares with those liked papers, where the term model decided.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? SharedTerms { get; init; }
    /// <summary>With ?library=: "liked" or "disliked" when the reader already judged it (listed after the others).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Judged { get; init; }
    /// <summary>From the stored paper (PaperFacts): the record's own id (an arXiv id), authors, categories, url; left out when unknown.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SourceId { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Authors { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Categories { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Url { get; init; }
}

/// <summary>GET /digests/{id}: the digest and its papers in listing order.</summary>
public sealed record DigestView(string Id, string Date, string Source, DateTimeOffset IngestedAt, int SeenBefore, IReadOnlyList<DigestPaperView> Papers)
{
    /// <summary>The library the papers are ordered by (?library=), or null for listing order.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Library { get; init; }
}

/// <summary>POST /digests (the digest's text), GET /digests, GET /digests/{id}.</summary>
public static class DigestRoutes
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var digests = app.MapGroup("/digests").WithTags("Digests");

        digests.MapPost("", async (HttpRequest request, string? date, string? year, string? name, ServedPapers served, ServerLimits limits) =>
            {
                var given = QueryParameters.Date(date, "date");
                int? givenYear = QueryParameters.Year(year);
                string source = string.IsNullOrWhiteSpace(name) ? "digest" : name.Trim();
                if (source.Length > 200 || source.Any(char.IsControl)) throw ApiProblemException.BadRequest("name must be at most 200 characters, without control characters");
                string text = await RequestBody.ReadTextAsync(request, limits.MaxBodyBytes, "the digest");
                // One day per request (a body with two date lines is refused naming them); an unreadable digest is a 400 naming its lines.
                ParsedDigest digest;
                try { digest = DigestParser.Parse(text, new DigestParseOptions { Date = given, Year = givenYear, DateHint = "?date=YYYY-MM-DD" }); }
                catch (DigestRefusedException e) { throw ApiProblemException.BadRequest($"the digest was refused: {e.Message}"); }
                if (digest.Papers.Count > limits.MaxPapersPerRequest)
                    throw ApiProblemException.BadRequest($"the digest lists {digest.Papers.Count} papers; send at most {limits.MaxPapersPerRequest} per request");
                var info = PaperIngestor.DigestInfo.Of(digest, source);
                var result = await served.Collection.IngestAsync(PaperIngestor.PapersOf(digest), info);
                served.Metrics.RecordIngest(result);
                return TypedResults.Created($"/digests/{info.Id}", IngestResponse.From(result, digest.Date, digest.Problems));
            })
            .RequireApiKey()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithSummary("Ingest a daily digest's text; ?date=YYYY-MM-DD dates it (or ?year= completes a bare 'Mar 11'), ?name= names its source");

        digests.MapGet("", async (ServedPapers served) => TypedResults.Ok(await SummariesAsync(served.Collection)))
            .WithSummary("Every ingested digest, oldest first, with how many of its papers an earlier digest listed");

        digests.MapDelete("/{**id}", async (string id, ServedPapers served) =>
            {
                id = RouteIds.Decode(id);
                var deletion = await served.Collection.DeleteDigestAsync(id) ?? throw new DigestNotFoundException(id, await served.Collection.DigestsAsync());
                return TypedResults.Ok(DigestDeletionResponse.From(deletion));
            })
            .RequireApiKey()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Delete a digest durably, with the papers only it brought; the answer lists what was deleted and what was kept, and why");

        // A digest id holds a slash ("2025-03-11/daily-papers"), hence the catch-all.
        digests.MapGet("/{**id}", async (string id, string? library, ServedPapers served) =>
            {
                id = RouteIds.Decode(id);
                var (digest, listings) = await served.Collection.DigestAsync(id) ?? throw new DigestNotFoundException(id, await served.Collection.DigestsAsync());
                var view = await Papers.PaperFacts.AddAsync(served.Collection, View(digest, listings));
                if (string.IsNullOrEmpty(library)) return TypedResults.Ok(view); // "library=" is left out, as every empty query value
                var ranked = await served.Collection.RankDigestAsync(digest.Id, library) ?? throw ApiProblemException.NotFound($"no library named '{library}'");
                return TypedResults.Ok(OrderedBy(view, ranked, library));
            })
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("One digest's papers, each marked when an earlier digest listed it too; ?library=NAME orders them by that reader's library, each with its score and the liked papers it is closest to");
    }

    /// <summary>Every digest, oldest first, with its "seen before" count from its view (one node's, or merged from a cluster's shards).</summary>
    public static async Task<List<DigestSummary>> SummariesAsync(IPaperCollection collection)
    {
        var summaries = new List<DigestSummary>();
        foreach (var d in await collection.DigestsAsync())
        {
            // Deleted meanwhile: listed without a count rather than failing the whole list.
            int seenBefore = await collection.DigestAsync(d.Id) is { } view ? view.Listings.Count(l => l.SeenBefore) : 0;
            summaries.Add(new DigestSummary(d.Id, d.Date.ToString("yyyy-MM-dd"), d.Source, d.PaperKeys.Count, d.IngestedAt) { SeenBefore = seenBefore });
        }
        return summaries;
    }

    /// <summary>The view's papers in the library's order, each with its score and explanation.</summary>
    static DigestView OrderedBy(DigestView view, List<PaperVec.Search.SearchResult> ranked, string library)
    {
        var byId = view.Papers.GroupBy(p => p.Id).ToDictionary(g => g.Key, g => g.First());
        var papers = ranked.Where(r => byId.ContainsKey(r.Id)).Select(r => byId[r.Id] with { Score = r.Score, Because = r.Because, SharedTerms = r.SharedTerms, Judged = r.Judged }).ToList();
        return view with { Papers = papers, Library = library };
    }

    /// <summary>The digest's view from its listings (one node's, or merged from a cluster's shards).</summary>
    static DigestView View(DigestRecord digest, IReadOnlyList<DigestListing> listings)
    {
        var papers = listings.Select(l => new DigestPaperView(l.Id, l.Title, l.FirstSeen.ToString("yyyy-MM-dd"), l.SeenBefore, l.SeenIn, l.Snippet, l.SameAs)).ToList();
        return new DigestView(digest.Id, digest.Date.ToString("yyyy-MM-dd"), digest.Source, digest.IngestedAt, papers.Count(p => p.SeenBefore), papers);
    }

}
