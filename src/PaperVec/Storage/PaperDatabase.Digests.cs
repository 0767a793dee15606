namespace PaperVec.Storage;

/// <summary>Why a paper of a deleted digest was kept.</summary>
public enum KeptBecause
{
    /// <summary>Another digest lists it too.</summary>
    OtherDigest,
    /// <summary>It was ingested as a record (POST /papers, `ingest FILE.json`), not only by a digest.</summary>
    Record,
    /// <summary>A reader's library likes or dislikes it.</summary>
    Library,
}

/// <summary>A paper of a deleted digest that was kept, and why (<see cref="Detail"/> names the other digest or the library).</summary>
public sealed record KeptPaper(long Key, string Title, KeptBecause Reason, string Detail)
{
    public string Id => PaperIdentity.Format(Key);
}

/// <summary>A paper deleted with its digest (only that digest had brought it).</summary>
public sealed record DeletedPaper(long Key, string Title)
{
    public string Id => PaperIdentity.Format(Key);
}

/// <summary>What deleting a digest did: the papers deleted with it and the ones kept, each with its reason.</summary>
public sealed record DigestDeletion(string DigestId, IReadOnlyList<DeletedPaper> Deleted, IReadOnlyList<KeptPaper> Kept)
{
    /// <summary>Kept papers counted by reason, every reason present (0 where none).</summary>
    public IReadOnlyDictionary<KeptBecause, int> KeptByReason =>
        Enum.GetValues<KeptBecause>().ToDictionary(r => r, r => Kept.Count(p => p.Reason == r));

    /// <summary>"deleted digest 2026-03-11/digest: 28 papers deleted, 3 kept (2 listed by another digest, 1 ingested as a record)".</summary>
    public string Summary
    {
        get
        {
            var reasons = KeptByReason.Where(r => r.Value > 0).Select(r => $"{r.Value} {Describe(r.Key)}").ToList();
            return $"deleted digest {DigestId}: {Count(Deleted.Count)} deleted, {Kept.Count} kept{(reasons.Count > 0 ? $" ({string.Join(", ", reasons)})" : "")}";
        }
    }

    /// <summary>The reason as JSON answers name it: "other-digest", "record", "library".</summary>
    public static string Name(KeptBecause reason) => reason switch
    {
        KeptBecause.OtherDigest => "other-digest",
        KeptBecause.Record => "record",
        _ => "library",
    };

    public static string Describe(KeptBecause reason) => reason switch
    {
        KeptBecause.OtherDigest => "listed by another digest",
        KeptBecause.Record => "ingested as a record",
        _ => "in a library",
    };

    static string Count(int papers) => papers == 1 ? "1 paper" : $"{papers} papers";
}

// Undoing a digest: the digest record and the papers only it brought, in one durable write.
public sealed partial class PaperDatabase
{
    /// <summary>
    /// Deletes the digest <paramref name="digestId"/> as one durable write (one log entry: after a crash it
    /// is either wholly applied at replay or not at all): its record, and each of its papers that nothing
    /// else keeps (with every id and title alias naming it). A paper is kept, with the digest dropped from
    /// its membership, when another digest lists it, when it came from a record ingest, or when a reader's
    /// library names it: this database's libraries, and <paramref name="libraryPapers"/> (paper key to a
    /// library's name) for libraries held elsewhere (a cluster's other shards). Null when there is no such digest.
    /// Callers order this with their other writes (the collections' write gate).
    /// </summary>
    public async ValueTask<DigestDeletion?> DeleteDigestAsync(string digestId, IReadOnlyDictionary<long, string>? libraryPapers = null)
    {
        if (_catalog.GetDigest(digestId) is not { } digest) return null;
        var inLibrary = LibraryPapers(_catalog.Libraries());
        if (libraryPapers != null)
            foreach (var (key, name) in libraryPapers) inLibrary.TryAdd(key, name);
        var batch = new WriteBatch();
        var deleted = new List<DeletedPaper>();
        var kept = new List<KeptPaper>();
        foreach (long key in digest.PaperKeys.Distinct())
        {
            if (await GetPaperAsync(key).ConfigureAwait(false) is not { } paper) continue; // deleted since: nothing to undo
            if (KeepReason(paper, digestId, inLibrary) is { } why)
            {
                kept.Add(new KeptPaper(key, paper.Title, why.Reason, why.Detail));
                batch.PutPaper(paper with { Digests = paper.Digests.Where(d => d != digestId).ToList() });
            }
            else
            {
                deleted.Add(new DeletedPaper(key, paper.Title));
                AddPaperDelete(batch, key);
            }
        }
        batch.DeleteDigest(digestId);
        await CommitAsync(batch).ConfigureAwait(false);
        return new DigestDeletion(digestId, deleted, kept);
    }

    /// <summary>Every paper a library likes or dislikes, with the first library (by name) that does.</summary>
    public static Dictionary<long, string> LibraryPapers(IEnumerable<ReaderLibrary> libraries)
    {
        var named = new Dictionary<long, string>();
        foreach (var library in libraries.OrderBy(l => l.Name, StringComparer.Ordinal))
            foreach (long key in library.Liked.Concat(library.Disliked)) named.TryAdd(key, library.Name);
        return named;
    }

    /// <summary>Why <paramref name="paper"/> outlives digest <paramref name="digestId"/>, or null when only that digest brought it.</summary>
    static (KeptBecause Reason, string Detail)? KeepReason(PaperRecord paper, string digestId, IReadOnlyDictionary<long, string> inLibrary)
    {
        if (paper.Digests.FirstOrDefault(d => d != digestId) is { } other) return (KeptBecause.OtherDigest, $"digest {other} lists it too");
        if (CameFromRecords(paper)) return (KeptBecause.Record, "ingested as a record");
        if (inLibrary.TryGetValue(paper.Key, out string? library)) return (KeptBecause.Library, $"library '{library}' names it");
        return null;
    }

    /// <summary>
    /// Whether a paper came (also) from a record ingest. A digest's text gives only a title and an
    /// abstract, and every digest ingest adds its id to the paper: so a paper listing no digest, or one
    /// carrying an id, authors, a URL or categories, had a record. (A record with only a title and an
    /// abstract, later listed by a digest, cannot be told apart and goes with that digest.)
    /// </summary>
    public static bool CameFromRecords(PaperRecord paper) =>
        paper.Digests.Count == 0 || paper.SourceId != null || paper.Authors != null || paper.Url != null || paper.Categories != null;
}
