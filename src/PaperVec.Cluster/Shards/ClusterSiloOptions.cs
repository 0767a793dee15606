namespace PaperVec.Cluster.Shards;

/// <summary>What a silo knows of itself: where its replicas keep their data, the cluster's layout and its own index.</summary>
public sealed record ClusterSiloOptions
{
    public required string DataRoot { get; init; }
    public required ClusterLayout Layout { get; init; }
    public required int SiloIndex { get; init; }
    /// <summary>The address other silos and clients reach this one at (with a membership store; development clustering is loopback).</summary>
    public System.Net.IPAddress Address { get; init; } = System.Net.IPAddress.Loopback;

    public string SiloName => ClusterLayout.SiloName(SiloIndex);

    /// <summary>The data directory of this silo's replica of <paramref name="shard"/>.</summary>
    public string ReplicaDirectory(int shard) => Path.Combine(DataRoot, $"shard-{shard}");

    /// <summary>The file of deletes of this silo's replica of <paramref name="shard"/> (beside its collection, not in it).</summary>
    public string TombstonePath(int shard) => Path.Combine(DataRoot, $"shard-{shard}.deletes.json");

    /// <summary>The record of which replicas of <paramref name="shard"/> may hold writes this silo's replica lacks (<see cref="ShardInSync"/>).</summary>
    public string InSyncPath(int shard) => Path.Combine(DataRoot, $"shard-{shard}.insync.json");
}
