using PaperVec.Storage;

namespace PaperVec.Search;

/// <summary>
/// What a free-text search reads and ranks over: one node's store (<see cref="StoredPapersSearch"/>) or
/// a cluster's shards (PaperVec.Cluster). The seam keeps one recipe in <see cref="PaperSearch.RunAsync"/>
/// (limits, pool depth, fusion depth, <see cref="PaperSearch.Fuse"/>, maximal marginal relevance) for both.
/// </summary>
public interface ISearchSource
{
    /// <summary>One ranking (semantic or lexical) of the query within the scope, best first, to <paramref name="depth"/>.</summary>
    Task<List<(long Key, double Score)>> RankingAsync(SearchQuery query, SearchMode ranking, SearchScope scope, int depth);

    /// <summary>The stored vector of each key that still names a stored paper.</summary>
    Task<Dictionary<long, float[]>> VectorsAsync(IReadOnlyCollection<long> keys);

    /// <summary>Results for the ranked keys still stored, with the words the query matched.</summary>
    Task<List<SearchResult>> ShapeAsync(List<(long Key, double Score)> hits, SearchQuery query);
}

/// <summary>One node's store as a search source: rankings from its indexes, shapes from its in-memory summaries.</summary>
public sealed class StoredPapersSearch(PaperDatabase db) : ISearchSource
{
    public Task<List<(long Key, double Score)>> RankingAsync(SearchQuery query, SearchMode ranking, SearchScope scope, int depth) =>
        Task.FromResult(PaperSearch.Ranking(db, query, ranking, scope, depth));

    public Task<Dictionary<long, float[]>> VectorsAsync(IReadOnlyCollection<long> keys)
    {
        var vectors = new Dictionary<long, float[]>(keys.Count);
        foreach (long key in keys)
        {
            var v = new float[db.Dimension];
            if (db.TryReadVector(key, v)) vectors[key] = v; // else deleted since
        }
        return Task.FromResult(vectors);
    }

    public Task<List<SearchResult>> ShapeAsync(List<(long Key, double Score)> hits, SearchQuery query)
    {
        var terms = PaperSearch.QueryTerms(db, query.Text);
        var results = new List<SearchResult>(hits.Count);
        foreach (var (key, score) in hits)
            if (db.Catalog.Summary(key) is { } paper) // deleted between the index hit and the read
                results.Add(new SearchResult(paper.Id, paper.Title, paper.FirstSeen.ToString("yyyy-MM-dd"), Math.Round(score, 4), paper.Snippet)
                {
                    Matches = PaperSearch.MatchedWords(db, paper, terms),
                });
        return Task.FromResult(results);
    }
}
