using System.Collections.Concurrent;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Bench.Evaluation;

/// <summary>One judged ranking: a library of a given size, a ~100-paper listing of a later day, the papers of it the reader wants.</summary>
public sealed record SizedTask(string Proxy, string Name, int Size, bool Tuning, IReadOnlyList<long> Liked, IReadOnlyList<long> Disliked,
    IReadOnlyCollection<long> Listing, IReadOnlySet<long> Wanted);

/// <summary>
/// Recommendation quality by library size (1, 3, 5, 10, 50 liked papers), with proxies a reader of
/// daily listings stands for, all from the shared arXiv corpus:
/// - author: the author's last N papers listed before the test window are the library; their first
///   paper on a test day hides among 100 papers of that day's listing (a researcher's own earlier
///   papers are the best record of their interests we have; the held-out check uses research groups).
/// - category: the last N papers of one arXiv category (not a dominant one) before the window; a test
///   day's 100-paper listing, the category's papers in it wanted.
/// - category + not interested: the same with min(N, 20) disliked near misses (papers outside the
///   category the liked centroid ranks highest before the window, as a reader marks what they were shown).
/// Tasks are split by a hash of the author or category name into a tuning part (weights are chosen
/// there) and a test part (reported), so no figure of the test part chose anything.
/// </summary>
public static class LibrarySizeEvaluation
{
    public static readonly int[] Sizes = [1, 3, 5, 10, 50];
    public const int ListingSize = 100, MaxDisliked = 20, CategoryDays = 3;

    public static bool IsTuning(string name) => StableHash("part:" + name) % 2 == 0;

    public static List<SizedTask> Tasks(IReadOnlyList<ListedPaper> papers, Func<string, long?> keyOf, DateOnly testFrom, int maxAuthors, PaperDatabase db)
    {
        var stored = papers.Select(p => (Paper: p, Key: keyOf(p.Id))).Where(p => p.Key != null).Select(p => (p.Paper, Key: p.Key!.Value)).ToList();
        var train = stored.Where(p => p.Paper.Listed < testFrom).OrderBy(p => p.Paper.Listed).ThenBy(p => p.Paper.Id, StringComparer.Ordinal).ToList();
        var test = stored.Where(p => p.Paper.Listed >= testFrom).ToList();
        var days = test.GroupBy(p => p.Paper.Listed).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.ToList());
        var tasks = new List<SizedTask>();

        // A day's listing of ListingSize papers: the wanted ones and the others of the day by a hash of the task.
        List<long> Listing(DateOnly day, IReadOnlySet<long> wanted, string salt) =>
            [.. wanted, .. days[day].Where(p => !wanted.Contains(p.Key)).OrderBy(p => StableHash(salt + p.Paper.Id)).Take(ListingSize - wanted.Count).Select(p => p.Key)];

        var byAuthor = train.SelectMany(p => p.Paper.Authors.Select(a => (Author: a, p.Key))).GroupBy(x => x.Author, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(x => x.Key).ToList(), StringComparer.Ordinal);
        var firstTestPaper = new Dictionary<string, (DateOnly Day, HashSet<long> Keys)>(StringComparer.Ordinal);
        foreach (var (day, listed) in days)
            foreach (var p in listed)
                foreach (var author in p.Paper.Authors)
                {
                    if (!byAuthor.ContainsKey(author)) continue;
                    if (!firstTestPaper.TryGetValue(author, out var first)) firstTestPaper[author] = (day, [p.Key]);
                    else if (first.Day == day) first.Keys.Add(p.Key);
                }
        foreach (int size in Sizes)
        {
            var authors = firstTestPaper.Keys.Where(a => byAuthor[a].Count >= size).OrderBy(a => StableHash(a)).Take(maxAuthors).Order(StringComparer.Ordinal);
            foreach (var author in authors)
            {
                var (day, wanted) = firstTestPaper[author];
                var library = byAuthor[author].TakeLast(size).ToList();
                var hidden = wanted.Where(k => !library.Contains(k)).ToHashSet();
                if (hidden.Count == 0 || hidden.Count >= ListingSize / 2) continue;
                tasks.Add(new SizedTask("author", author, size, IsTuning(author), library, [], Listing(day, hidden, author), hidden));
            }
        }

