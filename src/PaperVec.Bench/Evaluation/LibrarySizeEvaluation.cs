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
///   papers are the best record of their interests we have).
/// - author pair: two co-authors' last N joint papers before the window; their first joint paper on
///   a test day hides in that day's listing (closest to the held-out check's research groups).
/// - category: the last N papers of one arXiv category (not a dominant one) before the window; a test
///   day's 100-paper listing, the category's papers in it wanted.
/// - "+disliked" (author pair and category): the same with min(N, 20) disliked near misses (papers
///   before the window, not the category's or the pair's, that the liked centroid ranks highest, as a
///   reader marks what they were shown).
/// Tasks are split into a tuning part (weights are chosen there) and a test part (reported) by a
/// hash of what they hide: the hidden paper for the author proxies (every author and pair of one
/// paper, at every size, falls in the same part, so no hidden paper is ranked in both), the category
/// for the category proxies. No figure of the test part chose anything.
/// </summary>
public static class LibrarySizeEvaluation
{
    public static readonly int[] Sizes = [1, 3, 5, 10, 50];
    public const int ListingSize = 100, MaxDisliked = 20, CategoryDays = 3;

    public static bool IsTuning(string name) => StableHash("part:" + name) % 2 == 0;

    /// <summary>Authors a paper may have for its author pairs to count: larger collaborations are not a research group.</summary>
    public const int MaxPairAuthors = 12;

    /// <summary>
    /// The half of the tuning part a task falls in for the cross-validation that decides how finely to
    /// tune: by its hidden paper (author proxies) or its category, as the parts are split.
    /// </summary>
    public static int Fold(SizedTask task) =>
        (int)(StableHash("fold:" + (task.Proxy.StartsWith("category", StringComparison.Ordinal) ? task.Name : task.Wanted.Min().ToString(System.Globalization.CultureInfo.InvariantCulture))) % 2);

    /// <summary>
    /// Every task of the corpus. <paramref name="nearMisses"/> finds the disliked near misses of a
    /// library (count papers the filter allows, nearest the liked centroid); <paramref name="maxAuthors"/>
    /// caps the author and the author-pair tasks per size (chosen by a hash, not by order).
    /// </summary>
    public static List<SizedTask> Tasks(IReadOnlyList<ListedPaper> papers, Func<string, long?> keyOf, DateOnly testFrom, int maxAuthors,
        Func<IReadOnlyList<long>, Func<long, bool>, int, List<long>> nearMisses)
    {
        var stored = papers.Select(p => (Paper: p, Key: keyOf(p.Id))).Where(p => p.Key != null).Select(p => (p.Paper, Key: p.Key!.Value)).ToList();
        var train = stored.Where(p => p.Paper.Listed < testFrom).OrderBy(p => p.Paper.Listed).ThenBy(p => p.Paper.Id, StringComparer.Ordinal).ToList();
        var trainKeys = train.Select(p => p.Key).ToHashSet();
        var test = stored.Where(p => p.Paper.Listed >= testFrom).ToList();
        var days = test.GroupBy(p => p.Paper.Listed).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.ToList());
        var idOf = new Dictionary<long, string>();
        foreach (var p in stored) idOf.TryAdd(p.Key, p.Paper.Id); // a record listed twice resolves to one paper
        var tasks = new List<SizedTask>();

        // A day's listing of ListingSize papers: the wanted ones and the others of the day by a hash of the task.
        List<long> Listing(DateOnly day, IReadOnlySet<long> wanted, string salt) =>
            [.. wanted, .. days[day].Where(p => !wanted.Contains(p.Key)).OrderBy(p => StableHash(salt + p.Paper.Id)).Take(ListingSize - wanted.Count).Select(p => p.Key)];
        // The part of an author task: by its hidden paper (the first by id when several hide).
        bool HiddenTuning(IEnumerable<long> hidden) => IsTuning(hidden.Select(k => idOf[k]).Min(StringComparer.Ordinal)!);

