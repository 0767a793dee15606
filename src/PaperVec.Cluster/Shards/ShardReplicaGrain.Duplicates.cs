using PaperVec.Duplicates;

namespace PaperVec.Cluster.Shards;

// A shard's part of a duplicate report (ClusterCollection.DuplicatesAsync): the nearest listed
// neighbours of every listed paper among this shard's listed papers, by the engine's own rule.
public sealed partial class ShardReplicaGrain
{
    public Task<ShardCandidates[]> DuplicateCandidatesAsync(ShardDuplicateQuery query)
    {
        ThrowIfNotReady();
        var db = Collection.Database;
        return Task.Run(() =>
        {
            var finder = new DuplicateFinder(db);
            var listed = query.Listed.ToHashSet();
            var found = new ShardCandidates[query.Keys.Length];
            Parallel.For(0, query.Keys.Length, i =>
            {
                var candidates = finder.Candidates(query.Keys[i], query.Vectors[i], listed.Contains);
                found[i] = new ShardCandidates(query.Keys[i], candidates.Select(c => c.Key).ToArray(), candidates.Select(c => c.Cosine).ToArray());
            });
            return found;
        });
    }
}
