using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Recommend;

/// <summary>A recommendation over one node's store: vectors from memory, the HNSW and Lucene indexes.</summary>
public sealed class StoredPapersSource(PaperDatabase db, LibraryModelCache? models = null) : IRecommendSource
{
    public int Dimension => db.Dimension;
    public LibraryModelCache? Models => models;
    public int Papers => db.PaperCount;

    public Task<Dictionary<long, float[]>> VectorsAsync(IReadOnlyCollection<long> keys)
    {
        var vectors = new Dictionary<long, float[]>(keys.Count);
        foreach (long key in keys)
        {
            var vector = new float[db.Dimension];
            if (db.TryReadVector(key, vector)) vectors[key] = vector;
        }
        return Task.FromResult(vectors);
    }

    public Task<List<long>> SampleKeysAsync(int count, int seed, IReadOnlySet<long> excluded) => Task.FromResult(db.Catalog.SampleKeys(count, seed, excluded));

    /// <summary>From the papers' stored term vectors; a paper without one (an index from before they were kept) has its stored text analysed.</summary>
    public async Task<List<IReadOnlyList<string>>> TermsOfAsync(IReadOnlyList<long> keys)
    {
        var stored = db.LexicalTokens(keys);
        var terms = new List<IReadOnlyList<string>>(keys.Count);
        for (int i = 0; i < keys.Count; i++)
            terms.Add(stored[i] ?? (await db.GetPaperAsync(keys[i]).ConfigureAwait(false) is { } paper ? Lexical.LexicalIndex.Tokens(paper.Title + "\n" + paper.Abstract) : Array.Empty<string>()));
        return terms;
    }

    public Task<(Dictionary<string, int> DocFreqs, int Docs)> DocFreqsAsync(IReadOnlyCollection<string> terms)
    {
        var docFreqs = new Dictionary<string, int>(terms.Count, StringComparer.Ordinal);
        int docs = 0;
        foreach (var term in terms) (docFreqs[term], docs) = db.LexicalDocFreq(term);
        return Task.FromResult((docFreqs, docs));
    }

    public Task<List<(long Key, double Score)>> RankAsync(LibraryModel model, IReadOnlyCollection<long>? candidates, SearchScope scope, int depth)
    {
        var filter = PaperSearch.Filter(db, scope) ?? (_ => true);
        var top = new List<(long Key, double Score)>();
        var vector = new float[db.Dimension];
        IEnumerable<long> pool;
        if (candidates != null) pool = candidates;
        else if (model.Direction is { } direction)
            // A linear score ranks unit vectors as the cosine to its direction does: one index search.
            pool = db.Vectors.Search(direction, depth, ef: Math.Max(2 * depth, 128), filter: filter).Select(h => h.Id);
        else
            pool = model.Liked.TakeLast(Recommender.BestMatchSearches)
                .SelectMany(e => db.Vectors.Search(e.Vector, depth, filter: filter).Select(h => h.Id)).Distinct();
        foreach (long key in pool.Distinct())
            if (filter(key) && db.TryReadVector(key, vector)) top.Add((key, model.Score(vector)));
        top.Sort((a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.Key.CompareTo(b.Key));
        return Task.FromResult(top.Count > depth ? top[..depth] : top);
    }

    public Task<List<(long Key, double Score)>> SearchTermsAsync(LibraryModel model, IReadOnlyList<(string Term, float Weight)> profile, IReadOnlyCollection<long>? candidates, SearchScope scope, int depth) =>
        Task.FromResult(db.SearchLexicalTerms(profile, depth, PaperSearch.Filter(db, scope) ?? (_ => true), candidates).Select(h => (h.Key, (double)h.Score)).ToList());

    public Task<List<(long Key, double Score)>> DiversifyAsync(List<(long Key, double Score)> ranked, int k, double diversity) =>
        Task.FromResult(MaximalMarginalRelevance.Select(db, ranked, k, diversity));

    public Task<List<SearchResult>> ShapeAsync(List<(long Key, double Score)> ranked, LibraryModel model)
    {
        var results = new List<SearchResult>(ranked.Count);
        var vector = new float[db.Dimension];
        foreach (var (key, score) in ranked)
        {
            if (db.Catalog.Summary(key) is not { } paper || !db.TryReadVector(key, vector)) continue;
            results.Add(new SearchResult(paper.Id, paper.Title, paper.FirstSeen.ToString("yyyy-MM-dd"), Math.Round(score, 4), paper.Snippet)
            {
                Because = Because(model.Closest(key, vector)),
            });
        }
        return Task.FromResult(results);
    }

    List<LikedMatch> Because(List<(long Key, float Similarity)> closest) =>
        closest.Where(m => db.Catalog.Summary(m.Key) != null).Select(m => new LikedMatch(db.Catalog.Summary(m.Key)!.Id, db.Catalog.Summary(m.Key)!.Title, Math.Round(m.Similarity, 4))).ToList();
}
