using PaperVec.Duplicates;
using PaperVec.Storage;

namespace PaperVec.Ingest;

/// <summary>
/// A paper of a digest as its view shows it: the earlier digests that listed it too (it was seen
/// before), either as this record or, under another title, as the record <see cref="SameAs"/>
/// names (a reworded copy the ingest found).
/// </summary>
public sealed record DigestListing(long Key, string Title, DateOnly FirstSeen, IReadOnlyList<string> SeenIn, string Snippet, string? SameAs)
{
    public string Id => PaperIdentity.Format(Key);
    public bool SeenBefore => SeenIn.Count > 0;

    /// <summary>
    /// The listings of <paramref name="digest"/> whose papers <paramref name="db"/> still holds, in
    /// listing order (a paper deleted since is left out: the digest keeps its history, the view shows
    /// what is there). "Earlier" compares digest dates, so a backfilled older digest marks nothing.
    /// </summary>
    public static async Task<List<DigestListing>> ReadAsync(PaperDatabase db, DigestRecord digest)
    {
        var dates = new Dictionary<string, DateOnly?>(StringComparer.Ordinal);
        DateOnly? DateOf(string id) => dates.TryGetValue(id, out var d) ? d : dates[id] = db.Catalog.GetDigest(id)?.Date;
        List<string> Earlier(PaperRecord paper) => paper.Digests.Where(d => d != digest.Id && DateOf(d) is DateOnly date && date < digest.Date).ToList();
        // Digests stored before layout 3 carry no copy decisions: those are made here, as they were at ingest.
        var finder = digest.HasStoredCopies ? null : new DuplicateFinder(db);
        var listings = new List<DigestListing>();
        for (int i = 0; i < digest.PaperKeys.Count; i++)
        {
            if (await db.GetPaperAsync(digest.PaperKeys[i]).ConfigureAwait(false) is not { } paper) continue;
            var earlier = Earlier(paper);
            string? sameAs = null;
            if (earlier.Count == 0 && await StoredCopyAsync(paper, i).ConfigureAwait(false) is { } copy && Earlier(copy) is { Count: > 0 } copyEarlier)
                (earlier, sameAs) = (copyEarlier, copy.Id);
            listings.Add(new DigestListing(paper.Key, paper.Title, paper.FirstSeen, earlier, PaperSummary.SnippetOf(paper.Abstract), sameAs));
        }
        return listings;

        // The stored paper this listing is a reworded copy of: the ingest's decision, read from the digest.
        async ValueTask<PaperRecord?> StoredCopyAsync(PaperRecord paper, int listing) =>
            finder == null
                ? digest.StoredCopy(listing) is var key and not 0 ? await db.GetPaperAsync(key).ConfigureAwait(false) : null
                : (await finder.StoredCopyOfAsync(paper.Vector, paper.Title, paper.Abstract, paper.Key).ConfigureAwait(false))?.Paper;
    }
}
