using PaperVec.Search;

namespace PaperVec.Recommend;

/// <summary>
/// What a recommendation reads and ranks over: one node's store (<see cref="StoredPapersSource"/>) or
/// a cluster's shards (PaperVec.Cluster). The seam keeps one recipe in <see cref="Recommender"/>
/// (examples, background sample, classifier, lexical profile, fusion) for both; a source only reads
/// and ranks, each ranking by the model's own score so a cluster's merged lists equal one node's.
/// </summary>
public interface IRecommendSource
{
    int Dimension { get; }

    /// <summary>Where trained library models are kept warm (the collection's, node or cluster coordinator); null: every request trains.</summary>
    LibraryModelCache? Models => null;

    /// <summary>Papers stored (the model cache's epoch follows it: <see cref="LibraryModelCache.EpochOf"/>).</summary>
    int Papers => 0;

    /// <summary>The stored vector of each key that still names a stored paper.</summary>
    Task<Dictionary<long, float[]>> VectorsAsync(IReadOnlyCollection<long> keys);

    /// <summary>The bottom-k sample of every stored paper (<see cref="Storage.PaperDatabase.SampleKeys"/>), ordered by its hash.</summary>
    Task<List<long>> SampleKeysAsync(int count, int seed, IReadOnlySet<long> excluded);

    /// <summary>The analyzed tokens of each key's title and abstract in order, repeats kept (term vectors are built from them): one list per key, in the order asked, empty for a key no longer stored.</summary>
    Task<List<IReadOnlyList<string>>> TermsOfAsync(IReadOnlyList<long> keys);

    /// <summary>How many papers hold each term, and how many papers are indexed.</summary>
    Task<(Dictionary<string, int> DocFreqs, int Docs)> DocFreqsAsync(IReadOnlyCollection<string> terms);

    /// <summary>The best <paramref name="depth"/> papers by <paramref name="model"/>'s score within the scope (or among <paramref name="candidates"/>).</summary>
    Task<List<(long Key, double Score)>> RankAsync(LibraryModel model, IReadOnlyCollection<long>? candidates, SearchScope scope, int depth);

    /// <summary>The best <paramref name="depth"/> papers by BM25 of the weighted profile terms within the scope (or among <paramref name="candidates"/>); <paramref name="model"/> explains them.</summary>
    Task<List<(long Key, double Score)>> SearchTermsAsync(LibraryModel model, IReadOnlyList<(string Term, float Weight)> profile, IReadOnlyCollection<long>? candidates, SearchScope scope, int depth);

    /// <summary><paramref name="k"/> of the ranked pool by maximal marginal relevance.</summary>
    Task<List<(long Key, double Score)>> DiversifyAsync(List<(long Key, double Score)> ranked, int k, double diversity);

    /// <summary>Results for the ranked keys still stored, each with the liked papers it is closest to.</summary>
    Task<List<SearchResult>> ShapeAsync(List<(long Key, double Score)> ranked, LibraryModel model);
}
