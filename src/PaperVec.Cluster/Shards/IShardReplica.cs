using Orleans.Concurrency;

namespace PaperVec.Cluster.Shards;

/// <summary>
/// One replica of one shard (grain key "SHARD/SILO-NAME", see <see cref="ClusterLayout.ReplicaKey"/>),
/// always on the silo its key names. Writes are applied one at a time; reads run alongside them and
/// off the grain's scheduler, on the thread pool, so one replica answers many searches at once.
/// </summary>
public interface IShardReplica : IGrainWithStringKey
{
    /// <summary>Applies a write durably (returns when it is in this replica's write-ahead log).</summary>
    Task<ShardWriteResult> WriteAsync(ShardWrite write);

    [AlwaysInterleave] Task<ReplicaStatus> StatusAsync();

    /// <summary>The best <see cref="ShardQuery.Depth"/> papers of one ranking; throws <see cref="ReplicaNotReadyException"/> while catching up.</summary>
    [AlwaysInterleave] Task<ShardHit[]> SearchAsync(ShardQuery query);

    /// <summary>A stored paper by PaperVec id or source id, with its vector; null when this shard has none.</summary>
    [AlwaysInterleave] Task<ShardPaper?> FindAsync(string id);

    /// <summary>The key of a paper by id (PaperVec or source id); null when this shard has none.</summary>
    [AlwaysInterleave] Task<long?> ResolveAsync(string id);

    /// <summary>Every paper this replica holds, as key and text hash (catching up compares listings).</summary>
    [AlwaysInterleave] Task<ListedPaper[]> ListAsync();

    /// <summary>Papers by key, whole (catching up copies them).</summary>
    [AlwaysInterleave] Task<ShardPaper[]> ReadAsync(long[] keys);

    /// <summary>
    /// Copies from every live peer what this replica lacks (pull only: a peer that lacks something of
    /// ours pulls it when we ask it to catch up in turn). A replica serves reads once it has caught up
    /// after it started. One-way: the caller does not wait.
    /// </summary>
    [OneWay] Task CatchUpAsync();
}
