using Microsoft.Extensions.Logging;
using PaperVec.Storage;

namespace PaperVec.Cluster.Shards;

// Catching up (docs/cluster.md): a replica that starts, or comes back after its silo died,
// compares its papers with each live peer's and copies the ones it lacks (or holds an older
// version of), then serves reads. It only pulls; when it holds papers a peer lacks (acknowledged
// while that peer was down), it asks the peer to catch up in turn.
public sealed partial class ShardReplicaGrain
{
    const int CopyBatch = 256;

    public Task<ListedPaper[]> ListAsync()
    {
        var db = Collection.Database;
        return Task.Run(() => db.Papers().Select(p => new ListedPaper(p.Key, p.TextHash, p.PreviousVersions.Count)).ToArray());
    }

    public async Task<ShardPaper[]> ReadAsync(long[] keys)
    {
        var db = Collection.Database;
        var papers = new List<ShardPaper>(keys.Length);
        foreach (long key in keys)
            if (await db.GetPaperAsync(key).ConfigureAwait(true) is { } record) papers.Add(ShardPaper.Of(record));
        return papers.ToArray();
    }

    public async Task CatchUpAsync()
    {
        await _writes.WaitAsync().ConfigureAwait(true);
        try
        {
            var collection = Collection;
            var mine = (await ListAsync().ConfigureAwait(true)).ToDictionary(p => p.Key);
            int reached = 0, copied = 0;
            foreach (int silo in options.Layout.SilosOf(_shard))
            {
                if (silo == options.SiloIndex) continue;
                var peer = grains.GetGrain<IShardReplica>(ClusterLayout.ReplicaKey(_shard, silo));
                try
                {
                    var status = await peer.StatusAsync().WaitAsync(PeerTimeout).ConfigureAwait(true);
                    var theirs = await peer.ListAsync().WaitAsync(PeerTimeout).ConfigureAwait(true);
                    reached++;
                    var wanted = theirs.Where(p => !mine.TryGetValue(p.Key, out var m) || (m.TextHash != p.TextHash && p.Versions > m.Versions))
                        .Select(p => p.Key).ToArray();
                    foreach (var chunk in wanted.Chunk(CopyBatch))
                    {
                        var papers = await peer.ReadAsync(chunk).WaitAsync(PeerTimeout).ConfigureAwait(true);
                        if (papers.Length == 0 || status.ModelId == null) continue;
                        var incoming = papers.Select(p => p.ToIncoming()).ToList();
                        await Task.Run(() => collection.IngestEmbeddedAsync(incoming, status.ModelId)).ConfigureAwait(true);
                        copied += papers.Length;
                    }
                    var theirKeys = theirs.Select(p => p.Key).ToHashSet();
                    if (mine.Keys.Any(k => !theirKeys.Contains(k))) _ = peer.CatchUpAsync();
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
