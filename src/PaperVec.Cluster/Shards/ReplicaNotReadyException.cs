namespace PaperVec.Cluster.Shards;

/// <summary>A replica is catching up with its peers and does not serve reads yet: ask another.</summary>
[GenerateSerializer]
public sealed class ReplicaNotReadyException : Exception
{
    public ReplicaNotReadyException(string message) : base(message) { }
}