        // Authors (one name) and author pairs ("a & b", names in ordinal order) with their papers before the window, oldest first.
        var groups = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        static IEnumerable<(string Proxy, string Name)> GroupsOf(ListedPaper p)
        {
            var authors = p.Authors.Where(a => a.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            foreach (var a in authors) yield return ("author", a);
            if (authors.Count > MaxPairAuthors) yield break;
            for (int i = 0; i < authors.Count; i++)
                for (int j = i + 1; j < authors.Count; j++) yield return ("author-pair", authors[i] + " & " + authors[j]);
        }
        foreach (var p in train)
            foreach (var (_, name) in GroupsOf(p.Paper))
            {
                if (!groups.TryGetValue(name, out var list)) groups[name] = list = [];
                list.Add(p.Key);
            }
        var firstTestPaper = new Dictionary<string, (string Proxy, DateOnly Day, HashSet<long> Keys)>(StringComparer.Ordinal);
        foreach (var (day, listed) in days)
            foreach (var p in listed)
                foreach (var (proxy, name) in GroupsOf(p.Paper))
                {
                    if (!groups.ContainsKey(name)) continue;
                    if (!firstTestPaper.TryGetValue(name, out var first)) firstTestPaper[name] = (proxy, day, [p.Key]);
                    else if (first.Day == day) first.Keys.Add(p.Key);
                }
        foreach (var proxy in new[] { "author", "author-pair" })
            foreach (int size in Sizes)
            {
                var names = firstTestPaper.Where(f => f.Value.Proxy == proxy && groups[f.Key].Count >= size).Select(f => f.Key)
                    .OrderBy(a => StableHash(a)).Take(maxAuthors).Order(StringComparer.Ordinal);
                foreach (var name in names)
                {
                    var (_, day, wanted) = firstTestPaper[name];
                    var library = groups[name].TakeLast(size).ToList();
                    var hidden = wanted.Where(k => !library.Contains(k)).ToHashSet();
                    if (hidden.Count == 0 || hidden.Count >= ListingSize / 2) continue;
                    var listing = Listing(day, hidden, name);
                    bool tuning = HiddenTuning(hidden);
                    tasks.Add(new SizedTask(proxy, name, size, tuning, library, [], listing, hidden));
                    if (proxy != "author-pair") continue;
                    // Near misses: papers before the window by neither author.
                    var theirs = groups[name].ToHashSet();
                    var disliked = nearMisses(library, key => trainKeys.Contains(key) && !theirs.Contains(key), Math.Min(size, MaxDisliked));
                    tasks.Add(new SizedTask(proxy + "+disliked", name, size, tuning, library, disliked, listing, hidden));
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
                var disliked = nearMisses(liked, outside.Contains, Math.Min(size, MaxDisliked));
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

    /// <summary>The papers the filter allows that the liked papers' centroid ranks highest: the "not interested" marks of the proxies.</summary>
    public static List<long> NearMisses(PaperDatabase db, IReadOnlyList<long> liked, Func<long, bool> allowed, int count)
    {
        var centroid = new float[db.Dimension];
        var v = new float[db.Dimension];
        foreach (long key in liked)
            if (db.TryReadVector(key, v)) for (int i = 0; i < v.Length; i++) centroid[i] += v[i];
        Index.VectorKernels.Normalize(centroid);
        return db.Vectors.Search(centroid, count, ef: 400, filter: k => allowed(k)).Select(h => h.Id).ToList();
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

    /// <summary>
    /// MRR, hit@10 and nDCG@10 of candidates ranked by <paramref name="scores"/> (higher first, ties by
    /// key, as <see cref="Ranked"/>), without sorting: each wanted paper's place is the count of
    /// candidates ahead of it. The evaluation measures hundreds of weightings per ranking this way.
    /// </summary>
    public static (double Rr, double Hit, double Ndcg) Measure(long[] keys, double[] scores, bool[] wanted, int wantedCount)
    {
        int first = int.MaxValue;
        double dcg = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            if (!wanted[i]) continue;
            int place = 0;
            for (int j = 0; j < keys.Length; j++)
                if (scores[j] > scores[i] || (scores[j] == scores[i] && keys[j] < keys[i])) place++;
            first = Math.Min(first, place);
            if (place < 10) dcg += 1 / Math.Log2(place + 2);
        }
        double ideal = 0;
        for (int i = 0; i < Math.Min(10, wantedCount); i++) ideal += 1 / Math.Log2(i + 2);
        return first == int.MaxValue ? (0, 0, 0) : (1.0 / (first + 1), first < 10 ? 1 : 0, ideal == 0 ? 0 : dcg / ideal);
    }

    /// <summary>
    /// One strategy against another over the same rankings: wins, ties and losses by reciprocal rank,
    /// the mean difference of <paramref name="a"/> - <paramref name="b"/>, and its 95% paired bootstrap
    /// interval (rankings resampled with replacement, seeded, so a run prints the same interval).
    /// </summary>
    public static (int Wins, int Ties, int Losses, double Difference, double Low, double High) Paired(IReadOnlyList<double> a, IReadOnlyList<double> b, int resamples = 2000, int seed = 28)
    {
        if (a.Count != b.Count) throw new ArgumentException("paired lists differ in length");
        int n = a.Count;
        if (n == 0) return (0, 0, 0, 0, 0, 0);
        var d = new double[n];
        int wins = 0, ties = 0, losses = 0;
        for (int i = 0; i < n; i++)
        {
            d[i] = a[i] - b[i];
            if (Math.Abs(d[i]) < 1e-12) ties++; else if (d[i] > 0) wins++; else losses++;
        }
        var random = new Random(seed);
        var means = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++) sum += d[random.Next(n)];
            means[r] = sum / n;
        }
        Array.Sort(means);
        return (wins, ties, losses, d.Average(), means[(int)(0.025 * (resamples - 1))], means[(int)Math.Ceiling(0.975 * (resamples - 1))]);
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
