using PaperVec.Index;
using PaperVec.Storage;

namespace PaperVec.Search;

/// <summary>Which papers a search may return besides the nearest ones: how many, first-seen dates, and papers to leave out.</summary>
public sealed record SearchScope
{
    public const int MaxK = 1000;

    public int K { get; init; } = 10;
    /// <summary>Only papers first seen on or after this date.</summary>
    public DateOnly? From { get; init; }
    /// <summary>Only papers first seen on or before this date.</summary>
    public DateOnly? To { get; init; }
    /// <summary>Papers never returned: the query paper itself for "similar", the papers of a digest.</summary>
    public IReadOnlySet<long> Exclude { get; init; } = new HashSet<long>();
    /// <summary>0 (none) .. 1: how much maximal marginal relevance trades relevance for results unlike those above them.</summary>
    public double Diversity { get; init; }
}

/// <summary>
/// One search answer as the command line's --json and the HTTP API show it. <see cref="Score"/>:
/// the cosine in semantic mode and for similar papers, BM25 in lexical mode, the fused score
/// (0..1) in hybrid mode. <see cref="Matches"/>: the words of the snippet the query's terms match.
/// </summary>
public sealed record SearchResult(string Id, string Title, string Date, double Score, string Snippet)
{
    public IReadOnlyList<string>? Matches { get; init; }
    /// <summary>Recommendations: the liked papers this one is closest to (cosine), for "because you liked ...".</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<LikedMatch>? Because { get; init; }
    /// <summary>Recommendations where the term model decided: words this paper shares with the liked papers of <see cref="Because"/> ("matches: diffusion, point clouds").</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? SharedTerms { get; init; }
    /// <summary>A digest ordered by a library: "liked" or "disliked" for a paper the reader already judged (ranked after the others).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Judged { get; init; }
    /// <summary>The HTTP API fills these from the stored paper for the page (arXiv links, authors, categories); null elsewhere.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? SourceId { get; init; }
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Authors { get; init; }
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Categories { get; init; }
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Url { get; init; }
}

/// <summary>How free text is matched: BM25 and the embedding fused (default), the embedding alone, or BM25 alone.</summary>
public enum SearchMode { Hybrid, Semantic, Lexical }

/// <summary>How the hybrid mode fuses the two rankings (chosen by measurement: <see cref="PaperSearch.DefaultFusion"/>).</summary>
public enum Fusion { Convex, ReciprocalRank }

/// <summary>A free-text query: its text, its embedding (not needed in lexical mode) and the mode.</summary>
public sealed record SearchQuery(string Text, float[]? Vector, SearchMode Mode = SearchMode.Hybrid)
{
    public Fusion Fusion { get; init; } = PaperSearch.DefaultFusion;
    /// <summary>Weight of the embedding's normalised score in <see cref="Fusion.Convex"/> (BM25 gets the rest).</summary>
    public double SemanticWeight { get; init; } = PaperSearch.DefaultSemanticWeight;

    /// <summary>A mode by name only: Enum.TryParse also took "+1", "-0" and "hybrid,semantic" (flags combined) as modes.</summary>
    public static SearchMode ParseMode(string? text) =>
        string.IsNullOrWhiteSpace(text) ? SearchMode.Hybrid
        : Enum.GetNames<SearchMode>().FirstOrDefault(n => n.Equals(text.Trim(), StringComparison.OrdinalIgnoreCase)) is { } name ? Enum.Parse<SearchMode>(name)
        : throw new InvalidDataException($"unknown search mode '{text}': use hybrid, semantic or lexical");
}

/// <summary>
/// Nearest papers to a unit vector within a <see cref="SearchScope"/>, shaped for people and JSON:
/// the one place the command line and the HTTP API turn index hits into results.
/// </summary>
public static class PaperSearch
{
    /// <summary>Hybrid fusion and its weight, chosen on SciFact (README, Search quality).</summary>
    public const Fusion DefaultFusion = Fusion.Convex;
    public const double DefaultSemanticWeight = 0.5;

    /// <summary>How deep each ranking is read before fusing (at least k).</summary>
    public const int FusionDepth = 100;

