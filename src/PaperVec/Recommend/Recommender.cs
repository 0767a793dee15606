using PaperVec.Index;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Recommend;

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
    /// papers, libraries of 1 to 50 papers): a z-score fusion of the tf-idf SVM, the embedding
    /// classifier and the best liked match in term and in embedding space (<see cref="DefaultFusion"/>).
    /// On the eval's test part it beats the tf-idf centroid and the best single match in MRR, hit@10
    /// and nDCG@10 at every size.
    /// </summary>
    public const RecommendStrategy DefaultStrategy = RecommendStrategy.Fused;
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
    public const int BestMatchSearches = 100;
    /// <summary>Terms of a library's lexical profile.</summary>
    const int ProfileTerms = 32;

    /// <summary>A request's ids, checked before any is looked up: at least one liked, at most <see cref="RecommendQuery.MaxIds"/> in all.</summary>
    public static void CheckRequest(int liked, int disliked)
    {
        if (liked == 0) throw new InvalidDataException("name at least one liked paper (positive)");
        if (liked + disliked > RecommendQuery.MaxIds)
            throw new InvalidDataException($"{liked + disliked:N0} ids named; a request names at most {RecommendQuery.MaxIds:N0} (keep a larger set as a library)");
    }

    /// <summary>
    /// The best <paramref name="scope"/>.K papers for the reader, best first, never one of the liked or
    /// disliked papers. Unknown ids are the caller's to resolve; keys of papers deleted since are skipped.
    /// </summary>
    public static Task<List<SearchResult>> RankAsync(PaperDatabase db, RecommendQuery query, SearchScope scope) =>
        RankAsync(new StoredPapersSource(db), query, scope);

    /// <summary>The same over any source: one node's store, or a cluster's shards.</summary>
    public static async Task<List<SearchResult>> RankAsync(IRecommendSource source, RecommendQuery query, SearchScope scope)
    {
        int k = PaperSearch.CheckedK(scope);
        if (query.Liked.Count == 0) throw new InvalidDataException("name at least one liked paper (positive)");
        if (query.Diversity is < 0 or > 1 || double.IsNaN(query.Diversity)) throw new InvalidDataException("diversity must be within 0..1");
        var liked = await ExamplesAsync(source, query.Liked).ConfigureAwait(false);
        var disliked = await ExamplesAsync(source, query.Disliked).ConfigureAwait(false);
        if (liked.Count == 0) throw new InvalidDataException("none of the liked papers is stored any more");
        var exclude = new HashSet<long>(scope.Exclude);
        if (!query.IncludeLibrary)
        {
            exclude.UnionWith(query.Liked);
            exclude.UnionWith(query.Disliked);
        }
        scope = scope with { Exclude = exclude };
        int depth = MaximalMarginalRelevance.PoolDepth(k, query.Diversity);
        if (query.IncludeLibrary) depth = Math.Max(depth, Math.Min(SearchScope.MaxK, k + query.Liked.Count + query.Disliked.Count)); // judged papers go last: rank past them
        LibraryModel model;
        List<(long Key, double Score)> ranked;
        ScoredPool? pool = null;
        if (query.Strategy is RecommendStrategy.TermCentroid or RecommendStrategy.TermBestMatch or RecommendStrategy.TermClassifier or RecommendStrategy.Fused)
        {
            pool = await ScorePoolAsync(source, query, scope, liked, disliked, depth).ConfigureAwait(false);
            model = pool.Model;
            ranked = pool.Ranked(depth, query);
        }
        else
        {
            model = await TrainAsync(source, query, liked, disliked).ConfigureAwait(false);
            if (query.Strategy == RecommendStrategy.Hybrid)
            {
                int fusionDepth = Math.Max(depth, PaperSearch.FusionDepth);
                var semantic = await source.RankAsync(model, query.Candidates, scope, fusionDepth).ConfigureAwait(false);
                var profile = await ProfileAsync(source, liked).ConfigureAwait(false);
                var lexical = await source.SearchTermsAsync(model, profile, query.Candidates, scope, fusionDepth).ConfigureAwait(false);
                ranked = PaperSearch.Fuse(semantic, lexical, new SearchQuery("", null) { SemanticWeight = query.SemanticWeight }, depth);
            }
            else ranked = await source.RankAsync(model, query.Candidates, scope, depth).ConfigureAwait(false);
        }
        // Papers the reader already judged (listed in a digest ordered by their library) go after the others.
        var likedSet = query.Liked.ToHashSet();
        var dislikedSet = query.Disliked.ToHashSet();
        if (query.IncludeLibrary) ranked = [.. ranked.Where(r => !likedSet.Contains(r.Key) && !dislikedSet.Contains(r.Key)), .. ranked.Where(r => likedSet.Contains(r.Key) || dislikedSet.Contains(r.Key))];
        if (query.Diversity > 0) ranked = await source.DiversifyAsync(ranked, k, query.Diversity).ConfigureAwait(false);
        else if (ranked.Count > k) ranked = ranked[..k];
        if (pool != null) model = pool.Explain(ranked.Select(r => r.Key));
        var results = await source.ShapeAsync(ranked, model).ConfigureAwait(false);
        var keyOf = ranked.ToDictionary(r => PaperIdentity.Format(r.Key), r => r.Key);
        for (int i = 0; i < results.Count; i++)
        {
            if (!keyOf.TryGetValue(results[i].Id, out long key)) continue;
            string? judged = likedSet.Contains(key) ? "liked" : dislikedSet.Contains(key) ? "disliked" : null;
            var shared = pool?.SharedTerms(key, results[i].Title + "\n" + results[i].Snippet);
            if (judged != null || shared != null) results[i] = results[i] with { Judged = judged, SharedTerms = shared };
        }
        return results;
    }

    /// <summary>The stored vectors of <paramref name="keys"/> (the most recent <see cref="RecommendQuery.MaxIds"/>), skipping papers deleted since.</summary>
    static async Task<List<(long Key, float[] Vector)>> ExamplesAsync(IRecommendSource source, IReadOnlyList<long> keys)
    {
        var stored = await source.VectorsAsync(keys.Distinct().ToList()).ConfigureAwait(false);
        var examples = new List<(long, float[])>();
        var seen = new HashSet<long>();
        for (int i = keys.Count - 1; i >= 0 && examples.Count < RecommendQuery.MaxIds; i--)
            if (seen.Add(keys[i]) && stored.TryGetValue(keys[i], out var vector)) examples.Add((keys[i], vector));
        examples.Reverse();
        return examples;
    }

    static Task<ScoredPool> ScorePoolAsync(IRecommendSource source, RecommendQuery query, SearchScope scope,
        List<(long Key, float[] Vector)> liked, List<(long Key, float[] Vector)> disliked, int depth) =>
        ScoredPool.ScoreAsync(source, query, scope, liked, disliked, depth);

    /// <summary>
    /// Every component's score of the query's candidates (for `papervec eval recommend`, which fuses
    /// them many ways without scoring again); the query's <see cref="RecommendQuery.Fusion"/> names the components.
    /// </summary>
    public static async Task<ScoredPool> ScoreComponentsAsync(IRecommendSource source, RecommendQuery query, SearchScope scope)
    {
        var liked = await ExamplesAsync(source, query.Liked).ConfigureAwait(false);
        var disliked = await ExamplesAsync(source, query.Disliked).ConfigureAwait(false);
        if (liked.Count == 0) throw new InvalidDataException("none of the liked papers is stored any more");
        var exclude = new HashSet<long>(scope.Exclude);
        if (!query.IncludeLibrary) { exclude.UnionWith(query.Liked); exclude.UnionWith(query.Disliked); }
        return await ScoredPool.ScoreAsync(source, query with { Strategy = RecommendStrategy.Fused }, scope with { Exclude = exclude }, liked, disliked, PaperSearch.CheckedK(scope)).ConfigureAwait(false);
    }

    /// <summary>
    /// The default fused model for a library of <paramref name="liked"/> papers: 2 x the tf-idf SVM +
    /// 1 x the best liked match in tf-idf space (max-sim) + 1 x the best liked match (MiniLM) + 2 x the
    /// embedding classifier (z-scores): the best of 242 weightings on the tuning part of `papervec eval
    /// recommend` over every size. One fusion serves every size because two-fold cross-validation inside
    /// the tuning part scored one fusion for all sizes (0.655 MRR + nDCG@10) above one per size (0.635)
    /// and one per 1-3 / 5-50 liked (0.638) (README, Recommendations).
    /// </summary>
    public static IReadOnlyList<(LibraryComponent Component, double Weight)> DefaultFusion(int liked) =>
        [(LibraryComponent.TermBestMatch, 1), (LibraryComponent.TermClassifier, 2), (LibraryComponent.BestMatch, 1), (LibraryComponent.Classifier, 2)];

    /// <summary>The classifiers' background negatives: a sample of the other papers, seeded by the library so it ranks the same way every time.</summary>
    internal static Task<List<long>> BackgroundAsync(IRecommendSource source, List<(long Key, float[] Vector)> liked, List<(long Key, float[] Vector)> disliked)
    {
        var excluded = liked.Select(e => e.Key).Concat(disliked.Select(e => e.Key)).ToHashSet();
        return source.SampleKeysAsync(BackgroundSample, BackgroundSeed(liked.Select(e => e.Key)), excluded);
    }

    /// <summary>
    /// The background sample's seed for a library: XxHash32 of its liked keys in order. Not
    /// HashCode.Combine, which is seeded anew in every process: a restarted node, each silo of a
    /// cluster and two runs of `papervec eval recommend` must draw the same sample for one library.
    /// </summary>
    public static int BackgroundSeed(IEnumerable<long> liked)
    {
        var hash = new System.IO.Hashing.XxHash32();
        Span<byte> bytes = stackalloc byte[8];
        foreach (long key in liked)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(bytes, key);
            hash.Append(bytes);
        }
        return (int)hash.GetCurrentHashAsUInt32();
    }

    /// <summary>The library's characteristic terms, weighted by the share of liked papers holding them times their idf (as Lucene's MoreLikeThis).</summary>
    internal static async Task<List<(string Term, float Weight)>> ProfileAsync(IRecommendSource source, List<(long Key, float[] Vector)> liked)
    {
        var termsOfPapers = (await source.TermsOfAsync(liked.TakeLast(200).Select(e => e.Key).ToList()).ConfigureAwait(false)).Where(t => t.Count > 0).ToList();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var terms in termsOfPapers)
            foreach (var term in terms.Distinct(StringComparer.Ordinal)) counts[term] = counts.GetValueOrDefault(term) + 1;
        var (docFreqs, docs) = await source.DocFreqsAsync(counts.Keys).ConfigureAwait(false);
        var weighted = new List<(string Term, float Weight)>(counts.Count);
        foreach (var (term, count) in counts)
        {
            int df = docFreqs.GetValueOrDefault(term);
            double idf = Math.Log(1 + (docs - df + 0.5) / (df + 0.5));
            weighted.Add((term, (float)(count / (double)Math.Max(1, termsOfPapers.Count) * idf)));
        }
        return weighted.OrderByDescending(t => t.Weight).ThenBy(t => t.Term, StringComparer.Ordinal).Take(ProfileTerms).ToList();
    }

    /// <summary>The strategy's model; the classifier trains against a seeded background sample of the other papers.</summary>
    static async Task<LibraryModel> TrainAsync(IRecommendSource source, RecommendQuery query, List<(long Key, float[] Vector)> liked, List<(long Key, float[] Vector)> disliked)
    {
        if (query.Strategy is RecommendStrategy.Centroid or RecommendStrategy.BestMatch)
            return LibraryModel.Train(query, source.Dimension, liked, disliked, []);
        var sample = await BackgroundAsync(source, liked, disliked).ConfigureAwait(false);
        var vectors = await source.VectorsAsync(sample).ConfigureAwait(false);
        var background = sample.Where(vectors.ContainsKey).Select(key => vectors[key]).ToList();
        return LibraryModel.Train(query, source.Dimension, liked, disliked, background);
    }
}
