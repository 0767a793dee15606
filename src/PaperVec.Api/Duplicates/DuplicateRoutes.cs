using PaperVec.Api.Http;
using PaperVec.Api.Hosting;
using PaperVec.Duplicates;

namespace PaperVec.Api.Duplicates;

/// <summary>GET /duplicates: the listings across digests that are the same paper (as `papervec dupes --json`).</summary>
public static class DuplicateRoutes
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/duplicates", async (string? from, string? to, string[]? digest, ServedCollection library) =>
            {
                DateOnly? fromDate = QueryParameters.Date(from, "from"), toDate = QueryParameters.Date(to, "to");
                QueryParameters.CheckRange(fromDate, toDate);
                HashSet<string>? chosen = digest is { Length: > 0 } ? digest.ToHashSet(StringComparer.Ordinal) : null;
                if (chosen?.FirstOrDefault(id => library.Database.GetDigest(id) == null) is { } unknown)
                    throw ApiProblemException.NotFound($"no digest with id '{unknown}'");
                // A whole-collection pass: records read without blocking, the grouping on its own thread.
                var groups = await new DuplicateFinder(library.Database).FindAsync(new DuplicateScope(fromDate, toDate, chosen));
                return TypedResults.Ok(new DuplicateReport(groups));
            })
            .WithTags("Duplicates")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Groups of listings that are the same paper (exact, revised or retitled), with cosine and word-shingle evidence; ?from=&to= dates, ?digest= ids (repeatable) choose the digests");
    }
}
