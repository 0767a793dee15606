using System.Text.RegularExpressions;
using PaperVec.Index;
using PaperVec.Lexical;

namespace PaperVec.Recommend;

/// <summary>
/// The candidates of one recommendation scored by every component a library model adds up
/// (<see cref="RecommendStrategy.Fused"/> and the term strategies): the embedding centroid, best
/// match and classifier, and the same three on tf-idf term vectors. Scored in the recipe itself from
/// what the source reads (vectors, analyzed tokens, document frequencies), so a cluster ranks exactly
/// as one node. A fused score is the weighted sum of each component's z-score over the candidates
/// the reader has not judged.
/// </summary>
public sealed partial class ScoredPool
{
    /// <summary>Papers gathered (by the centroid) when a request names no candidates.</summary>
    public const int AllPapersPool = 300;

    public required LibraryModel Model { get; init; }
    public required IReadOnlyDictionary<LibraryComponent, Dictionary<long, double>> Components { get; init; }
    public required IReadOnlyList<(LibraryComponent Component, double Weight)> Weights { get; init; }
    public required IReadOnlySet<long> Judged { get; init; }
    public TermSpace? Terms { get; init; }
    public required IReadOnlyDictionary<long, float[]> Vectors { get; init; }

    Dictionary<long, double>? _fused;
    Dictionary<LibraryComponent, (double Mean, double Deviation)>? _moments;
    Dictionary<long, List<(long Key, float Similarity)>>? _explained;

    /// <summary>The score of every candidate: the single component's own score, or the weighted sum of z-scores.</summary>
    public Dictionary<long, double> Scores => _fused ??= Weights.Count == 1 ? Components[Weights[0].Component] : Fuse(Components, Weights, Judged, out _moments);

    /// <summary>Weighted sum of z-scores (mean and deviation over the unjudged candidates); a component that is flat adds nothing.</summary>
    public static Dictionary<long, double> Fuse(IReadOnlyDictionary<LibraryComponent, Dictionary<long, double>> components, IReadOnlyList<(LibraryComponent Component, double Weight)> weights,
        IReadOnlySet<long> judged, out Dictionary<LibraryComponent, (double Mean, double Deviation)> moments)
    {
        moments = [];
        var fused = new Dictionary<long, double>();
        foreach (var (component, weight) in weights)
        {
            var scores = components[component];
            var unjudged = scores.Where(s => !judged.Contains(s.Key)).Select(s => s.Value).ToList();
            if (unjudged.Count == 0) unjudged = [.. scores.Values];
            double mean = unjudged.Count == 0 ? 0 : unjudged.Average();
            double deviation = unjudged.Count < 2 ? 0 : Math.Sqrt(unjudged.Sum(v => (v - mean) * (v - mean)) / unjudged.Count);
            moments[component] = (mean, deviation);
            foreach (var (key, value) in scores)
                fused[key] = fused.GetValueOrDefault(key) + (deviation > 0 ? weight * (value - mean) / deviation : 0);
        }
        return fused;
    }

    /// <summary>The best <paramref name="depth"/> candidates, best first (ties by key).</summary>
    public List<(long Key, double Score)> Ranked(int depth, RecommendQuery query) =>
        Scores.OrderByDescending(s => s.Value).ThenBy(s => s.Key).Take(depth).Select(s => (s.Key, s.Value)).ToList();

    bool IsTerm(LibraryComponent c) => c is LibraryComponent.TermCentroid or LibraryComponent.TermBestMatch or LibraryComponent.TermClassifier;

    /// <summary>The term components' share of the weights (how much term similarity counts in an explanation).</summary>
    double TermShare
    {
        get
        {
            double total = Weights.Sum(w => Math.Abs(w.Weight));
            return total == 0 ? 0 : Weights.Where(w => IsTerm(w.Component)).Sum(w => Math.Abs(w.Weight)) / total;
        }
    }

