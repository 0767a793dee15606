using PaperVec.Recommend;
using PaperVec.Storage;

namespace PaperVec.Bench.Evaluation;

/// <summary>
/// arxiv-sanity's recommender for the comparison in `papervec eval recommend`: a logistic regression
/// per library on tf-idf vectors of title + abstract (PaperVec's lexical analysis: English stop words,
/// Porter stems; binary term frequency, BM25-style idf, unit length), trained as the engine's
/// embedding classifier is (liked vs disliked and the same background sample). Kept out of the
/// engine: it is measured here, and it did not beat the default (README, Recommendations).
/// </summary>
public sealed class TfIdfRanker(PaperDatabase db)
{
    readonly Dictionary<string, int> _vocabulary = new(StringComparer.Ordinal);
    readonly Dictionary<int, float> _idf = [];
    readonly Dictionary<long, (int[] Terms, float[] Weights)> _vectors = [];

    (int[] Terms, float[] Weights) VectorOf(long key)
    {
        if (_vectors.TryGetValue(key, out var cached)) return cached;
        var paper = db.GetPaper(key);
        var terms = paper == null ? [] : db.LexicalTerms(paper.Title + "\n" + paper.Abstract);
        var ids = new int[terms.Count];
        var weights = new float[terms.Count];
        for (int i = 0; i < terms.Count; i++)
        {
            if (!_vocabulary.TryGetValue(terms[i], out int id))
            {
                _vocabulary[terms[i]] = id = _vocabulary.Count;
                var (df, docs) = db.LexicalDocFreq(terms[i]);
                _idf[id] = (float)Math.Log(1 + (docs - df + 0.5) / (df + 0.5));
            }
            ids[i] = id;
            weights[i] = _idf[id];
        }
        float norm = MathF.Sqrt(weights.Sum(w => w * w));
        if (norm > 0) for (int i = 0; i < weights.Length; i++) weights[i] /= norm;
        return _vectors[key] = (ids, weights);
    }

    /// <summary>The listing's papers best first for the library, by the tf-idf classifier's score.</summary>
    public List<long> Rank(IReadOnlyList<long> liked, IReadOnlyList<long> disliked, IReadOnlyCollection<long> listing, double lambda = Recommender.DefaultRegularization) =>
        Scores(liked, disliked, listing, lambda).OrderByDescending(s => s.Value).ThenBy(s => s.Key).Take(10).Select(s => s.Key).ToList();

    /// <summary>The tf-idf classifier's score of every listed paper outside the library.</summary>
    public Dictionary<long, double> Scores(IReadOnlyList<long> liked, IReadOnlyList<long> disliked, IReadOnlyCollection<long> listing, double lambda = Recommender.DefaultRegularization)
    {
        var excluded = liked.Concat(disliked).ToHashSet();
        int seed = liked.Aggregate(17, (h, k) => HashCode.Combine(h, k));
        var background = db.Catalog.SampleKeys(Recommender.BackgroundSample, seed, excluded);
        double negatives = disliked.Count * Recommender.DislikedExampleWeight + background.Count;
        var examples = liked.Select(k => (k, true, 1.0 / liked.Count))
            .Concat(disliked.Select(k => (k, false, Recommender.DislikedExampleWeight / negatives)))
            .Concat(background.Select(k => (k, false, 1.0 / negatives)))
            .Select(e => (Vector: VectorOf(e.k), Label: e.Item2, Weight: e.Item3)).ToList();
        foreach (long key in listing) VectorOf(key);
        var w = Train(examples, _vocabulary.Count, lambda, out double b);
        return listing.Where(k => !excluded.Contains(k)).ToDictionary(k => k, k => Dot(w, VectorOf(k)) + b);
    }

    static double Dot(double[] w, (int[] Terms, float[] Weights) x)
    {
        double sum = 0;
        for (int i = 0; i < x.Terms.Length; i++) sum += w[x.Terms[i]] * x.Weights[i];
        return sum;
    }

    /// <summary>The same Nesterov-accelerated, L2-regularised logistic regression as <see cref="LogisticRegression"/>, on sparse rows.</summary>
    static double[] Train(List<((int[] Terms, float[] Weights) Vector, bool Label, double Weight)> examples, int dimension, double lambda, out double bias)
    {
        var w = new double[dimension];
        var previous = new double[dimension];
        var look = new double[dimension];
        var gradient = new double[dimension];
        double b = 0, previousB = 0, total = examples.Sum(e => e.Weight), step = 1.0 / (0.5 + lambda);
        for (int pass = 1; pass <= 200; pass++)
        {
            double momentum = (pass - 1.0) / (pass + 2.0);
            for (int j = 0; j < dimension; j++) look[j] = w[j] + momentum * (w[j] - previous[j]);
            double lookB = b + momentum * (b - previousB);
            Array.Clear(gradient);
            double gradientB = 0;
            foreach (var (x, label, weight) in examples)
            {
                double z = Dot(look, x) + lookB;
                double p = 1 / (1 + Math.Exp(-z));
                double g = weight / total * (p - (label ? 1 : 0));
                for (int i = 0; i < x.Terms.Length; i++) gradient[x.Terms[i]] += g * x.Weights[i];
                gradientB += g;
            }
            Array.Copy(w, previous, dimension);
            previousB = b;
            for (int j = 0; j < dimension; j++) w[j] = look[j] - step * (gradient[j] + lambda * look[j]);
            b = lookB - step * gradientB;
        }
        bias = b;
        return w;
    }
}
