using PaperVec.Api.Digests;
using PaperVec.Api.Hosting;
using PaperVec.Api.Http;
using PaperVec.Api.Search;
using PaperVec.Api.Security;
using PaperVec.Ingest;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Api.Papers;

/// <summary>A stored paper as GET /papers/{id} shows it (the vector is left out).</summary>
public sealed record PaperView(string Id, string? SourceId, string Title, string Abstract, string? Authors, string? Url, string? Categories,
    string Date, IReadOnlyList<string> Digests, string Model)
{
    public static PaperView Of(PaperRecord p) =>
        new(p.Id, p.SourceId, p.Title, p.Abstract, p.Authors, p.Url, p.Categories, p.FirstSeen.ToString("yyyy-MM-dd"), p.Digests, p.ModelId);
}

/// <summary>
/// POST /papers (records), GET and DELETE /papers/{id}, GET /papers/{id}/similar. An id is a
/// PaperVec id (16 hex digits) or a record's own id (an arXiv id, say).
/// </summary>
public static class PaperRoutes
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var papers = app.MapGroup("/papers").WithTags("Papers");

        papers.MapPost("", async (HttpRequest request, ServedPapers served, ServerLimits limits) =>
            {
                string body = await RequestBody.ReadTextAsync(request, limits.MaxBodyBytes, "the request body");
                var records = PaperRecordReader.ReadAll(body, "request body");
                if (records.Count == 0) throw ApiProblemException.BadRequest("the request body holds no records");
                if (records.Count > limits.MaxPapersPerRequest)
                    throw ApiProblemException.BadRequest($"{records.Count} records in one request; send at most {limits.MaxPapersPerRequest} per request");
                var result = await served.Collection.IngestAsync(records, null);
                served.Metrics.RecordIngest(result);
                return TypedResults.Created((string?)null, IngestResponse.From(result, null, []));
            })
            .RequireApiKey()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithSummary("Ingest paper records: a JSON array or JSON Lines of {id, title, abstract, authors, url, date, categories, vector}");

        papers.MapGet("/{id}", async (string id, ServedPapers served) =>
                TypedResults.Ok(PaperView.Of(await served.Collection.FindPaperAsync(Decode(id)) ?? throw NoSuchPaper(Decode(id)))))
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("One stored paper");

        papers.MapDelete("/{id}", async (string id, ServedPapers served) =>
            {
                id = Decode(id);
                return await served.Collection.DeleteAsync(id) ? TypedResults.NoContent() : throw NoSuchPaper(id);
            })
            .RequireApiKey()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Delete a paper (durably; every id it was known by stops resolving)");

        papers.MapGet("/{id}/similar", async (string id, string? k, string? from, string? to, string? excludeDigest, string? diversity, ServedPapers served) =>
            {
                id = Decode(id);
                int count = QueryParameters.K(k);
                double spread = QueryParameters.Diversity(diversity);
                DateOnly? fromDate = QueryParameters.Date(from, "from"), toDate = QueryParameters.Date(to, "to");
                QueryParameters.CheckRange(fromDate, toDate);
                var results = await served.Collection.SimilarAsync(id, new SearchScope { K = count, From = fromDate, To = toDate, Diversity = spread }, excludeDigest) ?? throw NoSuchPaper(id);
                return TypedResults.Ok(new SearchResponse(await PaperFacts.AddAsync(served.Collection, results), count, from, to, served.PaperCount));
            })
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Papers like this one (itself excluded), best first, with cosine scores; diversity=0..1 as search takes it");
    }

    static string Decode(string id) => RouteIds.Decode(id);

    static ApiProblemException NoSuchPaper(string id) => ApiProblemException.NotFound(PaperVec.Engine.NotFoundHints.Paper(id));
}