    /// <summary>
    /// The model with each ranked paper's explanation: the one or two liked papers that contributed
    /// most (similarity in the model's own mix of embedding and term cosine).
    /// </summary>
    public LibraryModel Explain(IEnumerable<long> keys)
    {
        double termShare = Terms == null ? 0 : TermShare;
        var explained = new Dictionary<long, List<(long Key, float Similarity)>>();
        foreach (long key in keys)
        {
            if (!Vectors.TryGetValue(key, out var vector)) continue;
            var unigrams = Terms?.Unigrams(key) ?? SparseVector.Empty;
            explained[key] = Model.Liked.Where(l => l.Key != key)
                .Select(l => (l.Key, Similarity: (float)((1 - termShare) * VectorKernels.Dot(vector, l.Vector)
                    + (termShare > 0 ? termShare * SparseVector.Dot(unigrams, Terms!.Unigrams(l.Key)) : 0))))
                .OrderByDescending(l => l.Similarity).ThenBy(l => l.Key).Take(2).ToList();
        }
        _explained = explained;
        return new LibraryModel { Strategy = Model.Strategy, Liked = Model.Liked, Disliked = Model.Disliked, Direction = Model.Direction, Classifier = Model.Classifier, Explained = explained };
    }

    /// <summary>Whether the term components decided this paper's place (their weighted z-scores outweigh the embedding ones').</summary>
    bool TermsDecided(long key)
    {
        if (Terms == null) return false;
        if (Weights.Count == 1) return IsTerm(Weights[0].Component);
        if (_moments == null) { Fuse(Components, Weights, Judged, out var computed); _moments = computed; }
        var moments = _moments;
        double term = 0, embedding = 0;
        foreach (var (component, weight) in Weights)
        {
            var (mean, deviation) = moments[component];
            if (deviation == 0 || !Components[component].TryGetValue(key, out double v)) continue;
            double z = weight * (v - mean) / deviation;
            if (IsTerm(component)) term += z; else embedding += z;
        }
        return term > embedding;
    }

    [GeneratedRegex(@"[\p{L}\p{N}][\p{L}\p{N}\-]*")]
    private static partial Regex WordPattern();

