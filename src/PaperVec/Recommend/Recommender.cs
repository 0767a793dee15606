using PaperVec.Index;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Recommend;

/// <summary>A liked paper a recommendation is close to: the "because you liked ..." of a result.</summary>
public sealed record LikedMatch(string Id, string Title, double Similarity);

/// <summary>
/// Ranks papers for a reader from the papers they liked and disliked (<see cref="RecommendQuery"/>),
/// over every stored paper or a candidate set (a digest's papers). Each result says which liked
/// papers it is closest to. The strategy is chosen by measurement (`papervec eval recommend`,
/// README "Recommendations"); the others stay selectable for that comparison.
/// </summary>
public static class Recommender
{
    /// <summary>
    /// The best measured strategy (README, Recommendations; `papervec eval recommend`, 14,179 arXiv
    /// papers): the classifier fused half and half with BM25 of the library's terms scored nDCG@10
    /// 19.92 / 34.90 / 35.41 on the author / category / category-with-dislikes proxies, against
    /// 14.56 / 23.86 / 23.66 for the centroid and 18.51 / 33.39 / 34.02 for the classifier alone.
    /// </summary>
    public const RecommendStrategy DefaultStrategy = RecommendStrategy.Hybrid;
    public const double DefaultRegularization = 0.01;
    /// <summary>Semantic share of the hybrid: 0.5 and 0.7 measured within 0.1 point on average; 0.5 led on two proxies of three.</summary>
    public const double DefaultSemanticWeight = 0.5;
    /// <summary>The disliked papers' share against the liked ones in <see cref="RecommendStrategy.Centroid"/> and <see cref="RecommendStrategy.BestMatch"/>.</summary>
    public const double DislikedWeight = 0.5;
    /// <summary>Other papers sampled as the classifier's background negatives ("the rest", as arxiv-sanity trains against).</summary>
    public const int BackgroundSample = 500;
    /// <summary>A disliked paper counts this many times a background paper in the classifier.</summary>
    public const double DislikedExampleWeight = 4;
    /// <summary>Liked papers searched one by one in <see cref="RecommendStrategy.BestMatch"/> over every paper (the most recent).</summary>
    const int BestMatchSearches = 100;
    /// <summary>Terms of a library's lexical profile.</summary>
    const int ProfileTerms = 32;

    /// <summary>
    /// The best <paramref name="scope"/>.K papers for the reader, best first, never one of the liked or
    /// disliked papers. Unknown ids are the caller's to resolve; keys of papers deleted since are skipped.
    /// </summary>
    public static async Task<List<SearchResult>> RankAsync(PaperDatabase db, RecommendQuery query, SearchScope scope)
    {
        int k = PaperSearch.CheckedK(scope);
        if (query.Liked.Count == 0) throw new InvalidDataException("name at least one liked paper (positive)");
        if (query.Diversity is < 0 or > 1 || double.IsNaN(query.Diversity)) throw new InvalidDataException("diversity must be within 0..1");
        var liked = Examples(db, query.Liked);
        var disliked = Examples(db, query.Disliked);
        if (liked.Count == 0) throw new InvalidDataException("none of the liked papers is stored any more");
        var exclude = new HashSet<long>(scope.Exclude);
        if (!query.IncludeLibrary)
        {
            exclude.UnionWith(query.Liked);
            exclude.UnionWith(query.Disliked);
        }
        var filter = PaperSearch.Filter(db, scope with { Exclude = exclude }) ?? (_ => true);
        int depth = query.Diversity > 0 ? Math.Max(4 * k, 50) : k;
        var model = LibraryModel.Train(db, query, liked, disliked);
        List<(long Key, double Score)> ranked;
        if (query.Strategy == RecommendStrategy.Hybrid)
        {
            int fusionDepth = Math.Max(depth, PaperSearch.FusionDepth);
            var semantic = Rank(db, model, query.Candidates, filter, fusionDepth);
            var profile = await ProfileAsync(db, liked).ConfigureAwait(false);
            var lexical = db.SearchLexicalTerms(profile, fusionDepth, filter, query.Candidates).Select(h => (h.Key, (double)h.Score)).ToList();
            ranked = PaperSearch.Fuse(semantic, lexical, new SearchQuery("", null) { SemanticWeight = query.SemanticWeight }, depth);
        }
        else ranked = Rank(db, model, query.Candidates, filter, depth);
        if (query.Diversity > 0) ranked = MaximalMarginalRelevance.Select(db, ranked, k, query.Diversity);
        else if (ranked.Count > k) ranked = ranked[..k];
        return Shape(db, ranked, liked);
    }

