using System.Text.Json;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Bench.Evaluation;

/// <summary>One paper of the arXiv corpus with what the recommendation proxies need.</summary>
public sealed record ListedPaper(string Id, string Title, string Abstract, IReadOnlyList<string> Authors, IReadOnlyList<string> Categories, DateOnly Listed);

/// <summary>
/// One library and the later days it is judged on: liked (and disliked) papers from before the test
/// window, and per test day the day's listing with the papers the reader would want marked.
/// </summary>
public sealed record RecommendTask(string Kind, string Name, IReadOnlyList<long> Liked, IReadOnlyList<long> Disliked,
    IReadOnlyList<(DateOnly Day, IReadOnlyCollection<long> Listing, IReadOnlySet<long> Wanted)> Days);

/// <summary>
/// Recommendation quality on the shared arXiv corpus, with proxies a reader of daily listings stands
/// for:
/// - author: a library of one author's papers listed before the test window (the last 50); on each
///   test day that author has a paper, rank that day's whole listing; the author's papers are wanted.
///   (A researcher's own earlier papers are the best record of their interests we have.)
/// - category: a library of 50 papers of one arXiv category (any listed category, not the dominant
///   ones); on each test day, the day's papers in that category are wanted.
/// - category + not interested: the same, with 20 disliked papers: those outside the category the
///   liked papers' centroid ranks highest before the test window, as a reader marks "not interested"
///   on the near misses they were shown.
/// Each ranking is nDCG@10 over the day's listing (binary gains), averaged over (library, day).
/// </summary>
public static class RecommendEvaluation
{
    public const int LibrarySize = 50, Disliked = 20, MinLibrary = 5;

    public static List<ListedPaper> LoadCorpus(string path, DateOnly since)
    {
        var papers = new List<ListedPaper>();
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            var listed = DateOnly.Parse(e.GetProperty("listing_date").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            if (listed < since) continue;
            papers.Add(new ListedPaper(e.GetProperty("id").GetString()!, e.GetProperty("title").GetString()!, e.GetProperty("abstract").GetString() ?? "",
                Strings(e, "authors"), Strings(e, "categories"), listed));
        }
        return papers;
    }

