using System.IO.Hashing;
using System.Text;

namespace PaperVec.Engine;

/// <summary>
/// Which shard holds what, for <see cref="CollectionCoordinator"/>: a paper the shard of its key (already a
/// hash of its normalised title), a digest's manifest (its whole listing order) and a reader's library
/// their home shard, a hash of the id or name. One shard (a node) holds everything.
/// </summary>
public sealed record ShardRouting(int Shards)
{
    public static readonly ShardRouting Single = new(1);

    /// <summary>The shard a paper belongs to.</summary>
    public int ShardOf(long paperKey) => (int)((ulong)paperKey % (ulong)Shards);

    /// <summary>The shard that keeps a digest's record (its whole listing order): a hash of its id.</summary>
    public int HomeShardOf(string digestId) => Shards == 1 ? 0 : (int)(XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(digestId)) % (ulong)Shards);

    /// <summary>The shard that keeps a reader's library: a hash of its name.</summary>
    public int LibraryShardOf(string name) => HomeShardOf("library/" + name);
}
