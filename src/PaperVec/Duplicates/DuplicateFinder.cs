using System.Collections.Concurrent;
using PaperVec.Index;
using PaperVec.Storage;

namespace PaperVec.Duplicates;

/// <summary>
/// Finds the listings across digests that are the same paper. Two ways join listings:
/// - identity: digests listing the same paper record (same normalized title or source id); the listed
///   texts (kept per listing as a hash, earlier texts kept on the record) tell exact from revised from
///   retitled;
/// - similarity: for each listed paper, its nearest neighbours in the HNSW index (so the cost grows with
///   the number of papers times k, not with its square) whose cosine passes a low bar are confirmed by
///   word-shingle overlap, which tells a reworded copy from a different paper on the same topic.
/// Joined pairs are merged with union-find into groups.
/// </summary>
public sealed class DuplicateFinder(PaperDatabase database, DuplicateSettings? settings = null)
{
    public DuplicateSettings Settings { get; } = settings ?? new DuplicateSettings();

    /// <summary>One digest's listing of a paper: the digest, and the hash of the text it listed.</summary>
    public readonly record struct Listing(DigestRecord Digest, ulong Hash);

    /// <summary>Two different listed papers joined by similarity: close embeddings, overlapping wording.</summary>
    public readonly record struct Edge(long A, long B, double Cosine, double Lexical);

    /// <summary>Every duplicate group among the digests in scope (tools and the CLI: reads records from the store as it goes).</summary>
    public List<DuplicateGroup> Find(DuplicateScope? scope = null, int threads = 0)
    {
        var papers = new ConcurrentDictionary<long, PaperRecord?>();
        return Group(ListingsIn(scope), key => papers.GetOrAdd(key, database.GetPaper), threads);
    }

