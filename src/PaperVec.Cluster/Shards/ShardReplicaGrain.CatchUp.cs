using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using PaperVec.Recommend;
using PaperVec.Storage;

namespace PaperVec.Cluster.Shards;

// Catching up (docs/cluster.md): a replica that starts, or was told it missed a write, compares its
// papers with each peer's and copies the ones it lacks (or holds an older version of: one with more
// versions or more digests), and the digest records and readers' libraries it lacks or holds an
// older write of, as the peer stores them. It serves reads and takes writes again only once it has
// compared with every peer that may hold writes it lacks (ShardInSync); a peer it cannot reach, or
// a copy that fails, leaves it not ready, says why, and it tries again. It only pulls; when it holds
// what a peer lacks (acknowledged while that peer was down), it asks the peer to catch up in turn.
public sealed partial class ShardReplicaGrain
{
    /// <summary>
    /// Bytes of encoded papers per copied batch: a quarter of one durable write, so a batch with its
    /// aliases and framing always fits, whatever the papers' sizes (within the field caps each is far smaller).
    /// </summary>
    const int CopyBatchBytes = WriteAheadLog.MaxEntryBytes / 4;

    long _askedToCatchUp;   // bumped by every request to catch up; an attempt that began before the latest does not make the replica ready
    int _attemptQueued;     // an attempt waits for the write gate: later requests join it
    DateTime _retryAt = DateTime.MaxValue; // when the once-a-second tick tries again (UTC)
    int _attempts;                          // since this replica started, for its note

