using PaperVec.Ingest;
using PaperVec.Storage;

namespace PaperVec.Api.Digests;

/// <summary>A paper an ingest listed, and whether it was new or already stored (exact, revised, or a retitled copy of a stored paper).</summary>
public sealed record IngestedPaper(string Id, string Title, string Status);

/// <summary>One paper listed more than once in a request (same title or same id), with its 1-based positions.</summary>
public sealed record IngestedTwin(string Id, string Title, IReadOnlyList<int> Positions);

/// <summary>What POST /digests and POST /papers answer: counts, the new papers, and the ones already seen (duplicates).</summary>
public sealed record IngestResponse(string? Digest, string? Date, int Papers, int New, int AlreadySeen, int Exact, int Revised, int Retitled, string Summary,
    IReadOnlyList<IngestedPaper> NewPapers, IReadOnlyList<IngestedPaper> Duplicates, IReadOnlyList<string> Problems, IReadOnlyList<IngestedTwin> Twins)
{
    public static IngestResponse From(IngestResult result, DateOnly? date, IReadOnlyList<string> problems)
    {
        IngestedPaper Paper(IngestedListing l) => new(PaperIdentity.Format(l.Key), l.Title, l.Status switch
        {
            ListingStatus.New => "new",
            ListingStatus.SeenExact => "exact",
            ListingStatus.Revised => "revised",
            _ => "retitled",
        });
        return new(result.DigestId, date?.ToString("yyyy-MM-dd"), result.Listings.Count, result.New, result.AlreadySeen, result.SeenExact, result.Revised, result.Retitled,
            result.Summary, result.Listings.Where(l => l.Status == ListingStatus.New).Select(Paper).ToList(),
            result.Listings.Where(l => l.Status != ListingStatus.New).Select(Paper).ToList(),
            [.. problems, .. result.Twins.Select(t => $"listings {string.Join(", ", t.Positions)} are the same paper ('{t.Title}'): stored once, the last listing's text kept")],
            result.Twins.Select(t => new IngestedTwin(PaperIdentity.Format(t.Key), t.Title, t.Positions)).ToList());
    }
}
