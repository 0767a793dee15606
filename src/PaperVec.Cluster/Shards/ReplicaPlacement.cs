using Orleans.Metadata;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace PaperVec.Cluster.Shards;

/// <summary>
/// Places a shard replica on the silo its key names ("3/silo-1" on the silo named silo-1): a
/// replica's data lives on that silo's disk, so it never moves. When that silo is down the
/// activation fails, and the cluster client reads from and writes to the shard's other replicas.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class ReplicaPlacement : PlacementStrategy
{
    public static readonly ReplicaPlacement Instance = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ReplicaPlacementAttribute() : PlacementAttribute(ReplicaPlacement.Instance);

/// <summary>The silo whose name a replica key names, among the active ones.</summary>
public sealed class ReplicaPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string key = target.GrainIdentity.Key.ToString()!;
        var (_, siloName) = ClusterLayout.ParseReplicaKey(key);
        var compatible = context.GetCompatibleSilos(target).ToHashSet();
        foreach (var member in membership.CurrentSnapshot.Members.Values)
            if (member.Name == siloName && member.Status == SiloStatus.Active && compatible.Contains(member.SiloAddress))
                return Task.FromResult(member.SiloAddress);
        throw new SiloUnavailableException($"replica {key}: silo {siloName} is not active");
    }
}
