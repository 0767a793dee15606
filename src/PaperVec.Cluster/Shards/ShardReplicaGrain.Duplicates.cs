namespace PaperVec.Cluster.Shards;

// A shard's part of a duplicate report (the coordinator's DuplicatesAsync): the nearest listed
// neighbours of every listed paper among this shard's listed papers, by the engine's own rule.
public sealed partial class ShardReplicaGrain
{
    public async Task<ShardCandidates[]> DuplicateCandidatesAsync(ShardDuplicateQuery query)
    {
        ThrowIfNotReady();
        var found = await Collection.DuplicateCandidatesAsync(query.Keys, query.Vectors, query.Listed).ConfigureAwait(true);
        return found.Select(c => new ShardCandidates(c.Key, c.Others, c.Cosines)).ToArray();
    }
}
