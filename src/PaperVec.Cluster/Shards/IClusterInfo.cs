using Orleans.Concurrency;

namespace PaperVec.Cluster.Shards;

/// <summary>What any silo tells a client about the cluster: its layout (a client needs no copy of the configuration).</summary>
public interface IClusterInfo : IGrainWithIntegerKey
{
    Task<ClusterLayout> LayoutAsync();
}

[StatelessWorker]
public sealed class ClusterInfoGrain(ClusterSiloOptions options) : Grain, IClusterInfo
{
    public Task<ClusterLayout> LayoutAsync() => Task.FromResult(options.Layout);
}