    /// <summary>
    /// Free-text search in the query's mode over any source (one node's store, a cluster's shards),
    /// best first: the one recipe. Each ranking is read to the pool depth (hybrid: to at least
    /// <see cref="FusionDepth"/>, then fused), and maximal marginal relevance picks k when diversity is asked.
    /// </summary>
    public static async Task<List<SearchResult>> RunAsync(ISearchSource source, SearchQuery query, SearchScope scope)
    {
        CheckQuery(query);
        int k = CheckedK(scope);
        CheckDiversity(scope);
        // With diversity, a deeper pool is read and maximal marginal relevance picks k from it.
        int depth = MaximalMarginalRelevance.PoolDepth(k, scope.Diversity);
        List<(long Key, double Score)> hits;
        if (query.Mode != SearchMode.Hybrid) hits = await source.RankingAsync(query, query.Mode, scope, depth).ConfigureAwait(false);
        else
        {
            int fusionDepth = Math.Max(depth, FusionDepth);
            var semantic = source.RankingAsync(query, SearchMode.Semantic, scope, fusionDepth);
            var lexical = LexicalOrNoneAsync(source, query, scope, fusionDepth);
            hits = Fuse(await semantic.ConfigureAwait(false), await lexical.ConfigureAwait(false), query, depth);
        }
        if (scope.Diversity > 0)
            hits = MaximalMarginalRelevance.Select(await source.VectorsAsync(hits.Select(h => h.Key).ToList()).ConfigureAwait(false), hits, k, scope.Diversity);
        return await source.ShapeAsync(hits, query).ConfigureAwait(false);
    }

    /// <summary>
    /// The lexical ranking of a hybrid search, or none while the lexical index is being rebuilt: the
    /// answer is then by meaning alone, and <see cref="PaperDatabase.LexicalDegraded"/> says so.
    /// </summary>
    static async Task<List<(long Key, double Score)>> LexicalOrNoneAsync(ISearchSource source, SearchQuery query, SearchScope scope, int depth)
    {
        try { return await source.RankingAsync(query, SearchMode.Lexical, scope, depth).ConfigureAwait(false); }
        catch (Lexical.LexicalUnavailableException) { return []; }
    }

    /// <summary>The query's lexical terms (analysed as the lexical index analyses text).</summary>
    public static HashSet<string> QueryTerms(PaperDatabase db, string text) => db.LexicalTerms(text).ToHashSet(StringComparer.Ordinal);

    /// <summary>The words of a result's title and snippet that the query's terms match (the page marks them).</summary>
    public static List<string> MatchedWords(PaperDatabase db, PaperSummary paper, HashSet<string> terms) => MatchedWords(db, paper.Title + " " + paper.Snippet, terms);

    /// <summary>
    /// One ranking of a query within a scope, best first and unshaped: a cluster shard's part of a
    /// search. The cluster merges every shard's list into one before fusing, as <see cref="RunAsync"/> fuses one node's.
    /// </summary>
    /// <summary>The deepest one ranking is read: the diversity pool of the largest k.</summary>
    public static readonly int MaxRankingDepth = MaximalMarginalRelevance.PoolDepth(SearchScope.MaxK, 1);

    public static List<(long Key, double Score)> Ranking(PaperDatabase db, SearchQuery query, SearchMode ranking, SearchScope scope, int depth)
    {
        // A shard reads the pool maximal marginal relevance picks from: up to PoolDepth(MaxK, 1), not
        // MaxK (k=1000 with diversity asked a depth of 4000, an ArgumentOutOfRange and a 500 through a cluster).
        if (depth < 1 || depth > MaxRankingDepth) throw new ArgumentOutOfRangeException(nameof(depth), $"depth must be within 1..{MaxRankingDepth}");
        var filter = Filter(db, scope);
        return ranking switch
        {
            SearchMode.Semantic => db.Vectors.Search(Vector(query), depth, filter: filter).Select(h => (h.Id, (double)h.Score)).ToList(),
            SearchMode.Lexical => db.SearchLexical(query.Text, depth, filter).Select(h => (h.Key, (double)h.Score)).ToList(),
            _ => throw new ArgumentException("a ranking is semantic or lexical; hybrid fuses the two", nameof(ranking)),
        };
    }

    static float[] Vector(SearchQuery query) => query.Vector ?? throw new ArgumentException($"{query.Mode} search needs the query's embedding");