    /// <summary>
    /// <see cref="Find"/> for the server: the listed papers are read first without blocking a thread on
    /// disk, then the CPU-bound grouping (a Parallel.For) runs on its own thread, not a pool thread.
    /// </summary>
    public async Task<List<DuplicateGroup>> FindAsync(DuplicateScope? scope = null, int threads = 0)
    {
        var listings = ListingsIn(scope);
        var papers = new Dictionary<long, PaperRecord?>(listings.Count);
        foreach (long key in listings.Keys) papers[key] = await database.GetPaperAsync(key).ConfigureAwait(false);
        return await Task.Factory.StartNew(() => Group(listings, papers.GetValueOrDefault, threads),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
    }

    Dictionary<long, List<Listing>> ListingsIn(DuplicateScope? scope) => ListingsIn(database.Catalog.Digests(), scope);

    /// <summary>Per listed paper key, its listings in the digests in scope (a cluster passes every home shard's digest records).</summary>
    public static Dictionary<long, List<Listing>> ListingsIn(IEnumerable<DigestRecord> digests, DuplicateScope? scope)
    {
        scope ??= DuplicateScope.All;
        var listings = new Dictionary<long, List<Listing>>();
        foreach (var digest in digests.Where(scope.Includes))
            for (int i = 0; i < digest.PaperKeys.Count; i++)
            {
                if (!listings.TryGetValue(digest.PaperKeys[i], out var list)) listings[digest.PaperKeys[i]] = list = [];
                list.Add(new Listing(digest, digest.ListingHash(i)));
            }
        return listings;
    }

    List<DuplicateGroup> Group(Dictionary<long, List<Listing>> listings, Func<long, PaperRecord?> paperOf, int threads) =>
        Group(Settings, listings, paperOf, SimilarPairs(listings, paperOf, threads <= 0 ? Environment.ProcessorCount : threads));

    /// <summary>
    /// Joins listed papers by identity and by the similarity <paramref name="edges"/>; <paramref name="paperOf"/>
    /// gives a listed paper's record (null: deleted), asked only for papers of groups of two or more listings.
    /// </summary>
    public static List<DuplicateGroup> Group(DuplicateSettings settings, Dictionary<long, List<Listing>> listings, Func<long, PaperRecord?> paperOf, List<Edge> edges)
    {
        // Union-find over paper keys: similarity edges join records; identity already joins a record's listings.
        var keys = listings.Keys.ToArray();
        var slot = new Dictionary<long, int>(keys.Length);
        for (int i = 0; i < keys.Length; i++) slot[keys[i]] = i;
        var parent = Enumerable.Range(0, keys.Length).ToArray();
        int Root(int i) { while (parent[i] != i) i = parent[i] = parent[parent[i]]; return i; }
        foreach (var e in edges) parent[Root(slot[e.A])] = Root(slot[e.B]);

        var groups = new List<DuplicateGroup>();
        var components = keys.GroupBy(k => Root(slot[k]));
        var edgesByRoot = edges.ToLookup(e => Root(slot[e.A]));
        foreach (var component in components)
        {
            var members = component.SelectMany(k => listings[k].Select(l => (Key: k, l.Digest, l.Hash))).ToList();
            if (members.Count < 2) continue;
            var records = component.Select(k => paperOf(k)).OfType<PaperRecord>().ToDictionary(p => p.Key);
            if (records.Count != component.Count()) continue; // a paper deleted since its digest was listed
            var listed = members
                .Select(m => new DuplicateListing(m.Digest.Id, m.Digest.Date, PaperIdentity.Format(m.Key), records[m.Key].VersionOf(m.Hash).Title))
                .OrderBy(l => l.Date).ThenBy(l => l.Digest, StringComparer.Ordinal).ToList();
            groups.Add(Describe(settings, records, members.Select(m => (m.Key, m.Hash)).ToList(), edgesByRoot[component.Key].ToList(), listed));
        }
        return groups.OrderBy(g => g.Members[0].Date).ThenBy(g => g.Members[0].Title, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// A stored paper (other than <paramref name="self"/>) that the given text is a reworded copy of, by
    /// the same rule as <see cref="Find"/>: decided at ingest time, before the new paper is stored, and
    /// kept with the digest (<see cref="DigestRecord.StoredCopies"/>). Reads candidates without
    /// blocking a thread on disk (it runs on the server's request path).
    /// </summary>
    public async ValueTask<(PaperRecord Paper, double Cosine, double Lexical)?> StoredCopyOfAsync(float[] vector, string title, string abstractText, long self)
    {
        ulong[]? shingles = null;
        foreach (var hit in database.Vectors.Search(vector, Settings.Neighbours, DuplicateSearchWidth(Settings.Neighbours)))
        {
            if (hit.Id == self || hit.Score < Settings.CandidateCosine || await database.GetPaperAsync(hit.Id).ConfigureAwait(false) is not { } candidate) continue;
            shingles ??= LexicalSimilarity.ShinglesOf(title, abstractText);
            double lexical = LexicalSimilarity.Jaccard(shingles, LexicalSimilarity.ShinglesOf(candidate.Title, candidate.Abstract));
            if (lexical >= Settings.LexicalThreshold) return (candidate, hit.Score, lexical);
        }
        return null;
    }

    /// <summary>
    /// The graph search width of duplicate checks, fixed by the settings rather than the index's
    /// default ef: near-copies are each other's closest neighbours, which the graph finds at this
    /// width at any size. (Below the exact-search crossover the database scans exactly anyway.)
    /// </summary>
    int DuplicateSearchWidth(int k) => Math.Max(k, Settings.SearchWidth);

    /// <summary>
    /// The candidates of a listed paper: its nearest listed neighbours (other than itself) in this
    /// store at or above the candidate cosine, best first; <see cref="Confirm"/> decides each pair.
    /// A cluster asks every shard and keeps the best <see cref="DuplicateSettings.Neighbours"/> + 1 of the union.
    /// </summary>
    public List<(long Key, float Cosine)> Candidates(long self, ReadOnlySpan<float> vector, Func<long, bool> listed) =>
        database.Vectors.Search(vector, Settings.Neighbours + 1, DuplicateSearchWidth(Settings.Neighbours + 1), listed)
            .Where(h => h.Id != self && h.Score >= Settings.CandidateCosine).Select(h => (h.Id, h.Score)).ToList();

    /// <summary>A candidate pair, confirmed when the word shingles of the two texts overlap enough; null otherwise.</summary>
    public static Edge? Confirm(DuplicateSettings settings, long a, long b, double cosine, ulong[] shinglesA, ulong[] shinglesB)
    {
        double lexical = LexicalSimilarity.Jaccard(shinglesA, shinglesB);
        return lexical >= settings.LexicalThreshold ? new Edge(Math.Min(a, b), Math.Max(a, b), cosine, lexical) : null;
    }

    /// <summary>Pairs of different listed papers whose embeddings are close and whose wording overlaps.</summary>
    List<Edge> SimilarPairs(Dictionary<long, List<Listing>> listings, Func<long, PaperRecord?> paper, int threads)
    {
        var shingles = new ConcurrentDictionary<long, ulong[]>();
        ulong[] ShinglesOf(long key) => shingles.GetOrAdd(key, k => paper(k) is { } p ? LexicalSimilarity.ShinglesOf(p.Title, p.Abstract) : []);
        var keys = listings.Keys.ToArray();
        var edges = new ConcurrentBag<Edge>();
        var seen = new ConcurrentDictionary<(long, long), byte>();
        Func<long, bool> listed = listings.ContainsKey;
        Parallel.For(0, keys.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, () => new float[database.Dimension], (i, _, vector) =>
        {
            long key = keys[i];
            if (!database.TryReadVector(key, vector)) return vector;
            foreach (var (other, cosine) in Candidates(key, vector, listed))
            {
                var pair = key < other ? (key, other) : (other, key);
                if (!seen.TryAdd(pair, 0)) continue;
                if (Confirm(Settings, key, other, cosine, ShinglesOf(key), ShinglesOf(other)) is { } edge) edges.Add(edge);
            }
            return vector;
        }, _ => { });
        return edges.ToList();
    }

    static DuplicateGroup Describe(DuplicateSettings settings, Dictionary<long, PaperRecord> records, List<(long Key, ulong Hash)> members, List<Edge> edges, List<DuplicateListing> listed)
    {
        double cosine = 1, lexical = 1;
        foreach (var e in edges) { cosine = Math.Min(cosine, e.Cosine); lexical = Math.Min(lexical, e.Lexical); }

        // Within one record, compare each listed text with the first one listed.
        bool titleChanged = false, textChanged = false;
        foreach (var group in members.GroupBy(m => m.Key))
        {
            var record = records[group.Key];
            var versions = group.Select(m => record.VersionOf(m.Hash)).DistinctBy(v => v.TextHash).ToList();
            for (int i = 1; i < versions.Count; i++)
            {
                textChanged = true;
                titleChanged |= PaperIdentity.NormalizeTitle(versions[i].Title) != PaperIdentity.NormalizeTitle(versions[0].Title);
                if (Cosine(versions[0].Vector, versions[i].Vector) is var c && !double.IsNaN(c)) cosine = Math.Min(cosine, c);
                lexical = Math.Min(lexical, LexicalSimilarity.Jaccard(
                    LexicalSimilarity.ShinglesOf(versions[0].Title, versions[0].Abstract), LexicalSimilarity.ShinglesOf(versions[i].Title, versions[i].Abstract)));
            }
        }

        (cosine, lexical) = (Math.Round(cosine, 4), Math.Round(lexical, 4));
        if (records.Count > 1)
            return new DuplicateGroup(DuplicateKind.Retitled, listed, cosine, lexical,
                $"different titles; cosine >= {settings.CandidateCosine:0.00} and word-shingle Jaccard >= {settings.LexicalThreshold:0.00}");
        if (titleChanged)
            return new DuplicateGroup(DuplicateKind.Retitled, listed, cosine, lexical, "same source id, title changed");
        if (textChanged)
            return new DuplicateGroup(DuplicateKind.Revised, listed, cosine, lexical, "same normalized title, abstract changed");
        return new DuplicateGroup(DuplicateKind.Exact, listed, 1, 1, "same normalized title and abstract");
    }

    static double Cosine(float[] a, float[] b) =>
        a.Length == b.Length && a.Length > 0 ? VectorKernels.Dot(a, b) : double.NaN;
}
