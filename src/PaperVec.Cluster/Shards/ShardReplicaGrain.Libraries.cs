using PaperVec.Storage;

namespace PaperVec.Cluster.Shards;

// Readers' libraries on a cluster: each lives on its home shard (a hash of its name, see
// ClusterLayout.LibraryShardOf), written to every replica of that shard like a paper.
public sealed partial class ShardReplicaGrain
{
    public Task<byte[]> ChangeLibraryAsync(ShardLibraryChange change) => WriteGateAsync(async collection =>
        RecordCodec.EncodeLibrary(await collection.ApplyLibraryChangeAsync(
            new Engine.LibraryChange(change.Name, change.Like, change.Dislike, change.Remove, change.Replace, change.At)).ConfigureAwait(false)));

    public Task<bool> DeleteLibraryAsync(string name) => WriteGateAsync(collection => collection.DeleteLibraryAsync(name));

    public Task<byte[]?> SubscribeAsync(string name, string? email, int top, DateTimeOffset at)
    {
        // The same check (and ms rounding of Since) as the coordinator's: a replica trusts no caller's record.
        var subscription = email == null ? null : LibrarySubscription.Check(email, top, at);
        return WriteGateAsync<byte[]?>(async collection =>
            await collection.SubscribeAsync(name, subscription, at).ConfigureAwait(false) is { } library ? RecordCodec.EncodeLibrary(library) : null);
    }

    public Task<byte[]?> MarkMailedAsync(string name, string digestId, DateTimeOffset at) => WriteGateAsync<byte[]?>(async collection =>
        await collection.MarkMailedAsync(name, digestId, at).ConfigureAwait(false) is { } library ? RecordCodec.EncodeLibrary(library) : null);

    public async Task<byte[]?> LibraryAsync(string name)
    {
        ThrowIfNotReady();
        return await Collection.LibraryAsync(name).ConfigureAwait(true) is { } library ? RecordCodec.EncodeLibrary(library) : null;
    }

    public Task<byte[][]> LibrariesAsync()
    {
        ThrowIfNotReady();
        return Task.FromResult(Collection.Libraries().Select(RecordCodec.EncodeLibrary).ToArray());
    }
}
