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
        var db = Collection.Database;
        return Task.Run(async () =>
        {
            var source = new StoredPapersSource(db);
            var model = query.Model();
            var ranked = query.Ranking == SearchMode.Lexical
                ? await source.SearchTermsAsync(model, query.ProfileTerms.Zip(query.ProfileWeights).ToList(), query.Candidates, query.Scope(), query.Depth).ConfigureAwait(false)
                : await source.RankAsync(model, query.Candidates, query.Scope(), query.Depth).ConfigureAwait(false);
            var hits = new List<ShardRecommendHit>(ranked.Count);
            var vector = new float[db.Dimension];
            foreach (var (key, score) in ranked)
            {
                if (db.Catalog.Summary(key) is not { } paper || !db.TryReadVector(key, vector)) continue;
                var because = model.Closest(key, vector);
                hits.Add(new ShardRecommendHit
                {
                    Hit = ShardHit.Of(paper, score),
                    BecauseKeys = because.Select(b => b.Key).ToArray(), BecauseSimilarities = because.Select(b => b.Similarity).ToArray(),
                });
            }
            return hits.ToArray();
        });
    }

    public Task<ShardVector[]> VectorsAsync(long[] keys)
    {
        ThrowIfNotReady();
        var db = Collection.Database;
        var vectors = new List<ShardVector>(keys.Length);
        foreach (long key in keys)
        {
            var vector = new float[db.Dimension];
            if (db.Catalog.Summary(key) is { } paper && db.TryReadVector(key, vector)) vectors.Add(new ShardVector(key, paper.Title, vector));
        }
        return Task.FromResult(vectors.ToArray());
    }

    public Task<long[]> SampleAsync(int count, int seed, long[] excluded)
    {
        ThrowIfNotReady();
        var db = Collection.Database;
        return Task.Run(() => db.Catalog.SampleKeys(count, seed, excluded.ToHashSet()).ToArray());
    }

    public async Task<string[][]> TermsOfAsync(long[] keys)
    {
        ThrowIfNotReady();
        var terms = await new StoredPapersSource(Collection.Database).TermsOfAsync(keys).ConfigureAwait(true);
        return terms.Select(t => t.ToArray()).ToArray();
    }

    public async Task<ShardDocFreqs> DocFreqsAsync(string[] terms)
    {
        ThrowIfNotReady();
        var (docFreqs, docs) = await new StoredPapersSource(Collection.Database).DocFreqsAsync(terms).ConfigureAwait(true);
        return new ShardDocFreqs(terms.Select(t => docFreqs[t]).ToArray(), docs);
    }
}