    /// <summary>The stored vectors of <paramref name="keys"/> (the most recent <see cref="RecommendQuery.MaxIds"/>), skipping papers deleted since.</summary>
    static List<(long Key, float[] Vector)> Examples(PaperDatabase db, IReadOnlyList<long> keys)
    {
        var examples = new List<(long, float[])>();
        var seen = new HashSet<long>();
        for (int i = keys.Count - 1; i >= 0 && examples.Count < RecommendQuery.MaxIds; i--)
        {
            var vector = new float[db.Dimension];
            if (seen.Add(keys[i]) && db.TryReadVector(keys[i], vector)) examples.Add((keys[i], vector));
        }
        examples.Reverse();
        return examples;
    }

    static List<(long Key, double Score)> Rank(PaperDatabase db, LibraryModel model, IReadOnlyCollection<long>? candidates, Func<long, bool> filter, int depth)
    {
        var top = new List<(long Key, double Score)>();
        var vector = new float[db.Dimension];
        IEnumerable<long> pool;
        if (candidates != null) pool = candidates;
        else if (model.Direction is { } direction)
            // A linear score ranks unit vectors as the cosine to its direction does: one index search.
            pool = db.Search(direction, depth, ef: Math.Max(2 * depth, 128), filter: filter).Select(h => h.Id);
        else
            pool = model.Liked.TakeLast(BestMatchSearches)
                .SelectMany(e => db.Search(e.Vector, depth, filter: filter).Select(h => h.Id)).Distinct();
        foreach (long key in pool.Distinct())
            if (filter(key) && db.TryReadVector(key, vector)) top.Add((key, model.Score(vector)));
        top.Sort((a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.Key.CompareTo(b.Key));
        return top.Count > depth ? top[..depth] : top;
    }

    /// <summary>The library's characteristic terms, weighted by the share of liked papers holding them times their idf (as Lucene's MoreLikeThis).</summary>
    static async Task<List<(string Term, float Weight)>> ProfileAsync(PaperDatabase db, List<(long Key, float[] Vector)> liked)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        int papers = 0;
        foreach (var (key, _) in liked.TakeLast(200))
        {
            if (await db.GetPaperAsync(key).ConfigureAwait(false) is not { } paper) continue;
            papers++;
            foreach (var term in db.LexicalTerms(paper.Title + "\n" + paper.Abstract)) counts[term] = counts.GetValueOrDefault(term) + 1;
        }
        var weighted = new List<(string Term, float Weight)>(counts.Count);
        foreach (var (term, count) in counts)
        {
            var (df, docs) = db.LexicalDocFreq(term);
            double idf = Math.Log(1 + (docs - df + 0.5) / (df + 0.5));
            weighted.Add((term, (float)(count / (double)Math.Max(1, papers) * idf)));
        }
        return weighted.OrderByDescending(t => t.Weight).ThenBy(t => t.Term, StringComparer.Ordinal).Take(ProfileTerms).ToList();
    }

    static List<SearchResult> Shape(PaperDatabase db, List<(long Key, double Score)> ranked, List<(long Key, float[] Vector)> liked)
    {
        var results = new List<SearchResult>(ranked.Count);
        var vector = new float[db.Dimension];
        foreach (var (key, score) in ranked)
        {
            if (db.Summary(key) is not { } paper || !db.TryReadVector(key, vector)) continue;
            results.Add(new SearchResult(paper.Id, paper.Title, paper.FirstSeen.ToString("yyyy-MM-dd"), Math.Round(score, 4), paper.Snippet)
            {
                Because = Closest(db, key, vector, liked),
            });
        }
        return results;
    }

    /// <summary>The two liked papers closest to <paramref name="vector"/>: the explanation of a recommendation.</summary>
    static List<LikedMatch> Closest(PaperDatabase db, long self, float[] vector, List<(long Key, float[] Vector)> liked)
    {
        (long Key, float Similarity) first = (0, float.MinValue), second = (0, float.MinValue);
        foreach (var (key, v) in liked)
        {
            if (key == self) continue; // a liked paper listed in a ranked digest
            float similarity = VectorKernels.Dot(vector, v);
            if (similarity > first.Similarity) (second, first) = (first, (key, similarity));
            else if (similarity > second.Similarity) second = (key, similarity);
        }
        var matches = new List<LikedMatch>(2);
        foreach (var (key, similarity) in new[] { first, second })
            if (key != 0 && db.Summary(key) is { } paper) matches.Add(new LikedMatch(paper.Id, paper.Title, Math.Round(similarity, 4)));
        return matches;
    }

