using PaperVec.Recommend;
using PaperVec.Search;

namespace PaperVec.Cluster.Shards;

// A shard's part of a recommendation (ClusterRecommendSource): the client trains the reader's
// model once, each shard ranks its own papers by it with the engine's own code
// (StoredPapersSource), and the client merges. Reads run on the thread pool, like searches.
public sealed partial class ShardReplicaGrain
{
    public Task<ShardRecommendHit[]> RecommendAsync(ShardRecommend query)
    {
        ThrowIfNotReady();
        var shard = Collection;
        return Task.Run(async () =>
        {
            var profile = query.Ranking == SearchMode.Lexical ? query.ProfileTerms.Zip(query.ProfileWeights).ToList() : null;
            var ranked = await shard.RecommendAsync(query.Model(), query.Ranking, profile, query.Candidates, query.Scope(), query.Depth).ConfigureAwait(false);
            return ranked.Select(h => new ShardRecommendHit
            {
                Hit = ShardHit.Of(h.Hit), BecauseKeys = [.. h.BecauseKeys], BecauseSimilarities = [.. h.BecauseSimilarities],
            }).ToArray();
        });
    }

    public async Task<ShardVector[]> VectorsAsync(long[] keys)
    {
        ThrowIfNotReady();
        return (await Collection.VectorsAsync(keys).ConfigureAwait(true)).Select(v => new ShardVector(v.Key, v.Title, v.Vector)).ToArray();
    }

    public async Task<long[]> SampleAsync(int count, int seed, long[] excluded)
    {
        ThrowIfNotReady();
        var shard = Collection;
        return [.. await Task.Run(() => shard.SampleAsync(count, seed, excluded.ToHashSet())).ConfigureAwait(true)];
    }

    public async Task<string[][]> TermsOfAsync(long[] keys)
    {
        ThrowIfNotReady();
        var terms = await Collection.TermsOfAsync(keys).ConfigureAwait(true);
        return terms.Select(t => t.ToArray()).ToArray();
    }

    public async Task<ShardDocFreqs> DocFreqsAsync(string[] terms)
    {
        ThrowIfNotReady();
        var (docFreqs, docs) = await Collection.DocFreqsAsync(terms).ConfigureAwait(true);
        return new ShardDocFreqs(docFreqs, docs);
    }
}
