using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Runtime;
using PaperVec.Engine;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Cluster.Shards;

/// <summary>
/// A shard replica: one engine shard (<see cref="LocalShard"/>) in
/// <c>DATA/shard-N</c> on the silo its key names (<see cref="ReplicaPlacementAttribute"/>), kept
/// active for the silo's lifetime. Reentrant, so reads interleave with everything; writes and
/// catching up take <see cref="_writes"/> one at a time, in arrival order. Engine calls that take
/// CPU or disk run on the thread pool (<see cref="Task.Run(Action)"/>), not on the grain's
/// single-threaded scheduler, so a replica answers many searches in parallel.
/// </summary>
[ReplicaPlacement]
[Reentrant]
[CollectionAgeLimit(AlwaysActive = true)]
public sealed partial class ShardReplicaGrain(ClusterSiloOptions options, IGrainFactory grains, IClusterMembershipService membership, ILogger<ShardReplicaGrain> log)
    : Grain, IShardReplica
{
    /// <summary>How long a peer may take to answer while catching up before it counts as down.</summary>
    static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(10);
    /// <summary>How often a replica that could not catch up tries again; how often it looks (at that and at membership, for peers declared dead).</summary>
    static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(3), TickEvery = TimeSpan.FromSeconds(1);

    readonly SemaphoreSlim _writes = new(1, 1);
    LocalShard? _collection;
    ShardTombstones _tombstones = null!;
    ShardInSync _inSync = null!;
    int _shard;
    // Serves reads and takes writes only once it has compared with every peer that may hold writes it lacks.
    volatile bool _ready;
    volatile string? _note = "starting: not yet compared with its peers";

    LocalShard Collection => _collection ?? throw new InvalidOperationException("replica not open");

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        string key = this.GetPrimaryKeyString();
        var (shard, silo) = ClusterLayout.ParseReplicaKey(key);
        if (silo != options.SiloName || !options.Layout.SilosOf(shard).Contains(options.SiloIndex))
            throw new InvalidOperationException($"replica {key} does not belong on {options.SiloName}");
        _shard = shard;
        string directory = options.ReplicaDirectory(shard);
        // Opening recovers the store, the HNSW and the Lucene index: disk and CPU, off the grain scheduler.
        _tombstones = ShardTombstones.Load(options.TombstonePath(shard));
        _inSync = ShardInSync.Load(options.InSyncPath(shard), options.Layout.SilosOf(shard), warning => log.LogWarning("replica {Key}: {Warning}", key, warning));
        _collection = await Task.Run(() => LocalShard.OpenAsync(directory), cancellationToken).ConfigureAwait(true);
        // A delete recorded but not applied (the silo died between the two) is finished now.
        var collection = _collection;
        foreach (var (deleted, history) in _tombstones.Histories)
            if (history.IsDeleted && collection.Holds(deleted))
                await Task.Run(() => collection.DeletePaperAsync(deleted), cancellationToken).ConfigureAwait(true);
        log.LogInformation("replica {Key}: {Papers} papers in {Directory}", key, _collection.PaperCount, directory);
        // Catch up once activated: peers activating at the same time call us too.
        _ = this.AsReference<IShardReplica>().CatchUpAsync();
        this.RegisterGrainTimer(TickAsync, TickEvery, TickEvery);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Disposing checkpoints the store: off the grain scheduler.
        var collection = Interlocked.Exchange(ref _collection, null);
        return collection == null ? Task.CompletedTask : Task.Run(() => collection.DisposeAsync().AsTask(), cancellationToken);
    }

    public async Task<ShardWriteResult> WriteAsync(ShardWrite write)
    {
        var shard = Collection;
        foreach (var paper in write.Papers)
        {
            // The paper this one is, as the ingest will find it (by source id, then title), must be here.
            long titleKey = PaperIdentity.KeyOfTitle(paper.Title);
            long key = shard.StoredKeyOf(paper.SourceId, paper.Title);
            if (options.Layout.ShardOf(key) != _shard && options.Layout.ShardOf(titleKey) != _shard)
                throw new InvalidDataException($"paper '{paper.Title}' belongs to shard {options.Layout.ShardOf(key)}, not {_shard}");
        }
        return await WriteGateAsync(async collection =>
        {
            var papers = write.Papers.Select(p => p.ToIncoming()).ToList();
            var result = await collection.IngestEmbeddedAsync(papers, write.ModelId, write.DefaultDate, write.Digest?.ToInfo()).ConfigureAwait(false);
            _tombstones.Revived(result.KeysByPosition, write.At);
            return new ShardWriteResult
            {
                Listings = result.Listings.Select(l => new ShardListing(l.Key, l.Title, l.Status)).ToArray(),
                KeysByPosition = [.. result.KeysByPosition],
                Digest = result.Digest == null ? null : RecordCodec.EncodeDigest(result.Digest),
            };
        }).ConfigureAwait(true);
    }

    public Task<bool> DeleteAsync(long key, DateTimeOffset at) => WriteGateAsync(async collection =>
    {
        _tombstones.Deleted(key, at); // first: a crash before the delete is finished at the next start
        return await collection.DeletePaperAsync(key).ConfigureAwait(false) != null;
    });

    public Task<ShardDigestDeletion> DeleteDigestAsync(string id, long[] libraryKeys, string[] libraryNames, DateTimeOffset at) => WriteGateAsync(async collection =>
    {
        var named = new Dictionary<long, string>();
        for (int i = 0; i < libraryKeys.Length && i < libraryNames.Length; i++) named.TryAdd(libraryKeys[i], libraryNames[i]);
        var deletion = await collection.DeleteDigestAsync(id, named).ConfigureAwait(false);
        // Remembered like single deletes, so a peer that missed this is not copied the papers back from
        // when it catches up (after the write: which papers go is decided by it).
        _tombstones.Apply((deletion?.Deleted ?? []).Select(p => (p.Key, new ShardTombstones.History(at.UtcTicks, 0))).ToList());
        return ShardDigestDeletion.Of(deletion);
    });

    public Task PutDigestAsync(byte[] digest)
    {
        var record = RecordCodec.ReadDigest(digest);
        return WriteGateAsync(async collection => { await collection.PutDigestAsync(record).ConfigureAwait(false); return true; });
    }

    /// <summary>
    /// Runs a write on the thread pool (engine calls take CPU and disk, not the grain's scheduler),
    /// one at a time in arrival order with the other writes and catching up. A replica that is not
    /// ready refuses: it decides "new or seen" from what it holds, which may be behind.
    /// </summary>
    async Task<T> WriteGateAsync<T>(Func<LocalShard, Task<T>> write)
    {
        await _writes.WaitAsync().ConfigureAwait(true);
        try
        {
            ThrowIfNotReady();
            var collection = Collection;
            return await Task.Run(() => write(collection)).ConfigureAwait(true);
        }
        finally { _writes.Release(); }
    }

    public async Task<byte[]?> DigestAsync(string id)
    {
        ThrowIfNotReady();
        return await Collection.DigestRecordAsync(id).ConfigureAwait(true) is { } digest ? RecordCodec.EncodeDigest(digest) : null;
    }

    public Task<byte[][]> DigestsAsync()
    {
        ThrowIfNotReady();
        return Task.FromResult(Collection.Digests().Select(RecordCodec.EncodeDigest).ToArray());
    }

    public async Task<ShardDigestListing[]> DigestListingsAsync(string id)
    {
        ThrowIfNotReady();
        var collection = Collection;
        var listings = await Task.Run(() => collection.DigestListingsAsync(id)).ConfigureAwait(true);
        return listings.Select(ShardDigestListing.Of).ToArray();
    }

    void ThrowIfNotReady()
    {
        if (!_ready) throw new ReplicaNotReadyException($"replica {this.GetPrimaryKeyString()} is not ready: {_note}");
    }

    public Task<ReplicaStatus> StatusAsync()
    {
        var shard = _collection;
        return Task.FromResult(new ReplicaStatus
        {
            Shard = _shard, Silo = options.SiloName, Ready = _ready && shard != null,
            Papers = shard?.PaperCount ?? 0, ModelId = shard?.ModelId, Note = _note,
            InSync = _inSync?.Silos.Select(ClusterLayout.SiloName).ToArray() ?? [], InSyncEpoch = _inSync?.Epoch ?? 0,
        });
    }

    public async Task<ShardHit[]> SearchAsync(ShardQuery query)
    {
        ThrowIfNotReady();
        var shard = Collection;
        var scope = new SearchScope { K = query.Depth, From = query.From, To = query.To, Exclude = query.Exclude.ToHashSet() };
        var hits = await Task.Run(() => shard.RankingAsync(new SearchQuery(query.Text, query.Vector, query.Ranking), query.Ranking, scope, query.Depth)).ConfigureAwait(true);
        return hits.Select(ShardHit.Of).ToArray();
    }

    public async Task<ShardPaper?> FindAsync(string id)
    {
        ThrowIfNotReady();
        var record = await Collection.FindPaperAsync(id).ConfigureAwait(true);
        return record == null ? null : ShardPaper.Of(record);
    }

    public async Task<ShardKnownKeys> KnownKeysAsync(string[] sourceIds, long[] titleKeys)
    {
        ThrowIfNotReady();
        var known = await Collection.KnownKeysAsync(sourceIds, titleKeys).ConfigureAwait(true);
        return new ShardKnownKeys(known.BySourceId, known.ByTitle);
    }

    public Task<long?> ResolveAsync(string id)
    {
        ThrowIfNotReady();
        return Collection.ResolveAsync(id);
    }
}
