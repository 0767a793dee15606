using PaperVec.Index;

namespace PaperVec.Storage;

/// <summary>
/// Which path serves a vector query: an exact scan of the index's rows below
/// <see cref="ExactSearchBelow"/> papers, the HNSW graph above it. The one place the exact-or-graph
/// rule is made; <see cref="PaperDatabase.Vectors"/> holds it over the database's index.
/// </summary>
public sealed class VectorSearchPolicy
{
    readonly HnswIndex _index;
    readonly int _exactBelow;
    readonly PaperDatabase _database; // the vector of a paper the index lacks, from the store

    internal VectorSearchPolicy(HnswIndex index, int exactBelow, PaperDatabase database) =>
        (_index, _exactBelow, _database) = (index, exactBelow, database);

    /// <summary>
    /// Below this many papers every search is exact: an exact scan of the index's rows
    /// (<see cref="HnswIndex.SearchExact(ReadOnlySpan{float}, int, Func{long, bool}?)"/>) is as fast as the
    /// graph search at the default ef up to about this size and misses nothing: on 384-d clustered
    /// vectors, k=10, ef=64, it took 0.85x the graph's time at 2,500 rows, 1.04-1.12x at 3,000 and 1.6x
    /// at 5,000, where the graph's recall@10 was 0.90-0.93 (src/PaperVec/Index/README.md, "Crossover").
    /// Above it the graph search.
    /// </summary>
    public const int ExactSearchBelow = 3000;

    /// <summary>
    /// Search width of "papers like this" when none is given. Started at the paper's own node, the
    /// search needs less width than a free query for the same recall: on 200k clustered vectors
    /// (3,000 papers, k=10, each excluding itself) recall@10 was 0.9817 at ef=32 and 0.9820 at
    /// ef=64, at 2.1x the QPS; by vector from the top, ef=64 gave 0.9820.
    /// </summary>
    public const int SimilarEf = 32;

    /// <summary>Whether a search now scans exactly.</summary>
    public bool SearchesExactly => _index.LiveCount < _exactBelow;

    /// <summary>
    /// Nearest papers to a unit vector, best first; <paramref name="filter"/> narrows by paper key.
    /// Exact below <see cref="ExactSearchBelow"/> papers, whatever <paramref name="ef"/> says; above it
    /// the graph search at <paramref name="ef"/> (default: the index's, at least k). Callers that
    /// want a fixed width of their own (duplicate checks) pass it as <paramref name="ef"/>.
    /// </summary>
    public SearchHit[] Search(ReadOnlySpan<float> query, int k, int? ef = null, Func<long, bool>? filter = null) =>
        SearchesExactly ? _index.SearchExact(query, k, filter) : _index.Search(query, k, ef ?? Math.Max(k, _index.Options.DefaultEfSearch), filter);

    /// <summary>
    /// Nearest papers to the stored paper <paramref name="key"/> (itself included unless the filter
    /// drops it), best first, or null when there is no such paper. Searches from the paper's own
    /// graph node, which scores fewer rows than a search by its vector.
    /// </summary>
    public SearchHit[]? SearchSimilar(long key, int k, int? ef = null, Func<long, bool>? filter = null)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be positive");
        var vector = new float[_index.Dimension];
        if (SearchesExactly) return _database.TryReadVector(key, vector) ? _index.SearchExact(vector, k, filter) : null;
        int width = ef ?? Math.Max(k, SimilarEf);
        var hits = new SearchHit[k];
        int found = _index.SearchSimilar(key, hits, width, filter);
        if (found >= 0) return found == k ? hits : hits[..found];
        // Not in the index (it never lacks a stored paper, but a delete may have just run): by vector.
        return _database.TryReadVector(key, vector) ? _index.Search(vector, k, width, filter) : null;
    }
}