        var categories = train.SelectMany(p => p.Paper.Categories).GroupBy(c => c, StringComparer.Ordinal)
            .Where(g => g.Count() >= Sizes.Max() + 10 && test.Count(p => p.Paper.Categories.Contains(g.Key)) is var n && n > 0 && n <= test.Count / 5)
            .Select(g => g.Key).Order(StringComparer.Ordinal).ToList();
        foreach (var category in categories)
        {
            var inCategory = train.Where(p => p.Paper.Categories.Contains(category)).Select(p => p.Key).ToList();
            var outside = train.Where(p => !p.Paper.Categories.Contains(category)).Select(p => p.Key).ToHashSet();
            var judgedDays = days.Keys.Where(d => days[d].Any(p => p.Paper.Categories.Contains(category))).OrderBy(d => StableHash(category + d.ToString("O"))).Take(CategoryDays).ToList();
            foreach (int size in Sizes)
            {
                var liked = inCategory.TakeLast(size).ToList();
                var disliked = NearMisses(db, liked, outside, Math.Min(size, MaxDisliked));
                foreach (var day in judgedDays)
                {
                    var listing = Listing(day, new HashSet<long>(), category + day.ToString("O"));
                    var wanted = days[day].Where(p => p.Paper.Categories.Contains(category) && listing.Contains(p.Key)).Select(p => p.Key).ToHashSet();
                    if (wanted.Count == 0) continue;
                    tasks.Add(new SizedTask("category", category, size, IsTuning(category), liked, [], listing, wanted));
                    tasks.Add(new SizedTask("category+disliked", category, size, IsTuning(category), liked, disliked, listing, wanted));
                }
            }
        }
        return tasks;
    }

    /// <summary>The papers outside a category that its liked papers' centroid ranks highest: the "not interested" marks of the proxy.</summary>
    static List<long> NearMisses(PaperDatabase db, List<long> liked, HashSet<long> outside, int count)
    {
        var centroid = new float[db.Dimension];
        var v = new float[db.Dimension];
        foreach (long key in liked)
            if (db.TryReadVector(key, v)) for (int i = 0; i < v.Length; i++) centroid[i] += v[i];
        Index.VectorKernels.Normalize(centroid);
        return db.Vectors.Search(centroid, count, ef: 400, filter: outside.Contains).Select(h => h.Id).ToList();
    }

    /// <summary>MRR, hit@10 and nDCG@10 of one ranking (binary gains).</summary>
    public static (double Rr, double Hit, double Ndcg) Measure(IReadOnlyList<long> ranked, IReadOnlySet<long> wanted)
    {
        int first = -1;
        for (int i = 0; i < ranked.Count && first < 0; i++) if (wanted.Contains(ranked[i])) first = i;
        double rr = first < 0 ? 0 : 1.0 / (first + 1);
        double hit = first is >= 0 and < 10 ? 1 : 0;
        double ndcg = RetrievalMetrics.NdcgAtK(ranked.Take(10).Select(k => k.ToString()).ToList(), wanted.ToDictionary(k => k.ToString(), _ => 1), 10);
        return (rr, hit, ndcg);
    }

    /// <summary>A score map ranked best first (ties by key).</summary>
    public static List<long> Ranked(IReadOnlyDictionary<long, double> scores) =>
        scores.OrderByDescending(s => s.Value).ThenBy(s => s.Key).Select(s => s.Key).ToList();

    /// <summary>Reciprocal rank fusion (k = 60) of components' rankings.</summary>
    public static Dictionary<long, double> RankFusion(IEnumerable<Dictionary<long, double>> components)
    {
        var fused = new Dictionary<long, double>();
        foreach (var scores in components)
        {
            var ranked = Ranked(scores);
            for (int i = 0; i < ranked.Count; i++) fused[ranked[i]] = fused.GetValueOrDefault(ranked[i]) + 1.0 / (60 + i + 1);
        }
        return fused;
    }

    static ulong StableHash(string s) => System.IO.Hashing.XxHash3.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(s));
}

/// <summary>
/// A source that remembers what it read (vectors, tokens, document frequencies): the evaluation
/// ranks the same papers hundreds of times, and the store does not change under it.
/// </summary>
public sealed class CachingRecommendSource(IRecommendSource inner) : IRecommendSource
{
    readonly ConcurrentDictionary<long, float[]?> _vectors = new();
    readonly ConcurrentDictionary<long, IReadOnlyList<string>> _tokens = new();
    readonly ConcurrentDictionary<string, int> _docFreqs = new(StringComparer.Ordinal);
    int _docs = -1;

    public int Dimension => inner.Dimension;

    public async Task<Dictionary<long, float[]>> VectorsAsync(IReadOnlyCollection<long> keys)
    {
        var missing = keys.Where(k => !_vectors.ContainsKey(k)).Distinct().ToList();
        if (missing.Count > 0)
        {
            var read = await inner.VectorsAsync(missing);
            foreach (long k in missing) _vectors[k] = read.GetValueOrDefault(k);
        }
        var result = new Dictionary<long, float[]>(keys.Count);
        foreach (long k in keys) if (_vectors[k] is { } v) result[k] = v;
        return result;
    }

    public Task<List<long>> SampleKeysAsync(int count, int seed, IReadOnlySet<long> excluded) => inner.SampleKeysAsync(count, seed, excluded);

    public async Task<List<IReadOnlyList<string>>> TermsOfAsync(IReadOnlyList<long> keys)
    {
        var missing = keys.Where(k => !_tokens.ContainsKey(k)).Distinct().ToList();
        if (missing.Count > 0)
        {
            var read = await inner.TermsOfAsync(missing);
            for (int i = 0; i < missing.Count; i++) _tokens[missing[i]] = read[i];
        }
        return keys.Select(k => _tokens[k]).ToList();
    }

    public async Task<(Dictionary<string, int> DocFreqs, int Docs)> DocFreqsAsync(IReadOnlyCollection<string> terms)
    {
        var missing = terms.Where(t => !_docFreqs.ContainsKey(t)).ToList();
        if (missing.Count > 0 || _docs < 0)
        {
            var (read, docs) = await inner.DocFreqsAsync(missing);
            foreach (var (t, df) in read) _docFreqs[t] = df;
            _docs = docs;
        }
        return (terms.Distinct(StringComparer.Ordinal).ToDictionary(t => t, t => _docFreqs[t], StringComparer.Ordinal), _docs);
    }

    public Task<List<(long Key, double Score)>> RankAsync(LibraryModel model, IReadOnlyCollection<long>? candidates, SearchScope scope, int depth) =>
        inner.RankAsync(model, candidates, scope, depth);

    public Task<List<(long Key, double Score)>> SearchTermsAsync(LibraryModel model, IReadOnlyList<(string Term, float Weight)> profile, IReadOnlyCollection<long>? candidates, SearchScope scope, int depth) =>
        inner.SearchTermsAsync(model, profile, candidates, scope, depth);

    public Task<List<(long Key, double Score)>> DiversifyAsync(List<(long Key, double Score)> ranked, int k, double diversity) => inner.DiversifyAsync(ranked, k, diversity);

    public Task<List<SearchResult>> ShapeAsync(List<(long Key, double Score)> ranked, LibraryModel model) => inner.ShapeAsync(ranked, model);
}
