using System.Collections.Concurrent;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Engine;

/// <summary>
/// A search over a collection's shards, for <see cref="PaperSearch.RunAsync"/>'s one recipe: each ranking
/// asks every shard for the full depth and merges (the top n of the union of each shard's top n is the top
/// n of all); results are shaped from what the shards answered.
/// </summary>
sealed class ShardedSearchSource(CollectionCoordinator collection) : ISearchSource
{
    readonly ConcurrentDictionary<long, ShardSearchHit> _papers = new();

    /// <summary>The best <paramref name="k"/> of every shard's hits, best first (ties by key, as one index orders them).</summary>
    internal static List<ShardSearchHit> Merge(IEnumerable<List<ShardSearchHit>> perShard, int k) =>
        perShard.SelectMany(h => h).OrderByDescending(h => h.Score).ThenBy(h => h.Key).Take(k).ToList();

    public async Task<List<(long Key, double Score)>> RankingAsync(SearchQuery query, SearchMode ranking, SearchScope scope, int depth)
    {
        if (ranking == SearchMode.Semantic && query.Vector == null) throw new ArgumentException($"{query.Mode} search needs the query's embedding");
        var merged = Merge(await Task.WhenAll(collection.Shards.Select(s => s.RankingAsync(query, ranking, scope, depth))).ConfigureAwait(false), depth);
        foreach (var hit in merged) _papers.TryAdd(hit.Key, hit);
        return merged.Select(h => (h.Key, h.Score)).ToList();
    }

    public async Task<Dictionary<long, float[]>> VectorsAsync(IReadOnlyCollection<long> keys) =>
        (await collection.VectorsAsync(keys).ConfigureAwait(false)).ToDictionary(v => v.Key, v => v.Vector);

    public Task<List<SearchResult>> ShapeAsync(List<(long Key, double Score)> hits, SearchQuery query) =>
        Task.FromResult(hits.Select(h => _papers[h.Key].ToResult(h.Score)).ToList());
}

/// <summary>
/// A recommendation over a collection's shards, for <see cref="Recommender"/>'s one recipe: reads go to
/// the shard of each key (a key names its shard) and rankings to every shard. Each shard ranks by the
/// coordinator's model (or the library's profile terms) and the best of the union is the best overall, as
/// in search. Exact where one shard's is: the background sample is the same bottom-k sample (merged by its
/// hash), document frequencies are summed over shards; BM25 scores themselves use each shard's statistics,
/// as hybrid search does.
/// </summary>
sealed class ShardedRecommendSource(CollectionCoordinator collection) : IRecommendSource
{
    readonly ConcurrentDictionary<long, ShardRecommendation> _hits = new();
    readonly ConcurrentDictionary<long, string> _titles = new();

    /// <summary>The vectors' dimension, as the first vectors read show it (the liked papers are read first).</summary>
    public int Dimension { get; private set; } = 384;

    public LibraryModelCache? Models => collection.LibraryModels;
    public int Papers => collection.PaperCount;

    public async Task<Dictionary<long, float[]>> VectorsAsync(IReadOnlyCollection<long> keys)
    {
        var vectors = new Dictionary<long, float[]>(keys.Count);
        foreach (var v in await collection.VectorsAsync(keys).ConfigureAwait(false))
        {
            Dimension = v.Vector.Length;
            vectors[v.Key] = v.Vector;
            _titles[v.Key] = v.Title;
        }
        return vectors;
    }

    public async Task<List<long>> SampleKeysAsync(int count, int seed, IReadOnlySet<long> excluded)
    {
        var parts = await Task.WhenAll(collection.Shards.Select(s => s.SampleAsync(count, seed, excluded))).ConfigureAwait(false);
        return parts.SelectMany(p => p).OrderBy(key => PaperCatalog.SampleHash(key, seed)).Take(count).ToList();
    }

    public async Task<List<IReadOnlyList<string>>> TermsOfAsync(IReadOnlyList<long> keys)
    {
        // Shards answer in their own order: put each key's tokens back in the order asked.
        var byKey = (await collection.ByKeyAsync(keys, async (s, shardKeys) => (await s.TermsOfAsync(shardKeys).ConfigureAwait(false)).Zip(shardKeys, (t, k) => (Key: k, Tokens: t)).ToList())
            .ConfigureAwait(false)).ToDictionary(t => t.Key, t => t.Tokens);
        return keys.Select(k => byKey.GetValueOrDefault(k) ?? []).ToList();
    }

    public async Task<(Dictionary<string, int> DocFreqs, int Docs)> DocFreqsAsync(IReadOnlyCollection<string> terms)
    {
        string[] asked = [.. terms];
        var parts = await Task.WhenAll(collection.Shards.Select(s => s.DocFreqsAsync(asked))).ConfigureAwait(false);
        var docFreqs = asked.Select((term, i) => (term, parts.Sum(p => p.DocFreqs[i]))).ToDictionary(t => t.term, t => t.Item2, StringComparer.Ordinal);
        return (docFreqs, parts.Sum(p => p.Docs));
    }

    public Task<List<(long Key, double Score)>> RankAsync(LibraryModel model, IReadOnlyCollection<long>? candidates, SearchScope scope, int depth) =>
        MergeAsync(s => s.RecommendAsync(model, SearchMode.Semantic, null, candidates, scope, depth), depth);

    public Task<List<(long Key, double Score)>> SearchTermsAsync(LibraryModel model, IReadOnlyList<(string Term, float Weight)> profile, IReadOnlyCollection<long>? candidates,
        SearchScope scope, int depth) =>
        MergeAsync(s => s.RecommendAsync(model, SearchMode.Lexical, profile, candidates, scope, depth), depth);

    async Task<List<(long Key, double Score)>> MergeAsync(Func<ICollectionShard, Task<List<ShardRecommendation>>> call, int depth)
    {
        var parts = await Task.WhenAll(collection.Shards.Select(call)).ConfigureAwait(false);
        foreach (var hit in parts.SelectMany(p => p)) _hits[hit.Hit.Key] = hit;
        return parts.SelectMany(p => p).Select(h => h.Hit).OrderByDescending(h => h.Score).ThenBy(h => h.Key).Take(depth).Select(h => (h.Key, h.Score)).ToList();
    }

    public async Task<List<(long Key, double Score)>> DiversifyAsync(List<(long Key, double Score)> ranked, int k, double diversity) =>
        MaximalMarginalRelevance.Select(await VectorsAsync(ranked.Select(r => r.Key).ToList()).ConfigureAwait(false), ranked, k, diversity);

    public Task<List<SearchResult>> ShapeAsync(List<(long Key, double Score)> ranked, LibraryModel model) =>
        Task.FromResult(ranked.Where(r => _hits.ContainsKey(r.Key)).Select(r =>
        {
            var hit = _hits[r.Key];
            return hit.Hit.ToResult(r.Score) with
            {
                Matches = null,
                // A fused or term model's explanation is the recipe's own (the shards score embeddings only).
                Because = (model.Explained?.GetValueOrDefault(r.Key)?.Select(m => (First: m.Key, Second: m.Similarity)) ?? hit.BecauseKeys.Zip(hit.BecauseSimilarities))
                    .Where(b => _titles.ContainsKey(b.First))
                    .Select(b => new LikedMatch(PaperIdentity.Format(b.First), _titles[b.First], Math.Round(b.Second, 4))).ToList(),
            };
        }).ToList());
}
