using System.Collections.Concurrent;
using PaperVec.Cluster.Shards;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Cluster;

/// <summary>
/// A recommendation over a cluster's shards, for <see cref="Recommender"/>'s one recipe: reads go to
/// the shard of each key (a key names its shard) and searches to one replica per shard. Each shard
/// ranks by the client's model (or the library's profile terms) and the best of the union is the
/// best overall, as in search. Exact where one node's is: the background sample is the same
/// bottom-k sample (merged by its hash), document frequencies are summed over shards; BM25 scores
/// themselves use each shard's statistics, as hybrid search does.
/// </summary>
sealed class ClusterRecommendSource(ClusterCollection cluster) : IRecommendSource
{
    readonly ConcurrentDictionary<long, ShardRecommendHit> _hits = new();
    readonly ConcurrentDictionary<long, string> _titles = new();

    /// <summary>The vectors' dimension, as the first vectors read show it (the liked papers are read first).</summary>
    public int Dimension { get; private set; } = 384;

    public LibraryModelCache? Models => cluster.LibraryModels;
    public int Papers => cluster.PaperCount;

    public async Task<Dictionary<long, float[]>> VectorsAsync(IReadOnlyCollection<long> keys)
    {
        var vectors = new Dictionary<long, float[]>(keys.Count);
        foreach (var v in await cluster.VectorsAsync(keys).ConfigureAwait(false))
        {
            Dimension = v.Vector.Length;
            vectors[v.Key] = v.Vector;
            _titles[v.Key] = v.Title;
        }
        return vectors;
    }

    public async Task<List<long>> SampleKeysAsync(int count, int seed, IReadOnlySet<long> excluded)
    {
        long[] excludedKeys = [.. excluded];
        var parts = await cluster.ScatterAsync(r => r.SampleAsync(count, seed, excludedKeys)).ConfigureAwait(false);
        return parts.SelectMany(p => p).OrderBy(key => PaperCatalog.SampleHash(key, seed)).Take(count).ToList();
    }

    public async Task<List<IReadOnlyList<string>>> TermsOfAsync(IReadOnlyList<long> keys)
    {
        // Shards answer in their own order: put each key's tokens back in the order asked.
        var byKey = (await cluster.ReadByShardAsync(keys, async (r, shardKeys) => (await r.TermsOfAsync(shardKeys).ConfigureAwait(false)).Zip(shardKeys, (t, k) => (Key: k, Tokens: t)).ToArray())
            .ConfigureAwait(false)).ToDictionary(t => t.Key, t => t.Tokens);
        return keys.Select(k => (IReadOnlyList<string>)byKey.GetValueOrDefault(k, [])).ToList();
    }

    public async Task<(Dictionary<string, int> DocFreqs, int Docs)> DocFreqsAsync(IReadOnlyCollection<string> terms)
    {
        string[] asked = [.. terms];
        var parts = await cluster.ScatterAsync(r => r.DocFreqsAsync(asked)).ConfigureAwait(false);
        var docFreqs = asked.Select((term, i) => (term, parts.Sum(p => p.DocFreqs[i]))).ToDictionary(t => t.term, t => t.Item2, StringComparer.Ordinal);
        return (docFreqs, parts.Sum(p => p.Docs));
    }

    public Task<List<(long Key, double Score)>> RankAsync(LibraryModel model, IReadOnlyCollection<long>? candidates, SearchScope scope, int depth) =>
        MergeAsync(ShardRecommend.Of(model, SearchMode.Semantic, depth, scope, candidates), depth);

    public Task<List<(long Key, double Score)>> SearchTermsAsync(LibraryModel model, IReadOnlyList<(string Term, float Weight)> profile, IReadOnlyCollection<long>? candidates,
        SearchScope scope, int depth) =>
        MergeAsync(ShardRecommend.Of(model, SearchMode.Lexical, depth, scope, candidates, profile), depth);

    async Task<List<(long Key, double Score)>> MergeAsync(ShardRecommend query, int depth)
    {
        var parts = await cluster.ScatterAsync(r => r.RecommendAsync(query)).ConfigureAwait(false);
        foreach (var hit in parts.SelectMany(p => p)) _hits[hit.Hit.Key] = hit;
        return parts.SelectMany(p => p).Select(h => h.Hit).OrderByDescending(h => h.Score).ThenBy(h => h.Key).Take(depth).Select(h => (h.Key, h.Score)).ToList();
    }

    public async Task<List<(long Key, double Score)>> DiversifyAsync(List<(long Key, double Score)> ranked, int k, double diversity) =>
        MaximalMarginalRelevance.Select(await VectorsAsync(ranked.Select(r => r.Key).ToList()).ConfigureAwait(false), ranked, k, diversity);

    public Task<List<SearchResult>> ShapeAsync(List<(long Key, double Score)> ranked, LibraryModel model) =>
        Task.FromResult(ranked.Where(r => _hits.ContainsKey(r.Key)).Select(r =>
        {
            var hit = _hits[r.Key];
            return new SearchResult(PaperIdentity.Format(r.Key), hit.Hit.Title, hit.Hit.Date, Math.Round(r.Score, 4), hit.Hit.Snippet)
            {
                // A fused or term model's explanation is the recipe's own (the shards score embeddings only).
                Because = (model.Explained?.GetValueOrDefault(r.Key)?.Select(m => (First: m.Key, Second: m.Similarity)) ?? hit.BecauseKeys.Zip(hit.BecauseSimilarities))
                    .Where(b => _titles.ContainsKey(b.First))
                    .Select(b => new LikedMatch(PaperIdentity.Format(b.First), _titles[b.First], Math.Round(b.Second, 4))).ToList(),
            };
        }).ToList());
}
