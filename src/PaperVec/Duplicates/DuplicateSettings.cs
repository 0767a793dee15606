namespace PaperVec.Duplicates;

/// <summary>
/// Thresholds of duplicate detection across different paper records (same-title listings are the same
/// paper by identity and need none). The defaults come from the evaluation on generated digests
/// (tests/PaperVec.IntegrationTests/Duplicates/DuplicateEvaluationTests.cs, `papervec eval dupes`).
/// </summary>
public sealed record DuplicateSettings
{
    /// <summary>Nearest neighbours asked of the index per paper: the candidates.</summary>
    public int Neighbours { get; init; } = 10;
    /// <summary>efSearch of each neighbour query.</summary>
    public int SearchWidth { get; init; } = 64;
    /// <summary>A candidate below this cosine is not looked at further.</summary>
    public double CandidateCosine { get; init; } = 0.80;
    /// <summary>Word 3-shingle Jaccard of title + abstract at or above which a candidate is the same paper.</summary>
    public double LexicalThreshold { get; init; } = 0.30;
}
