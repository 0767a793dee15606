using Microsoft.Extensions.Logging;
using PaperVec.Storage;

namespace PaperVec.Cluster.Shards;

// Catching up (docs/cluster.md): a replica that starts, or comes back after its silo died,
// compares its papers with each live peer's and copies the ones it lacks (or holds an older
// version of: one with more versions or more digests), and the digest records and readers'
// libraries it lacks or holds an older write of, as the peer stores them; then it serves reads.
// It only pulls; when it holds what a peer lacks (acknowledged while that peer was down), it
// asks the peer to catch up in turn.
public sealed partial class ShardReplicaGrain
{
    const int CopyBatch = 256;

    public Task<ReplicaListing> ListAsync()
    {
        var db = Collection.Database;
        var deletes = _tombstones.Histories;
        return Task.Run(() => new ReplicaListing
        {
            Papers = db.Papers().Select(ListedPaper.Of).ToArray(),
            Digests = db.Digests().Select(RecordCodec.EncodeDigest).ToArray(),
            Libraries = db.Libraries().Select(RecordCodec.EncodeLibrary).ToArray(),
            DeletedKeys = [.. deletes.Keys],
            DeletedAt = deletes.Values.Select(h => h.DeletedAt).ToArray(),
            RevivedAt = deletes.Values.Select(h => h.RevivedAt).ToArray(),
        });
    }

    public Task<byte[][]> RecordsAsync(long[] keys)
    {
        ThrowIfNotReady();
        return ReadAsync(keys);
    }

    public async Task<byte[][]> ReadAsync(long[] keys)
    {
        var db = Collection.Database;
        var papers = new List<byte[]>(keys.Length);
        foreach (long key in keys)
            if (await db.GetPaperAsync(key).ConfigureAwait(true) is { } record) papers.Add(RecordCodec.EncodePaper(record));
        return papers.ToArray();
    }

    public async Task CatchUpAsync()
    {
        await _writes.WaitAsync().ConfigureAwait(true);
        try
        {
            var collection = Collection;
            var mine = await Task.Run(() => collection.Database.Papers().Select(ListedPaper.Of).ToDictionary(p => p.Key)).ConfigureAwait(true);
            var myDigests = collection.Database.Digests().ToDictionary(d => d.Id, StringComparer.Ordinal);
            var myLibraries = collection.Database.Libraries().ToDictionary(l => l.Name, StringComparer.Ordinal);
            int reached = 0, copied = 0;
            foreach (int silo in options.Layout.SilosOf(_shard))
            {
                if (silo == options.SiloIndex) continue;
                var peer = grains.GetGrain<IShardReplica>(ClusterLayout.ReplicaKey(_shard, silo));
                try
                {
                    var status = await peer.StatusAsync().WaitAsync(PeerTimeout).ConfigureAwait(true);
                    var listing = await peer.ListAsync().WaitAsync(PeerTimeout).ConfigureAwait(true);
                    var theirs = listing.Papers;
                    reached++;
                    // Deletes first: a paper the peer deleted after this replica last saw it goes here too, and is not copied back there.
                    var theirDeletes = listing.DeletedKeys.Select((k, i) => (k, new ShardTombstones.History(listing.DeletedAt[i], listing.RevivedAt[i]))).ToList();
                    _tombstones.Apply(theirDeletes);
                    foreach (long key in mine.Keys.Where(_tombstones.IsDeleted).ToList())
                    {
                        await Task.Run(() => collection.DeleteAsync(PaperIdentity.Format(key))).ConfigureAwait(true);
                        mine.Remove(key);
                    }
                    var wanted = theirs.Where(p => !_tombstones.IsDeleted(p.Key) && (!mine.TryGetValue(p.Key, out var m) || p.NewerThan(m))).Select(p => p.Key).ToArray();
                    // Digest records this replica lacks, or holds an older write of (a shard's part, later replaced by the manifest).
                    var theirDigests = listing.Digests.Select(d => RecordCodec.ReadDigest(d)).ToDictionary(d => d.Id, StringComparer.Ordinal);
                    var theirLibraries = listing.Libraries.Select(l => RecordCodec.ReadLibrary(l)).ToDictionary(l => l.Name, StringComparer.Ordinal);
                    var digests = theirDigests.Values
                        .Where(d => !myDigests.TryGetValue(d.Id, out var m) || d.IngestedAt > m.IngestedAt)
                        .ToList();
                    var libraries = theirLibraries.Values
                        .Where(l => !myLibraries.TryGetValue(l.Name, out var m) || l.UpdatedAt > m.UpdatedAt)
                        .ToList();
                    if (status.ModelId != null)
                        foreach (var chunk in wanted.Chunk(CopyBatch))
                        {
                            var papers = (await peer.ReadAsync(chunk).WaitAsync(PeerTimeout).ConfigureAwait(true)).Select(p => RecordCodec.ReadPaper(p)).ToList();
                            await Task.Run(() => collection.CopyFromReplicaAsync(papers, [], status.ModelId)).ConfigureAwait(true);
                            copied += papers.Count;
                        }
                    // Digest records and libraries after the papers they name, as an ingest writes them.
                    await Task.Run(() => collection.CopyFromReplicaAsync([], digests, null, libraries)).ConfigureAwait(true);
                    foreach (var digest in digests) myDigests[digest.Id] = digest;
                    foreach (var library in libraries) myLibraries[library.Name] = library;
                    var theirKeys = theirs.ToDictionary(p => p.Key);
                    var theirHistories = theirDeletes.ToDictionary(d => d.k, d => d.Item2);
                    if (mine.Values.Any(m => !theirKeys.TryGetValue(m.Key, out var t) || m.NewerThan(t))
                        || _tombstones.Histories.Any(h => !theirHistories.TryGetValue(h.Key, out var t) || t.Merge(h.Value) != t)
                        || theirs.Any(p => _tombstones.IsDeleted(p.Key))
                        || myDigests.Values.Any(m => !theirDigests.TryGetValue(m.Id, out var t) || m.IngestedAt > t.IngestedAt)
                        || myLibraries.Values.Any(m => !theirLibraries.TryGetValue(m.Name, out var t) || m.UpdatedAt > t.UpdatedAt))
                        _ = peer.CatchUpAsync();
                }
                catch (Exception e) when (e is not ObjectDisposedException)
                {
                    log.LogWarning("replica {Key}: peer on {Silo} unreachable while catching up: {Reason}", this.GetPrimaryKeyString(), ClusterLayout.SiloName(silo), e.Message);
                }
            }
            _note = $"caught up: {copied} papers copied from {reached} live peer(s)";
            _ready = true;
            log.LogInformation("replica {Key}: {Note}", this.GetPrimaryKeyString(), _note);
        }
        finally { _writes.Release(); }
    }
}