    /// <summary>How one strategy scores a paper's vector (higher = more likely wanted).</summary>
    sealed class LibraryModel
    {
        public required RecommendStrategy Strategy { get; init; }
        public required List<(long Key, float[] Vector)> Liked { get; init; }
        public required List<(long Key, float[] Vector)> Disliked { get; init; }
        /// <summary>Unit direction of a linear score (centroid, classifier), searchable in the index; null for best match.</summary>
        public float[]? Direction { get; init; }
        public LogisticRegression? Classifier { get; init; }

        public double Score(ReadOnlySpan<float> x)
        {
            if (Classifier != null) return Classifier.Probability(x);
            if (Direction != null) return VectorKernels.Dot(Direction, x);
            return Best(Liked, x) - (Disliked.Count > 0 ? DislikedWeight * Best(Disliked, x) : 0);
        }

        static double Best(List<(long Key, float[] Vector)> examples, ReadOnlySpan<float> x)
        {
            float best = float.MinValue;
            foreach (var (_, v) in examples) best = Math.Max(best, VectorKernels.Dot(v, x));
            return best;
        }

        public static LibraryModel Train(PaperDatabase db, RecommendQuery query, List<(long Key, float[] Vector)> liked, List<(long Key, float[] Vector)> disliked)
        {
            int dim = db.Dimension;
            switch (query.Strategy)
            {
                case RecommendStrategy.Centroid:
                    var direction = new float[dim];
                    foreach (var (_, v) in liked) Add(direction, v, 1.0 / liked.Count);
                    foreach (var (_, v) in disliked) Add(direction, v, -DislikedWeight / disliked.Count);
                    return new LibraryModel { Strategy = query.Strategy, Liked = liked, Disliked = disliked, Direction = Unit(direction) };
                case RecommendStrategy.BestMatch:
                    return new LibraryModel { Strategy = query.Strategy, Liked = liked, Disliked = disliked };
                default: // Classifier, and Hybrid's semantic half
                    var classifier = TrainClassifier(db, query, liked, disliked);
                    return new LibraryModel { Strategy = query.Strategy, Liked = liked, Disliked = disliked, Classifier = classifier, Direction = Unit(classifier.Weights.ToArray()) };
            }
        }

        static LogisticRegression TrainClassifier(PaperDatabase db, RecommendQuery query, List<(long Key, float[] Vector)> liked, List<(long Key, float[] Vector)> disliked)
        {
            int dim = db.Dimension;
            var excluded = liked.Select(e => e.Key).Concat(disliked.Select(e => e.Key)).ToHashSet();
            // Seeded by the library, so the same library ranks the same way every time.
            int seed = liked.Aggregate(17, (h, e) => HashCode.Combine(h, e.Key));
            var background = db.SampleKeys(BackgroundSample, seed, excluded);
            int n = liked.Count + disliked.Count + background.Count;
            var rows = new float[n * dim];
            var labels = new bool[n];
            var weights = new double[n];
            int at = 0;
            // Balanced classes: the liked papers weigh as much as all negatives together.
            double negatives = disliked.Count * DislikedExampleWeight + background.Count;
            foreach (var (_, v) in liked) { v.CopyTo(rows, at * dim); labels[at] = true; weights[at++] = 1.0 / liked.Count; }
            foreach (var (_, v) in disliked) { v.CopyTo(rows, at * dim); weights[at++] = DislikedExampleWeight / negatives; }
            foreach (long key in background)
            {
                if (!db.TryReadVector(key, rows.AsSpan(at * dim, dim))) continue;
                weights[at++] = 1.0 / negatives;
            }
            return LogisticRegression.Train(rows[..(at * dim)], dim, labels[..at], weights[..at], query.Regularization);
        }

        static void Add(float[] sum, float[] v, double scale)
        {
            for (int i = 0; i < sum.Length; i++) sum[i] += (float)(scale * v[i]);
        }

        static float[] Unit(float[] v)
        {
            double norm = Math.Sqrt(v.Sum(x => (double)x * x));
            if (norm == 0) return v;
            for (int i = 0; i < v.Length; i++) v[i] = (float)(v[i] / norm);
            return v;
        }
    }
}