    /// <summary>
    /// Fuses a semantic and a lexical ranking. Convex: each list's scores min-max normalised to 0..1
    /// (a paper missing from a list gets 0 there), then weight x semantic + (1 - weight) x lexical.
    /// Reciprocal rank: the sum of 1 / (60 + rank) over the lists.
    /// </summary>
    public static List<(long Key, double Score)> Fuse(List<(long Key, double Score)> semantic, List<(long Key, double Score)> lexical, SearchQuery query, int k)
    {
        var fused = new Dictionary<long, double>();
        void Add(List<(long Key, double Score)> list, double weight)
        {
            if (list.Count == 0) return;
            double max = list.Max(h => h.Score), min = list.Min(h => h.Score), range = max - min;
            for (int rank = 0; rank < list.Count; rank++)
            {
                var (key, score) = list[rank];
                double value = query.Fusion == Fusion.ReciprocalRank ? 1.0 / (60 + rank + 1)
                    : weight * (range > 0 ? (score - min) / range : 1.0);
                fused[key] = fused.GetValueOrDefault(key) + value;
            }
        }
        Add(semantic, query.SemanticWeight);
        Add(lexical, 1 - query.SemanticWeight);
        return fused.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Take(k).Select(p => (p.Key, p.Value)).ToList();
    }

    /// <summary>The distinct words of <paramref name="text"/> whose analyzed form is one of the query's terms.</summary>
    static List<string> MatchedWords(PaperDatabase db, string text, HashSet<string> terms)
    {
        var words = new List<string>();
        if (terms.Count == 0) return words;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            string word = raw.Trim('.', ',', ';', ':', '(', ')', '[', ']', '"', '\'', '!', '?', '…');
            if (word.Length == 0 || !seen.Add(word)) continue;
            if (db.LexicalTerms(word) is [var term] && terms.Contains(term)) words.Add(word);
        }
        return words;
    }

    /// <summary>Papers like the stored paper <paramref name="key"/> ("similar"); null when there is no such paper.</summary>
    public static List<SearchResult>? Similar(PaperDatabase db, long key, SearchScope scope)
    {
        int k = CheckedK(scope);
        CheckDiversity(scope);
        if (db.Vectors.SearchSimilar(key, MaximalMarginalRelevance.PoolDepth(k, scope.Diversity), filter: Filter(db, scope)) is not { } hits) return null;
        if (scope.Diversity <= 0) return Shape(db, hits);
        var picked = MaximalMarginalRelevance.Select(db, hits.Select(h => (h.Id, (double)h.Score)).ToList(), k, scope.Diversity);
        return Shape(db, picked.Select(h => new SearchHit(h.Key, (float)h.Score)).ToArray());
    }

    /// <summary>The longest search text, in characters: a whole abstract fits (a host may hold a lower limit of its own).</summary>
    public const int MaxQueryChars = Ingest.PaperLimits.MaxAbstractChars;

    /// <summary>A search text within <see cref="MaxQueryChars"/>.</summary>
    public static void CheckQuery(SearchQuery query)
    {
        if (query.Text.Length > MaxQueryChars) throw new InvalidDataException($"the search text is longer than {MaxQueryChars:N0} characters");
    }

    public static void CheckDiversity(SearchScope scope)
    {
        if (scope.Diversity is < 0 or > 1 || double.IsNaN(scope.Diversity)) throw new InvalidDataException("diversity must be within 0..1");
    }

    public static int CheckedK(SearchScope scope) =>
        scope.K is < 1 or > SearchScope.MaxK ? throw new ArgumentOutOfRangeException(nameof(scope), $"k must be within 1..{SearchScope.MaxK}") : scope.K;

    internal static Func<long, bool>? Filter(PaperDatabase db, SearchScope scope)
    {
        DateOnly? from = scope.From, to = scope.To;
        var exclude = scope.Exclude;
        if (from == null && to == null && exclude.Count == 0) return null;
        // First-seen dates are in memory (PaperDatabase's summaries): the filter reads no store.
        return key =>
        {
            if (exclude.Contains(key)) return false;
            if (from == null && to == null) return true;
            var seen = db.Catalog.FirstSeen(key);
            return seen != null && (from == null || seen >= from) && (to == null || seen <= to);
        };
    }

    static List<SearchResult> Shape(PaperDatabase db, SearchHit[] hits)
    {
        var results = new List<SearchResult>(hits.Length);
        foreach (var hit in hits)
            if (db.Catalog.Summary(hit.Id) is { } paper) // deleted between the index hit and the read
                results.Add(new SearchResult(paper.Id, paper.Title, paper.FirstSeen.ToString("yyyy-MM-dd"), Math.Round(hit.Score, 4), paper.Snippet));
        return results;
    }
}
