namespace PaperVec.Index;

/// <summary>
/// What the rest of PaperVec needs from an index over unit vectors keyed by a paper's numeric key:
/// scores are dot products (cosine similarity), results come best first.
/// </summary>
public interface IVectorIndex : IDisposable
{
    int Dimension { get; }

    /// <summary>Live vectors (deleted ones excluded).</summary>
    int LiveCount { get; }

    void Add(long id, ReadOnlySpan<float> vector);

    bool Remove(long id);

    bool Contains(long id);

    /// <summary>The <paramref name="k"/> best live vectors whose id passes <paramref name="filter"/>.</summary>
    SearchHit[] Search(ReadOnlySpan<float> query, int k, Func<long, bool>? filter = null);
}
