namespace PaperVec.Recommend;

/// <summary>How a reader's liked (and disliked) papers become a ranking; the default is the best measured (<see cref="Recommender.DefaultStrategy"/>).</summary>
public enum RecommendStrategy
{
    /// <summary>Cosine to the mean of the liked papers minus half the mean of the disliked (Rocchio).</summary>
    Centroid,
    /// <summary>The best cosine to any one liked paper, minus half the best cosine to any disliked one.</summary>
    BestMatch,
    /// <summary>A logistic regression on the embeddings: liked papers against disliked ones and a sample of the rest (arxiv-sanity's per-reader classifier).</summary>
    Classifier,
    /// <summary>The classifier's scores fused (convex, min-max normalised) with BM25 of the library's characteristic terms.</summary>
    Hybrid,
    /// <summary>Cosine of the papers' tf-idf term vectors (title + abstract) to the liked papers' mean, minus half the disliked mean.</summary>
    TermCentroid,
    /// <summary>The best tf-idf cosine to any one liked paper, minus half the best to any disliked one.</summary>
    TermBestMatch,
    /// <summary>A linear SVM on 1-2-gram tf-idf vectors (arxiv-sanity's recipe): liked against disliked and a sample of the rest.</summary>
    TermClassifier,
    /// <summary>A weighted sum of z-scored components chosen by library size (<see cref="Recommender.DefaultFusion"/>; the default).</summary>
    Fused,
}

/// <summary>One score a fused library model adds up (z-scored over the candidates).</summary>
public enum LibraryComponent { Centroid, BestMatch, Classifier, TermCentroid, TermBestMatch, TermClassifier }

/// <summary>
/// "Papers for a reader who liked these (and not those)": liked and disliked paper keys, the
/// strategy, an optional diversity (maximal marginal relevance, 0 = none .. 1 = most) and an optional
/// candidate set (a digest's papers); without candidates every stored paper is a candidate.
/// </summary>
public sealed record RecommendQuery(IReadOnlyList<long> Liked, IReadOnlyList<long> Disliked)
{
    /// <summary>Ids one request may name, liked and disliked together.</summary>
    public const int MaxIds = 1000;

    public RecommendStrategy Strategy { get; init; } = Recommender.DefaultStrategy;
    public double Diversity { get; init; }
    public IReadOnlyCollection<long>? Candidates { get; init; }
    /// <summary>Ranks the liked and disliked papers too when they are candidates (a digest ordered by a library shows every listing).</summary>
    public bool IncludeLibrary { get; init; }
    /// <summary>L2 penalty of <see cref="RecommendStrategy.Classifier"/> (on the mean loss).</summary>
    public double Regularization { get; init; } = Recommender.DefaultRegularization;
    /// <summary>Weight of the semantic ranking when <see cref="RecommendStrategy.Hybrid"/> fuses it with BM25.</summary>
    public double SemanticWeight { get; init; } = Recommender.DefaultSemanticWeight;
    /// <summary>The components <see cref="RecommendStrategy.Fused"/> adds up and their weights; null: <see cref="Recommender.DefaultFusion"/> for the library's size.</summary>
    public IReadOnlyList<(LibraryComponent Component, double Weight)>? Fusion { get; init; }
}
