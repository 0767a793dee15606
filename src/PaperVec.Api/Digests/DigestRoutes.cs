using System.Text.Json.Serialization;
using PaperVec.Api.Hosting;
using PaperVec.Api.Http;
using PaperVec.Api.Security;
using PaperVec.Digests;
using PaperVec.Duplicates;
using PaperVec.Storage;

namespace PaperVec.Api.Digests;

/// <summary>An ingested digest in the list of GET /digests.</summary>
public sealed record DigestSummary(string Id, string Date, string Source, int Papers, DateTimeOffset IngestedAt);

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
    public IReadOnlyList<PaperVec.Recommend.LikedMatch>? Because { get; init; }
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

        digests.MapPost("", async (HttpRequest request, string? date, string? year, string? name, ServedCollection library, ServerLimits limits) =>
            {
                var given = QueryParameters.Date(date, "date");
                int? givenYear = QueryParameters.Year(year);
                string source = string.IsNullOrWhiteSpace(name) ? "digest" : name.Trim();
                if (source.Length > 200 || source.Any(char.IsControl)) throw ApiProblemException.BadRequest("name must be at most 200 characters, without control characters");
                string text = await RequestBody.ReadTextAsync(request, limits.MaxBodyBytes, "the digest");
                var digest = DigestParser.Parse(text, new DigestParseOptions { Date = given, Year = givenYear });
                if (digest.Papers.Count == 0)
                    throw ApiProblemException.BadRequest($"no papers found in the digest (a title paragraph, a blank line, then its abstract){(digest.Problems.Count > 0 ? ": " + digest.Problems[0] : "")}");
                if (digest.Papers.Count > limits.MaxPapersPerRequest)
                    throw ApiProblemException.BadRequest($"the digest lists {digest.Papers.Count} papers; send at most {limits.MaxPapersPerRequest} per request");
                var info = PaperIngestor.DigestInfo.Of(digest, source);
                var result = await library.Collection.IngestAsync(PaperIngestor.PapersOf(digest), info);
                library.Metrics.RecordIngest(result);
                return TypedResults.Created($"/digests/{info.Id}", IngestResponse.From(result, digest.Date, digest.Problems));
            })
            .RequireApiKey()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithSummary("Ingest a daily digest's text; ?date=YYYY-MM-DD dates it (or ?year= completes a bare 'Mar 11'), ?name= names its source");

        digests.MapGet("", (ServedCollection library) =>
                TypedResults.Ok(library.Database.Digests()
                    .Select(d => new DigestSummary(d.Id, d.Date.ToString("yyyy-MM-dd"), d.Source, d.PaperKeys.Count, d.IngestedAt)).ToList()))
            .WithSummary("Every ingested digest, oldest first");

        // A digest id holds a slash ("2025-03-11/daily-papers"), hence the catch-all.
        digests.MapGet("/{**id}", async (string id, string? library, ServedCollection served) =>
            {
                var digest = served.Database.GetDigest(id) ?? throw ApiProblemException.NotFound($"no digest with id '{id}'");
                var view = await ViewAsync(served.Database, digest);
                if (library == null) return TypedResults.Ok(view);
                var ranked = await served.Collection.RankDigestAsync(digest.Id, library) ?? throw ApiProblemException.NotFound($"no library named '{library}'");
                return TypedResults.Ok(OrderedBy(view, ranked, library));
            })
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("One digest's papers, each marked when an earlier digest listed it too; ?library=NAME orders them by that reader's library, each with its score and the liked papers it is closest to");
    }

    /// <summary>The view's papers in the library's order, each with its score and explanation.</summary>
    static DigestView OrderedBy(DigestView view, List<PaperVec.Search.SearchResult> ranked, string library)
    {
        var byId = view.Papers.GroupBy(p => p.Id).ToDictionary(g => g.Key, g => g.First());
        var papers = ranked.Where(r => byId.ContainsKey(r.Id)).Select(r => byId[r.Id] with { Score = r.Score, Because = r.Because }).ToList();
        return view with { Papers = papers, Library = library };
    }

    static async Task<DigestView> ViewAsync(PaperDatabase db, DigestRecord digest)
    {
        var dates = new Dictionary<string, DateOnly?>(StringComparer.Ordinal);
        DateOnly? DateOf(string id) => dates.TryGetValue(id, out var d) ? d : dates[id] = db.GetDigest(id)?.Date;
        List<string> Earlier(PaperRecord paper) => paper.Digests.Where(d => d != digest.Id && DateOf(d) is DateOnly date && date < digest.Date).ToList();
        // Digests stored before layout 3 carry no copy decisions: those are made here, as they were at ingest.
        var finder = digest.HasStoredCopies ? null : new DuplicateFinder(db);
        var papers = new List<DigestPaperView>();
        for (int i = 0; i < digest.PaperKeys.Count; i++)
        {
            if (await db.GetPaperAsync(digest.PaperKeys[i]) is not { } paper) continue; // deleted since: the digest keeps its history, the view shows what is there
            var earlier = Earlier(paper);
            string? sameAs = null;
            if (earlier.Count == 0 && await StoredCopyAsync(paper, i) is { } copy && Earlier(copy) is { Count: > 0 } copyEarlier)
                (earlier, sameAs) = (copyEarlier, copy.Id);
            papers.Add(new DigestPaperView(paper.Id, paper.Title, paper.FirstSeen.ToString("yyyy-MM-dd"), earlier.Count > 0, earlier,
                PaperSummary.SnippetOf(paper.Abstract), sameAs));
        }
        return new DigestView(digest.Id, digest.Date.ToString("yyyy-MM-dd"), digest.Source, digest.IngestedAt, papers.Count(p => p.SeenBefore), papers);

        // The stored paper this listing is a reworded copy of: the ingest's decision, read from the digest.
        async ValueTask<PaperRecord?> StoredCopyAsync(PaperRecord paper, int listing) =>
            finder == null
                ? digest.StoredCopy(listing) is var key and not 0 ? await db.GetPaperAsync(key) : null
                : (await finder.StoredCopyOfAsync(paper.Vector, paper.Title, paper.Abstract, paper.Key))?.Paper;
    }
}
