using PaperVec.Engine;

namespace PaperVec.Cluster;

/// <summary>Every replica of a shard refused or missed a write or a read: the answer would be incomplete.</summary>
public sealed class ShardUnavailableException(string message, Exception? inner = null) : CollectionUnavailableException(message, inner);
