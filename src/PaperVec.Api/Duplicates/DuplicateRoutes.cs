using PaperVec.Api.Http;
using PaperVec.Api.Hosting;
using PaperVec.Duplicates;

namespace PaperVec.Api.Duplicates;

/// <summary>GET /duplicates: the listings across digests that are the same paper (as `papervec dupes --json`).</summary>
public static class DuplicateRoutes
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/duplicates", async (string? from, string? to, string[]? digest, ServedPapers served) =>
            {
                DateOnly? fromDate = QueryParameters.Date(from, "from"), toDate = QueryParameters.Date(to, "to");
                QueryParameters.CheckRange(fromDate, toDate);
                HashSet<string>? chosen = digest is { Length: > 0 } ? digest.ToHashSet(StringComparer.Ordinal) : null;
                return TypedResults.Ok(new DuplicateReport(await served.Collection.DuplicatesAsync(new DuplicateScope(fromDate, toDate, chosen))));
            })
            .WithTags("Duplicates")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Groups of listings that are the same paper (exact, revised or retitled), with cosine and word-shingle evidence; ?from=&to= dates, ?digest= ids (repeatable) choose the digests");
    }
}