    public Task<ReplicaListing> ListAsync()
    {
        var shard = Collection;
        var deletes = _tombstones.Histories;
        return Task.Run(() => new ReplicaListing
        {
            Papers = shard.Papers().Select(ListedPaper.Of).ToArray(),
            Digests = shard.Digests().Select(RecordCodec.EncodeDigest).ToArray(),
            Libraries = shard.Libraries().Select(RecordCodec.EncodeLibrary).ToArray(),
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
        var papers = await Collection.RecordsAsync(keys).ConfigureAwait(true);
        return papers.Select(RecordCodec.EncodePaper).ToArray();
    }

    public Task IncludeAsync(int silo)
    {
        if (!options.Layout.SilosOf(_shard).Contains(silo)) throw new ArgumentException($"silo {silo} holds no replica of shard {_shard}");
        if (_inSync.Include(silo))
            log.LogInformation("replica {Key}: {Peer} caught up from this replica and counts as possibly ahead again (epoch {Epoch})",
                this.GetPrimaryKeyString(), ClusterLayout.SiloName(silo), _inSync.Epoch);
        return Task.CompletedTask;
    }

    public Task BehindAsync(int[] ahead)
    {
        var replicas = options.Layout.SilosOf(_shard);
        if (ahead.Length == 0 || ahead.Any(s => s == options.SiloIndex || !replicas.Contains(s)))
            throw new ArgumentException($"silos [{string.Join(", ", ahead)}] are not peers of replica {this.GetPrimaryKeyString()}");
        // Stop serving first, then make it durable before answering: the client acknowledges the
        // write on this answer, so a crash from here on must still leave this replica comparing with
        // the replicas that took it before it serves (a restart always compares with its record's peers).
        if (_ready) _note = $"missed a write {string.Join(", ", ahead.Select(ClusterLayout.SiloName))} took: catching up";
        _ready = false;
        foreach (int silo in ahead)
            if (_inSync.Include(silo))
                log.LogInformation("replica {Key}: missed a write {Peer} took; it counts as possibly ahead (epoch {Epoch})",
                    this.GetPrimaryKeyString(), ClusterLayout.SiloName(silo), _inSync.Epoch);
        _ = CatchUpAsync();
        return Task.CompletedTask;
    }

    public Task<bool> DeclaredDeadAsync(int silo)
    {
        string name = ClusterLayout.SiloName(silo);
        var lives = membership.CurrentSnapshot.Members.Values.Where(m => m.Name == name).ToList();
        return Task.FromResult(lives.Count > 0 && lives.All(m => m.Status == SiloStatus.Dead));
    }

    public async Task CatchUpAsync()
    {
        // Asked at start, after this replica missed a write others took (BehindAsync), or by a peer
        // holding what this one lacks: behind until it has compared again.
        if (_ready) _note = "catching up";
        _ready = false;
        long asked = Interlocked.Increment(ref _askedToCatchUp);
        if (Interlocked.Exchange(ref _attemptQueued, 1) == 1) return;
        await _writes.WaitAsync().ConfigureAwait(true);
        try
        {
            Volatile.Write(ref _attemptQueued, 0);
            asked = Volatile.Read(ref _askedToCatchUp);
            _attempts++;
            var (problems, summary) = await CatchUpOnceAsync().ConfigureAwait(true);
            if (problems.Count == 0)
            {
                _note = summary;
                // A request that came during this attempt has its own attempt queued.
                if (asked == Volatile.Read(ref _askedToCatchUp)) _ready = true;
                log.LogInformation("replica {Key}: {Note}", this.GetPrimaryKeyString(), _note);
            }
            else
            {
                _note = $"{string.Join("; ", problems)}; attempt {_attempts}, trying again every {RetryEvery.TotalSeconds:0} s";
                log.LogWarning("replica {Key}: {Note}", this.GetPrimaryKeyString(), _note);
                RetryLater();
            }
        }
        catch (Exception e) when (e is not ObjectDisposedException)
        {
            _note = $"catching up failed: {e.GetType().Name}: {e.Message}; attempt {_attempts}, trying again every {RetryEvery.TotalSeconds:0} s";
            log.LogWarning("replica {Key}: {Note}", this.GetPrimaryKeyString(), _note);
            RetryLater();
        }
        finally { _writes.Release(); }
    }

    void RetryLater() => _retryAt = DateTime.UtcNow + RetryEvery;

    /// <summary>One pass over the peers: what kept this replica from being ready (none: it is caught up), and what it did.</summary>
    async Task<(List<string> Problems, string Summary)> CatchUpOnceAsync()
    {
        var collection = Collection;
        var mine = await Task.Run(() => collection.Papers().Select(ListedPaper.Of).ToDictionary(p => p.Key)).ConfigureAwait(true);
        var myDigests = collection.Digests().ToDictionary(d => d.Id, StringComparer.Ordinal);
        var myLibraries = collection.Libraries().ToDictionary(l => l.Name, StringComparer.Ordinal);
        var problems = new List<string>();
        int compared = 0, copied = 0;
        var skipped = new List<string>();
        foreach (int silo in options.Layout.SilosOf(_shard))
        {
            if (silo == options.SiloIndex) continue;
            string name = ClusterLayout.SiloName(silo);
            var peer = grains.GetGrain<IShardReplica>(ClusterLayout.ReplicaKey(_shard, silo));
            ReplicaStatus status;
            ReplicaListing listing;
            try
            {
                status = await peer.StatusAsync().WaitAsync(PeerTimeout).ConfigureAwait(true);
                listing = await peer.ListAsync().WaitAsync(PeerTimeout).ConfigureAwait(true);
            }
            catch (Exception e) when (e is not ObjectDisposedException)
            {
                string why = e is TimeoutException ? $"no answer in {PeerTimeout.TotalSeconds:0} s" : e.Message;
                // A peer declared dead while this replica served cannot hold writes it lacks (ShardInSync): not waited for.
                if (_inSync.Contains(silo)) problems.Add($"{name} is unreachable ({why}) and may hold writes this replica lacks");
                else skipped.Add(name);
                continue;
            }
            try
            {
                copied += await CopyFromAsync(peer, status, listing, mine, myDigests, myLibraries).ConfigureAwait(true);
                // From now on this replica may take writes the peer lacks: the peer must wait for it after a restart.
                await peer.IncludeAsync(options.SiloIndex).WaitAsync(PeerTimeout).ConfigureAwait(true);
                compared++;
            }
            catch (Exception e) when (e is not ObjectDisposedException)
            {
                problems.Add($"catching up from {name} failed: {e.GetType().Name}: {e.Message}");
            }
        }
        string summary = $"caught up: {copied} papers copied, compared with {compared} peer(s)"
            + (skipped.Count > 0 ? $"; not compared with {string.Join(", ", skipped)} (declared dead while this replica served, so not ahead of it)" : "")
            + $"; in sync: {string.Join(", ", _inSync.Silos.Select(ClusterLayout.SiloName))} (epoch {_inSync.Epoch})";
        return (problems, summary);
    }

    /// <summary>Copies from one peer what this replica lacks; returns how many papers it copied.</summary>
    async Task<int> CopyFromAsync(IShardReplica peer, ReplicaStatus status, ReplicaListing listing,
        Dictionary<long, ListedPaper> mine, Dictionary<string, DigestRecord> myDigests, Dictionary<string, ReaderLibrary> myLibraries)
    {
        var collection = Collection;
        var theirs = listing.Papers;
        // Deletes first: a paper the peer deleted after this replica last saw it goes here too, and is not copied back there.
        var theirDeletes = listing.DeletedKeys.Select((k, i) => (k, new ShardTombstones.History(listing.DeletedAt[i], listing.RevivedAt[i]))).ToList();
        _tombstones.Apply(theirDeletes);
        foreach (long key in mine.Keys.Where(_tombstones.IsDeleted).ToList())
        {
            await Task.Run(() => collection.DeletePaperAsync(key)).ConfigureAwait(true);
            mine.Remove(key);
        }
        var wanted = theirs.Where(p => !_tombstones.IsDeleted(p.Key) && (!mine.TryGetValue(p.Key, out var m) || p.NewerThan(m))).ToList();
        // Digest records this replica lacks, or holds an older write of (a shard's part, later replaced by the manifest).
        var theirDigests = listing.Digests.Select(d => (Record: RecordCodec.ReadDigest(d), Bytes: d.Length)).ToDictionary(d => d.Record.Id, StringComparer.Ordinal);
        var theirLibraries = listing.Libraries.Select(l => (Record: RecordCodec.ReadLibrary(l), Bytes: l.Length)).ToDictionary(l => l.Record.Name, StringComparer.Ordinal);
        var digests = theirDigests.Values.Where(d => !myDigests.TryGetValue(d.Record.Id, out var m) || d.Record.IngestedAt > m.IngestedAt).ToList();
        var libraries = theirLibraries.Values.Where(l => !myLibraries.TryGetValue(l.Record.Name, out var m) || l.Record.UpdatedAt > m.UpdatedAt).ToList();
        int copied = 0;
        if (status.ModelId != null)
            foreach (var batch in ByBytes(wanted, p => p.Bytes))
            {
                var papers = (await peer.ReadAsync(batch.Select(p => p.Key).ToArray()).WaitAsync(PeerTimeout).ConfigureAwait(true)).Select(p => RecordCodec.ReadPaper(p)).ToList();
                await Task.Run(() => collection.CopyFromReplicaAsync(papers, [], status.ModelId)).ConfigureAwait(true);
                copied += papers.Count;
            }
        // Digest records and libraries after the papers they name, as an ingest writes them; bounded by bytes too.
        foreach (var batch in ByBytes(digests.Select(d => (Digest: (DigestRecord?)d.Record, Library: (ReaderLibrary?)null, d.Bytes))
                     .Concat(libraries.Select(l => (Digest: (DigestRecord?)null, Library: (ReaderLibrary?)l.Record, l.Bytes))).ToList(), r => r.Bytes))
            await Task.Run(() => collection.CopyFromReplicaAsync([], batch.Select(r => r.Digest).OfType<DigestRecord>().ToList(), null,
                batch.Select(r => r.Library).OfType<ReaderLibrary>().ToList())).ConfigureAwait(true);
        foreach (var (digest, _) in digests) myDigests[digest.Id] = digest;
        foreach (var (library, _) in libraries) myLibraries[library.Name] = library;
        var theirKeys = theirs.ToDictionary(p => p.Key);
        var theirHistories = theirDeletes.ToDictionary(d => d.k, d => d.Item2);
        if (mine.Values.Any(m => !theirKeys.TryGetValue(m.Key, out var t) || m.NewerThan(t))
            || _tombstones.Histories.Any(h => !theirHistories.TryGetValue(h.Key, out var t) || t.Merge(h.Value) != t)
            || theirs.Any(p => _tombstones.IsDeleted(p.Key))
            || myDigests.Values.Any(m => !theirDigests.TryGetValue(m.Id, out var t) || m.IngestedAt > t.Record.IngestedAt)
            || myLibraries.Values.Any(m => !theirLibraries.TryGetValue(m.Name, out var t) || m.UpdatedAt > t.Record.UpdatedAt))
            _ = peer.CatchUpAsync();
        return copied;
    }

    /// <summary>Consecutive batches of at most <see cref="CopyBatchBytes"/> (a single larger item alone).</summary>
    static IEnumerable<List<T>> ByBytes<T>(IReadOnlyList<T> items, Func<T, int> bytes)
    {
        var batch = new List<T>();
        long size = 0;
        foreach (var item in items)
        {
            if (batch.Count > 0 && size + bytes(item) > CopyBatchBytes)
            {
                yield return batch;
                (batch, size) = ([], 0);
            }
            batch.Add(item);
            size += bytes(item);
        }
        if (batch.Count > 0) yield return batch;
    }

    /// <summary>
    /// Once a second, on the grain's scheduler: a replica that could not catch up tries again when
    /// due. One that serves takes out of its record a peer whose every life membership has declared
    /// dead (it took the shard's writes since): that peer cannot gain writes this one lacks before
    /// it has caught up from this one, so a restart of this replica need not wait for it.
    /// </summary>
    Task TickAsync()
    {
        if (_collection == null) return Task.CompletedTask;
        if (!_ready)
        {
            if (DateTime.UtcNow >= _retryAt)
            {
                _retryAt = DateTime.MaxValue;
                _ = CatchUpAsync();
            }
            return Task.CompletedTask;
        }
        var members = membership.CurrentSnapshot.Members.Values;
        // Names must be known (this silo among the active ones), or nothing can be concluded.
        if (!members.Any(m => m.Status == SiloStatus.Active && m.Name == options.SiloName)) return Task.CompletedTask;
        foreach (int silo in _inSync.Silos)
        {
            if (silo == options.SiloIndex) continue;
            var lives = members.Where(m => m.Name == ClusterLayout.SiloName(silo)).ToList();
            if (lives.Count == 0 || lives.Any(m => m.Status != SiloStatus.Dead)) continue;
            if (_inSync.Exclude(silo))
                log.LogInformation("replica {Key}: {Peer} was declared dead while this replica served; a restart of this replica need not wait for it (epoch {Epoch})",
                    this.GetPrimaryKeyString(), ClusterLayout.SiloName(silo), _inSync.Epoch);
        }
        return Task.CompletedTask;
    }
}
