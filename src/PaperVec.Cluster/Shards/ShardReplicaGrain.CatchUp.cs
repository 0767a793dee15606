using Microsoft.Extensions.Logging;
using PaperVec.Storage;

namespace PaperVec.Cluster.Shards;

// Catching up (docs/cluster.md): a replica that starts, or comes back after its silo died,
// compares its papers with each live peer's and copies the ones it lacks (or holds an older
// version of: one with more versions or more digests), and the digest records it lacks, as the
// peer stores them; then it serves reads. It only pulls; when it holds papers a peer lacks (acknowledged
// while that peer was down), it asks the peer to catch up in turn.
public sealed partial class ShardReplicaGrain
{
    const int CopyBatch = 256;

    public Task<ListedPaper[]> ListAsync()
    {
        var db = Collection.Database;
        return Task.Run(() => db.Papers().Select(ListedPaper.Of).ToArray());
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
            var mine = (await ListAsync().ConfigureAwait(true)).ToDictionary(p => p.Key);
            var myDigests = collection.Database.Digests().ToDictionary(d => d.Id, StringComparer.Ordinal);
            int reached = 0, copied = 0;
            foreach (int silo in options.Layout.SilosOf(_shard))
            {
                if (silo == options.SiloIndex) continue;
                var peer = grains.GetGrain<IShardReplica>(ClusterLayout.ReplicaKey(_shard, silo));
                try
                {
                    var status = await peer.StatusAsync().WaitAsync(PeerTimeout).ConfigureAwait(true);
                    var theirs = await peer.ListAsync().WaitAsync(PeerTimeout).ConfigureAwait(true);
                    var theirDigests = await peer.DigestsAsync().WaitAsync(PeerTimeout).ConfigureAwait(true);
                    reached++;
                    var wanted = theirs.Where(p => !mine.TryGetValue(p.Key, out var m) || p.NewerThan(m)).Select(p => p.Key).ToArray();
                    // Digest records this replica lacks, or holds an older write of (a shard's part, later replaced by the manifest).
                    var digests = theirDigests.Select(d => RecordCodec.ReadDigest(d))
                        .Where(d => !myDigests.TryGetValue(d.Id, out var m) || d.IngestedAt > m.IngestedAt)
                        .ToList();
                    if (status.ModelId != null)
                    {
                        foreach (var chunk in wanted.Chunk(CopyBatch))
                        {
                            var papers = (await peer.ReadAsync(chunk).WaitAsync(PeerTimeout).ConfigureAwait(true)).Select(p => RecordCodec.ReadPaper(p)).ToList();
                            await Task.Run(() => collection.CopyFromReplicaAsync(papers, [], status.ModelId)).ConfigureAwait(true);
                            copied += papers.Count;
                        }
                        // Digest records after their papers, as an ingest writes them.
                        await Task.Run(() => collection.CopyFromReplicaAsync([], digests, status.ModelId)).ConfigureAwait(true);
                        foreach (var digest in digests) myDigests[digest.Id] = digest;
                    }
                    var theirKeys = theirs.ToDictionary(p => p.Key);
                    if (mine.Values.Any(m => !theirKeys.TryGetValue(m.Key, out var t) || m.NewerThan(t))) _ = peer.CatchUpAsync();
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
