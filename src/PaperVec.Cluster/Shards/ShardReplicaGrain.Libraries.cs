using PaperVec.Storage;

namespace PaperVec.Cluster.Shards;

// Readers' libraries on a cluster: each lives on its home shard (a hash of its name, see
// ClusterLayout.LibraryShardOf), written to every replica of that shard like a paper.
public sealed partial class ShardReplicaGrain
{
    public async Task<byte[]> ChangeLibraryAsync(ShardLibraryChange change)
    {
        await _writes.WaitAsync().ConfigureAwait(true);
        try
        {
            var collection = Collection;
            var library = await Task.Run(() => collection.ApplyLibraryChangeAsync(change.Name, change.Like, change.Dislike, change.Remove, change.Replace, change.At))
                .ConfigureAwait(true);
            return RecordCodec.EncodeLibrary(library);
        }
        finally { _writes.Release(); }
    }

    public async Task<bool> DeleteLibraryAsync(string name)
    {
        await _writes.WaitAsync().ConfigureAwait(true);
        try
        {
            var collection = Collection;
            return await Task.Run(() => collection.DeleteLibraryAsync(name)).ConfigureAwait(true);
        }
        finally { _writes.Release(); }
    }

    public Task<byte[]?> LibraryAsync(string name)
    {
        ThrowIfNotReady();
        return Task.FromResult(Collection.Database.GetLibrary(name) is { } library ? RecordCodec.EncodeLibrary(library) : null);
    }

    public Task<byte[][]> LibrariesAsync()
    {
        ThrowIfNotReady();
        return Task.FromResult(Collection.Database.Libraries().Select(RecordCodec.EncodeLibrary).ToArray());
    }
}
