using PaperVec.Index;

namespace PaperVec.Recommend;

/// <summary>
/// How one strategy scores a paper's vector for a reader (higher = more likely wanted): the
/// classifier's probability, the cosine to a centroid direction, or the best cosine to a liked paper.
/// It carries the liked papers' vectors, which explain each result ("because you liked").
/// </summary>
public sealed class LibraryModel
{
    public required RecommendStrategy Strategy { get; init; }
    public required IReadOnlyList<(long Key, float[] Vector)> Liked { get; init; }
    public required IReadOnlyList<(long Key, float[] Vector)> Disliked { get; init; }
    /// <summary>Unit direction of a linear score (centroid, classifier), searchable in the index; null for best match.</summary>
    public float[]? Direction { get; init; }
    public LogisticRegression? Classifier { get; init; }
    /// <summary>Explanations the recipe worked out itself (a fused or term model), by ranked paper: they replace <see cref="Closest"/>'s cosine pick.</summary>
    public IReadOnlyDictionary<long, List<(long Key, float Similarity)>>? Explained { get; init; }

    public double Score(ReadOnlySpan<float> x)
    {
        if (Classifier != null) return Classifier.Probability(x);
        if (Direction != null) return VectorKernels.Dot(Direction, x);
        return Best(Liked, x) - (Disliked.Count > 0 ? Recommender.DislikedWeight * Best(Disliked, x) : 0);
    }

    static double Best(IReadOnlyList<(long Key, float[] Vector)> examples, ReadOnlySpan<float> x)
    {
        float best = float.MinValue;
        foreach (var (_, v) in examples) best = Math.Max(best, VectorKernels.Dot(v, x));
        return best;
    }

    /// <summary>The two liked papers closest to <paramref name="vector"/> (paper <paramref name="self"/> itself left out): the explanation of a result.</summary>
    public List<(long Key, float Similarity)> Closest(long self, ReadOnlySpan<float> vector)
    {
        if (Explained?.GetValueOrDefault(self) is { } explained) return explained;
        (long Key, float Similarity) first = (0, float.MinValue), second = (0, float.MinValue);
        foreach (var (key, v) in Liked)
        {
            if (key == self) continue; // a liked paper listed in a ranked digest
            float similarity = VectorKernels.Dot(vector, v);
            if (similarity > first.Similarity) (second, first) = (first, (key, similarity));
            else if (similarity > second.Similarity) second = (key, similarity);
        }
        return new[] { first, second }.Where(m => m.Key != 0).ToList();
    }

    /// <summary>The model of <paramref name="query"/>'s strategy; <paramref name="background"/> (the classifier's negatives) is empty for the others.</summary>
    public static LibraryModel Train(RecommendQuery query, int dimension, List<(long Key, float[] Vector)> liked, List<(long Key, float[] Vector)> disliked,
        IReadOnlyList<float[]> background)
    {
        switch (query.Strategy)
        {
            case RecommendStrategy.Centroid:
                var direction = new float[dimension];
                foreach (var (_, v) in liked) Add(direction, v, 1.0 / liked.Count);
                foreach (var (_, v) in disliked) Add(direction, v, -Recommender.DislikedWeight / disliked.Count);
                return new LibraryModel { Strategy = query.Strategy, Liked = liked, Disliked = disliked, Direction = Unit(direction) };
            case RecommendStrategy.BestMatch:
                return new LibraryModel { Strategy = query.Strategy, Liked = liked, Disliked = disliked };
            default: // Classifier, and Hybrid's semantic half
                var classifier = TrainClassifier(query, dimension, liked, disliked, background);
                return new LibraryModel { Strategy = query.Strategy, Liked = liked, Disliked = disliked, Classifier = classifier, Direction = Unit(classifier.Weights.ToArray()) };
        }
    }

    static LogisticRegression TrainClassifier(RecommendQuery query, int dim, List<(long Key, float[] Vector)> liked, List<(long Key, float[] Vector)> disliked,
        IReadOnlyList<float[]> background)
    {
        int n = liked.Count + disliked.Count + background.Count;
        var rows = new float[n * dim];
        var labels = new bool[n];
        var weights = new double[n];
        int at = 0;
        // Balanced classes: the liked papers weigh as much as all negatives together.
        double negatives = disliked.Count * Recommender.DislikedExampleWeight + background.Count;
        foreach (var (_, v) in liked) { v.CopyTo(rows, at * dim); labels[at] = true; weights[at++] = 1.0 / liked.Count; }
        foreach (var (_, v) in disliked) { v.CopyTo(rows, at * dim); weights[at++] = Recommender.DislikedExampleWeight / negatives; }
        foreach (var v in background) { v.CopyTo(rows, at * dim); weights[at++] = 1.0 / negatives; }
        return LogisticRegression.Train(rows, dim, labels, weights, query.Regularization);
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