    /// <summary>
    /// Where the term model decided (after <see cref="Explain"/>): up to three terms the paper shares with the liked papers that
    /// explain it, heaviest first, as the words of <paramref name="text"/> (title and snippet) that hold
    /// them ("diffusion", "point clouds"); null otherwise or when none shows in the text.
    /// </summary>
    public IReadOnlyList<string>? SharedTerms(long key, string text)
    {
        if (Terms == null || _explained?.GetValueOrDefault(key) is not { Count: > 0 } because || !TermsDecided(key)) return null;
        var x = Terms.Full(key);
        var weights = new Dictionary<int, double>();
        foreach (var (likedKey, _) in because)
        {
            var l = Terms.Full(likedKey);
            for (int i = 0, j = 0; i < x.Ids.Length && j < l.Ids.Length;)
            {
                if (x.Ids[i] == l.Ids[j]) { weights[x.Ids[i]] = Math.Max(weights.GetValueOrDefault(x.Ids[i]), (double)x.Weights[i] * l.Weights[j]); i++; j++; }
                else if (x.Ids[i] < l.Ids[j]) i++;
                else j++;
            }
        }
        // Words of the text with their analyzed form (words the analyzer drops, stop words, have none).
        var words = WordPattern().Matches(text).Select(m => (Match: m, Tokens: LexicalIndex.Tokens(m.Value))).Where(w => w.Tokens.Count == 1)
            .Select(w => (w.Match.Index, End: w.Match.Index + w.Match.Length, Stem: w.Tokens[0])).ToList();
        var shown = new List<string>();
        var covered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (id, _) in weights.OrderByDescending(w => w.Value).ThenBy(w => w.Key))
        {
            if (shown.Count == 3) break;
            string term = Terms.Term(id);
            var parts = term.Split(' ');
            if (parts.All(covered.Contains)) continue;
            string? surface = null;
            for (int i = 0; i + parts.Length <= words.Count && surface == null; i++)
                if (parts.Select((p, n) => words[i + n].Stem == p).All(b => b))
                    surface = text[words[i].Index..words[i + parts.Length - 1].End].ToLowerInvariant();
            if (surface == null || shown.Contains(surface)) continue;
            shown.Add(surface);
            covered.UnionWith(parts);
        }
        return shown.Count > 0 ? shown : null;
    }

    /// <summary>Scores the candidates (or a pool gathered from every paper) by each component the query's strategy needs.</summary>
    public static async Task<ScoredPool> ScoreAsync(IRecommendSource source, RecommendQuery query, Search.SearchScope scope,
        List<(long Key, float[] Vector)> liked, List<(long Key, float[] Vector)> disliked, int depth)
    {
        IReadOnlyList<(LibraryComponent, double)> weights = query.Strategy switch
        {
            RecommendStrategy.TermCentroid => [(LibraryComponent.TermCentroid, 1)],
            RecommendStrategy.TermBestMatch => [(LibraryComponent.TermBestMatch, 1)],
            RecommendStrategy.TermClassifier => [(LibraryComponent.TermClassifier, 1)],
            _ => query.Fusion ?? Recommender.DefaultFusion(liked.Count),
        };
        if (weights.Count == 0) throw new InvalidDataException("a fused library model needs at least one component");
        var needed = weights.Select(w => w.Item1).ToHashSet();
        var trained = await TrainedAsync(source, query, needed, liked, disliked).ConfigureAwait(false);
        var centroid = trained.Centroid;
        // The pool: the candidates within the scope, or the best papers by the centroid (not by BM25 too:
        // a cluster's BM25 uses each shard's statistics, and the pool must be the one a node gathers).
        int size = query.Candidates?.Count ?? Math.Max(depth, AllPapersPool);
        List<long> pool = [.. (await source.RankAsync(centroid, query.Candidates, scope, Math.Max(1, size)).ConfigureAwait(false)).Select(r => r.Key)];
        var vectors = await source.VectorsAsync(pool).ConfigureAwait(false);
        pool = [.. pool.Where(vectors.ContainsKey)];
        // The candidates' term vectors, weighted by the library's statistics (the trained space is shared: extended, not changed).
        var terms = trained.Terms == null ? null : await trained.Terms.ExtendAsync(source, pool).ConfigureAwait(false);

        var components = new Dictionary<LibraryComponent, Dictionary<long, double>>();
        foreach (var component in needed)
        {
            Func<long, double> score = component switch
            {
                LibraryComponent.Centroid => key => centroid.Score(vectors[key]),
                LibraryComponent.BestMatch => key => trained.BestMatch!.Score(vectors[key]),
                LibraryComponent.Classifier => key => trained.Classifier!.Score(vectors[key]),
                LibraryComponent.TermCentroid => key => trained.TermDirectionNorm > 0 ? terms!.Unigrams(key).Dot(trained.TermDirection!) / trained.TermDirectionNorm : 0,
                LibraryComponent.TermBestMatch => key => Best(terms!, liked, key) - (disliked.Count > 0 ? Recommender.DislikedWeight * Best(terms!, disliked, key) : 0),
                _ => key => trained.Svm!.Score(terms!.Full(key)), // TermClassifier
            };
            components[component] = pool.ToDictionary(key => key, score);
        }
        var judged = query.Liked.Concat(query.Disliked).ToHashSet();
        return new ScoredPool { Model = centroid, Components = components, Weights = weights, Judged = judged, Terms = terms, Vectors = vectors };
    }

    /// <summary>
    /// The library's trained parts for the components <paramref name="needed"/>: from the source's model
    /// cache when this library version was trained already, else trained now (and kept there).
    /// </summary>
    static Task<LibraryTraining> TrainedAsync(IRecommendSource source, RecommendQuery query, HashSet<LibraryComponent> needed,
        List<(long Key, float[] Vector)> liked, List<(long Key, float[] Vector)> disliked)
    {
        Task<LibraryTraining> Train() => TrainAsync(source, query, needed, liked, disliked);
        if (source.Models is not { } models) return Train();
        var version = LibraryVersion.Of(needed, query.Regularization, liked.Select(l => l.Key), disliked.Select(d => d.Key), LibraryModelCache.EpochOf(source.Papers));
        return models.GetOrTrainAsync(version, Train);
    }

    static async Task<LibraryTraining> TrainAsync(IRecommendSource source, RecommendQuery query, HashSet<LibraryComponent> needed,
        List<(long Key, float[] Vector)> liked, List<(long Key, float[] Vector)> disliked)
    {
        int dimension = source.Dimension;
        var centroid = LibraryModel.Train(query with { Strategy = RecommendStrategy.Centroid }, dimension, liked, disliked, []);
        List<long> background = [];
        if (needed.Contains(LibraryComponent.Classifier) || needed.Contains(LibraryComponent.TermClassifier))
            background = await Recommender.BackgroundAsync(source, liked, disliked).ConfigureAwait(false);
        LibraryModel? best = null, classifier = null;
        if (needed.Contains(LibraryComponent.BestMatch))
            best = LibraryModel.Train(query with { Strategy = RecommendStrategy.BestMatch }, dimension, liked, disliked, []);
        if (needed.Contains(LibraryComponent.Classifier))
        {
            var stored = await source.VectorsAsync(background).ConfigureAwait(false);
            classifier = LibraryModel.Train(query with { Strategy = RecommendStrategy.Classifier }, dimension, liked, disliked,
                background.Where(stored.ContainsKey).Select(k => stored[k]).ToList());
        }
        TermSpace? terms = null;
        double[]? direction = null;
        double norm = 0;
        TermClassifier? svm = null;
        bool termClassifier = needed.Contains(LibraryComponent.TermClassifier);
        if (needed.Any(c => c is LibraryComponent.TermCentroid or LibraryComponent.TermBestMatch or LibraryComponent.TermClassifier))
        {
            terms = await TermSpace.BuildAsync(source, [.. liked.Select(l => l.Key), .. disliked.Select(d => d.Key), .. termClassifier ? background : []],
                termClassifier ? background : []).ConfigureAwait(false);
            if (needed.Contains(LibraryComponent.TermCentroid))
            {
                direction = new double[terms.Dimension];
                foreach (var (key, _) in liked) AddTo(direction, terms.Unigrams(key), 1.0 / liked.Count);
                foreach (var (key, _) in disliked) AddTo(direction, terms.Unigrams(key), -Recommender.DislikedWeight / disliked.Count);
                norm = Math.Sqrt(direction.Sum(d => d * d));
            }
            if (termClassifier)
            {
                var negatives = disliked.Select(d => (terms.Full(d.Key), Recommender.DislikedExampleWeight)).Concat(background.Select(b => (terms.Full(b), 1.0)))
                    .Where(n => n.Item1.Ids.Length > 0).ToList();
                svm = TermClassifier.Train(terms.Dimension, liked.Select(l => terms.Full(l.Key)).ToList(), negatives.Select(n => n.Item1).ToList(), negatives.Select(n => n.Item2).ToList());
            }
            // Kept warm: the background's vectors were only for training (their terms keep their ids and weights).
            var library = liked.Select(l => l.Key).Concat(disliked.Select(d => d.Key)).ToHashSet();
            terms.Forget(background.Where(b => !library.Contains(b)));
        }
        return new LibraryTraining { Centroid = centroid, BestMatch = best, Classifier = classifier, Terms = terms, TermDirection = direction, TermDirectionNorm = norm, Svm = svm };
    }

    static double Best(TermSpace terms, List<(long Key, float[] Vector)> examples, long key)
    {
        var x = terms.Unigrams(key);
        double best = double.MinValue;
        foreach (var (example, _) in examples) best = Math.Max(best, SparseVector.Dot(x, terms.Unigrams(example)));
        return best == double.MinValue ? 0 : best;
    }

    static void AddTo(double[] sum, SparseVector v, double scale)
    {
        for (int i = 0; i < v.Ids.Length; i++) sum[v.Ids[i]] += scale * v.Weights[i];
    }
}