    static List<string> Strings(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : [];

    /// <summary>The author and category tasks (see the class comment), deterministic for a corpus and dates.</summary>
    public static List<RecommendTask> Tasks(IReadOnlyList<ListedPaper> papers, Func<string, long?> keyOf, DateOnly testFrom, int maxAuthors, PaperDatabase db)
    {
        var stored = papers.Select(p => (Paper: p, Key: keyOf(p.Id))).Where(p => p.Key != null).Select(p => (p.Paper, Key: p.Key!.Value)).ToList();
        var train = stored.Where(p => p.Paper.Listed < testFrom).OrderBy(p => p.Paper.Listed).ThenBy(p => p.Paper.Id, StringComparer.Ordinal).ToList();
        var test = stored.Where(p => p.Paper.Listed >= testFrom).ToList();
        var days = test.GroupBy(p => p.Paper.Listed).OrderBy(g => g.Key).Select(g => (Day: g.Key, Papers: g.ToList())).ToList();
        var tasks = new List<RecommendTask>();

        // Authors: at least MinLibrary earlier papers and a paper on a test day.
        var byAuthor = train.SelectMany(p => p.Paper.Authors.Select(a => (Author: a, p.Key))).GroupBy(x => x.Author, StringComparer.Ordinal)
            .Where(g => g.Count() >= MinLibrary).ToDictionary(g => g.Key, g => g.Select(x => x.Key).ToList(), StringComparer.Ordinal);
        var authors = byAuthor.Keys.Where(a => test.Any(p => p.Paper.Authors.Contains(a)))
            .OrderBy(a => StableHash(a)).Take(maxAuthors).Order(StringComparer.Ordinal).ToList();
        foreach (var author in authors)
        {
            var judged = days.Select(d => (d.Day, Listing: (IReadOnlyCollection<long>)d.Papers.Select(p => p.Key).ToHashSet(),
                    Wanted: (IReadOnlySet<long>)d.Papers.Where(p => p.Paper.Authors.Contains(author)).Select(p => p.Key).ToHashSet()))
                .Where(d => d.Wanted.Count > 0).ToList();
            tasks.Add(new RecommendTask("author", author, byAuthor[author].TakeLast(LibrarySize).ToList(), [], judged));
        }

        // Categories: enough earlier papers for a library, and not so common that most of a day is wanted.
        var categories = train.SelectMany(p => p.Paper.Categories).GroupBy(c => c, StringComparer.Ordinal)
            .Where(g => g.Count() >= LibrarySize + 10 && test.Count(p => p.Paper.Categories.Contains(g.Key)) is var n && n > 0 && n <= test.Count / 5)
            .Select(g => g.Key).Order(StringComparer.Ordinal).ToList();
        foreach (var category in categories)
        {
            var liked = train.Where(p => p.Paper.Categories.Contains(category)).Select(p => p.Key).TakeLast(LibrarySize).ToList();
            var judged = days.Select(d => (d.Day, Listing: (IReadOnlyCollection<long>)d.Papers.Select(p => p.Key).ToHashSet(),
                    Wanted: (IReadOnlySet<long>)d.Papers.Where(p => p.Paper.Categories.Contains(category)).Select(p => p.Key).ToHashSet()))
                .Where(d => d.Wanted.Count > 0).ToList();
            tasks.Add(new RecommendTask("category", category, liked, [], judged));
            var outside = train.Where(p => !p.Paper.Categories.Contains(category)).Select(p => p.Key).ToHashSet();
            tasks.Add(new RecommendTask("category+disliked", category, liked, NearMisses(db, liked, outside), judged));
        }
        return tasks;
    }

    /// <summary>The papers outside a category that its liked papers' centroid ranks highest: the "not interested" marks of the proxy.</summary>
    static List<long> NearMisses(PaperDatabase db, List<long> liked, HashSet<long> outside)
    {
        var centroid = new float[db.Dimension];
        var v = new float[db.Dimension];
        foreach (long key in liked)
            if (db.TryReadVector(key, v)) for (int i = 0; i < v.Length; i++) centroid[i] += v[i];
        Index.VectorKernels.Normalize(centroid);
        return db.Vectors.Search(centroid, Disliked, ef: 400, filter: outside.Contains).Select(h => h.Id).ToList();
    }

    /// <summary>Mean nDCG@10 of a ranker over every (task, day) of one kind.</summary>
    public static async Task<double> MeanNdcgAsync(IEnumerable<RecommendTask> tasks, Func<RecommendTask, IReadOnlyCollection<long>, Task<List<long>>> rank)
    {
        double sum = 0;
        int count = 0;
        foreach (var task in tasks)
            foreach (var (_, listing, wanted) in task.Days)
            {
                var ranked = await rank(task, listing);
                var judged = wanted.ToDictionary(k => k.ToString(), _ => 1);
                sum += RetrievalMetrics.NdcgAtK(ranked.Select(k => k.ToString()).ToList(), judged, 10);
                count++;
            }
        return count == 0 ? 0 : sum / count;
    }

    /// <summary>The engine's ranking of a listing for a task's library with one strategy.</summary>
    public static async Task<List<long>> EngineRankingAsync(PaperDatabase db, RecommendTask task, IReadOnlyCollection<long> listing, RecommendStrategy strategy, double? semanticWeight = null)
    {
        var query = new RecommendQuery(task.Liked, task.Disliked) { Strategy = strategy, Candidates = listing };
        if (semanticWeight is double w) query = query with { SemanticWeight = w };
        var results = await Recommender.RankAsync(db, query, new SearchScope { K = 10 });
        return results.Select(r => PaperIdentity.TryParse(r.Id, out long key) ? key : 0).ToList();
    }

    /// <summary>The engine's score of every listed paper outside the library (for fusions measured here).</summary>
    public static async Task<Dictionary<long, double>> EngineScoresAsync(PaperDatabase db, RecommendTask task, IReadOnlyCollection<long> listing, RecommendStrategy strategy)
    {
        var query = new RecommendQuery(task.Liked, task.Disliked) { Strategy = strategy, Candidates = listing };
        var results = await Recommender.RankAsync(db, query, new SearchScope { K = Math.Clamp(listing.Count, 1, SearchScope.MaxK) });
        return results.ToDictionary(r => PaperIdentity.TryParse(r.Id, out long key) ? key : 0, r => r.Score);
    }

    /// <summary>Convex fusion of two score maps, each min-max normalised (as hybrid search fuses), top 10.</summary>
    public static List<long> Fuse(Dictionary<long, double> a, Dictionary<long, double> b, double weightOfA)
    {
        static Func<long, double> Normalised(Dictionary<long, double> scores)
        {
            if (scores.Count == 0) return _ => 0;
            double min = scores.Values.Min(), range = scores.Values.Max() - min;
            return key => scores.TryGetValue(key, out double s) ? (range > 0 ? (s - min) / range : 1) : 0;
        }
        var na = Normalised(a);
        var nb = Normalised(b);
        return a.Keys.Union(b.Keys).Select(k => (Key: k, Score: weightOfA * na(k) + (1 - weightOfA) * nb(k)))
            .OrderByDescending(s => s.Score).ThenBy(s => s.Key).Take(10).Select(s => s.Key).ToList();
    }

    static ulong StableHash(string s) => System.IO.Hashing.XxHash3.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(s));
}
