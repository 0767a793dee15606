using PaperVec.Storage;

namespace PaperVec.Cluster.Shards;

// Readers' libraries on a cluster: each lives on its home shard (a hash of its name, see
// ClusterLayout.LibraryShardOf), written to every replica of that shard like a paper.
public sealed partial class ShardReplicaGrain
{
    public Task<byte[]> ChangeLibraryAsync(ShardLibraryChange change) => WriteGateAsync(async collection =>
        RecordCodec.EncodeLibrary(await collection.ApplyLibraryChangeAsync(change.Name, change.Like, change.Dislike, change.Remove, change.Replace, change.At).ConfigureAwait(false)));

    public Task<bool> DeleteLibraryAsync(string name) => WriteGateAsync(collection => collection.DeleteLibraryAsync(name));

    public Task<byte[]?> LibraryAsync(string name)
    {
        ThrowIfNotReady();
        return Task.FromResult(Collection.Database.Catalog.GetLibrary(name) is { } library ? RecordCodec.EncodeLibrary(library) : null);
    }

    public Task<byte[][]> LibrariesAsync()
    {
        ThrowIfNotReady();
        return Task.FromResult(Collection.Database.Catalog.Libraries().Select(RecordCodec.EncodeLibrary).ToArray());
    }
}
