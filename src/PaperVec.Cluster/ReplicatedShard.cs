using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using PaperVec.Cluster.Shards;
using PaperVec.Duplicates;
using PaperVec.Embedding;
using PaperVec.Engine;
using PaperVec.Ingest;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Cluster;

/// <summary>What a cluster's shards share on the client: the grains, the layout, replicas under suspicion, the model, the latest health poll.</summary>
sealed class ClusterLink(IGrainFactory grains, ClusterLayout layout, Embedder? embedder)
{
    public IGrainFactory Grains { get; } = grains;
    public ClusterLayout Layout { get; } = layout;
    public volatile Embedder? Embedder = embedder;
    public volatile ClusterHealth Health = ClusterHealth.Unknown;
    public readonly ConcurrentDictionary<string, DateTime> SuspectUntil = new();
    /// <summary>Replica writes that acknowledged the ingest in flight on this async flow (<see cref="ClusterCollection.IngestAsync"/> counts them).</summary>
    public readonly AsyncLocal<StrongBox<int>?> ReplicaWrites = new();

    /// <summary>The model id written with the vectors: the client's model, or "supplied" when the records carry their own vectors.</summary>
    public string ModelId => Embedder?.ModelId ?? ModelChangeReembedder.SuppliedModelId;

    public IShardReplica Replica(int shard, int silo) => Grains.GetGrain<IShardReplica>(ClusterLayout.ReplicaKey(shard, silo));
}

/// <summary>
/// One shard of a cluster behind the engine's shard interface (<see cref="ICollectionShard"/>): its replicas,
/// reads routed to a ready one, writes to all of them with their acknowledgement rule, stay inside.
/// - Writes go to every replica of the shard at once and are acknowledged when every replica that
///   answered has the write durably, and at least one did, and every replica that missed it has
///   recorded that it is behind (or was declared dead); it is not read from until <see cref="SuspectFor"/> has passed. This client writes to a
///   shard one write at a time, so its replicas see writes in one order.
/// - Reads ask one live replica (the first of the layout's order that answers).
/// </summary>
sealed class ReplicatedShard(ClusterLink link, int shard) : ICollectionShard
{
    /// <summary>How long a replica that failed a call is passed over by reads.</summary>
    public static readonly TimeSpan SuspectFor = TimeSpan.FromSeconds(5);
    static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);
    static readonly TimeSpan RetryAfter = TimeSpan.FromMilliseconds(500);
    /// <summary>
    /// How long a write waits for each replica that missed it to record that (or be declared dead)
    /// before it is refused: membership declares a silo dead within seconds (<see cref="Hosting.FailureDetection"/>).
    /// </summary>
    static readonly TimeSpan MissBound = TimeSpan.FromSeconds(20);

    readonly SemaphoreSlim _writes = new(1, 1);

    ClusterLayout Layout => link.Layout;

    // ---- state: from the latest health poll ----

    public int PaperCount => link.Health.Replicas.Where(r => r.Shard == shard && r.Ready).Select(r => r.Papers).DefaultIfEmpty(0).Max();

    /// <summary>Each shard answers lexically or refuses; the client holds no lexical index of its own.</summary>
    public string? LexicalDegraded => null;

    public string? Problem => link.Health.ProblemOf(shard);

    public long? BytesOnDisk() => null;

    /// <summary>The shards store vectors: nothing is re-embedded here; the client's model embeds what is written.</summary>
    public Task<int> AttachModelAsync(Embedder embedder, Action<int, int>? progress)
    {
        link.Embedder = embedder;
        return Task.FromResult(0);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    // ---- writes ----

    /// <summary>Every paper without a vector: a replica stores vectors as given.</summary>
    public Task<IReadOnlyList<string>> TextsToEmbedAsync(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest) =>
        Task.FromResult<IReadOnlyList<string>>(papers.Where(p => p.Vector == null).Select(p => PaperText.ForEmbedding(p.Title, p.Abstract)).Distinct(StringComparer.Ordinal).ToList());

    public async Task<IngestResult> IngestAsync(ShardIngest write)
    {
        var papers = write.Papers.Select(p => ShardPaper.Of(p, p.Vector ?? write.Embedded?.Vectors.GetValueOrDefault(PaperText.ForEmbedding(p.Title, p.Abstract))
            ?? throw new ModelNotReadyException("the model is not loaded, and these papers carry no vectors"))).ToArray();
        var result = await WriteAsync(r => r.WriteAsync(new ShardWrite
        {
            ModelId = link.ModelId, At = write.At, DefaultDate = write.DefaultDate, Digest = write.Digest == null ? null : ShardDigest.Of(write.Digest), Papers = papers,
        })).ConfigureAwait(false);
        var listings = result.Listings.Select(l => new IngestedListing(l.Key, l.Title, l.Status)).ToList();
        var titles = listings.GroupBy(l => l.Key).ToDictionary(g => g.Key, g => g.First().Title);
        return new IngestResult(listings, write.Digest?.Id)
        {
            KeysByPosition = result.KeysByPosition,
            Twins = Enumerable.Range(0, result.KeysByPosition.Length).GroupBy(i => result.KeysByPosition[i]).Where(g => g.Count() > 1)
                .Select(g => new IngestTwin(g.Key, titles.GetValueOrDefault(g.Key, ""), g.Select(i => i + 1).ToList())).ToList(),
            Digest = result.Digest == null ? null : RecordCodec.ReadDigest(result.Digest),
        };
    }

    public Task PutDigestAsync(DigestRecord manifest)
    {
        byte[] encoded = RecordCodec.EncodeDigest(manifest);
        return WriteAsync(async r => { await r.PutDigestAsync(encoded).ConfigureAwait(false); return true; });
    }

    /// <summary>Deletes on every live replica, durably; replicas remember the delete, so one that missed it learns it when it catches up instead of copying the paper back.</summary>
    public Task<bool> DeleteAsync(long key)
    {
        var at = DateTimeOffset.UtcNow;
        return WriteAsync(r => r.DeleteAsync(key, at));
    }

    public async Task<DigestDeletion?> DeleteDigestAsync(string id, IReadOnlyDictionary<long, string>? libraryPapers, DateTimeOffset at)
    {
        long[] keys = [.. libraryPapers?.Keys ?? []];
        string[] names = [.. keys.Select(k => libraryPapers![k])];
        var part = await WriteAsync(r => r.DeleteDigestAsync(id, keys, names, at)).ConfigureAwait(false);
        return !part.HadDigest ? null : new DigestDeletion(id,
            part.Papers.Where(p => !p.Kept).Select(p => new DeletedPaper(p.Key, p.Title)).ToList(),
            part.Papers.Where(p => p.Kept).Select(p => new KeptPaper(p.Key, p.Title, p.Reason, p.Detail)).ToList());
    }

    public async Task<ReaderLibrary> ApplyLibraryChangeAsync(LibraryChange change)
    {
        var message = new ShardLibraryChange
        {
            Name = change.Name, Like = [.. change.Like], Dislike = [.. change.Dislike], Remove = [.. change.Remove], Replace = change.Replace, At = change.At,
        };
        return RecordCodec.ReadLibrary(await WriteAsync(r => r.ChangeLibraryAsync(message)).ConfigureAwait(false));
    }

    public Task<bool> DeleteLibraryAsync(string name) => WriteAsync(r => r.DeleteLibraryAsync(name));

    /// <summary>Written to every live replica like a library change: the subscription as plain fields (no records or delegates cross Orleans).</summary>
    public async Task<ReaderLibrary?> SubscribeAsync(string name, LibrarySubscription? subscription, DateTimeOffset at) =>
        await WriteAsync(r => r.SubscribeAsync(name, subscription?.Email, subscription?.Top ?? 0, subscription?.Since ?? at)).ConfigureAwait(false) is { } bytes
            ? RecordCodec.ReadLibrary(bytes) : null;

    public async Task<ReaderLibrary?> MarkMailedAsync(string name, string digestId, DateTimeOffset at) =>
        await WriteAsync(r => r.MarkMailedAsync(name, digestId, at)).ConfigureAwait(false) is { } bytes ? RecordCodec.ReadLibrary(bytes) : null;

    async Task<T> WriteAsync<T>(Func<IShardReplica, Task<T>> write)
    {
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            (T result, int replicas) answer;
            try { answer = await WriteReplicasAsync(write).ConfigureAwait(false); }
            catch (ShardUnavailableException e) when (e.InnerException is not MissNotRecordedException)
            {
                // A request in flight through a gateway that just died is lost, not refused: once more,
                // through the gateways left (an ingest is idempotent).
                await Task.Delay(RetryAfter).ConfigureAwait(false);
                answer = await WriteReplicasAsync(write).ConfigureAwait(false);
            }
            if (link.ReplicaWrites.Value is { } count) Interlocked.Add(ref count.Value, answer.replicas);
            return answer.result;
        }
        finally { _writes.Release(); }
    }

    async Task<(T Result, int Replicas)> WriteReplicasAsync<T>(Func<IShardReplica, Task<T>> write)
    {
        var silos = Layout.SilosOf(shard);
        var calls = silos.Select(silo => write(link.Replica(shard, silo)).WaitAsync(CallTimeout)).ToArray();
        try { await Task.WhenAll(calls).ConfigureAwait(false); } catch { /* each call is looked at below */ }
        bool any = false;
        T first = default!;
        int written = 0;
        Exception? failure = null;
        var missed = new List<int>();
        for (int i = 0; i < silos.Length; i++)
        {
            if (calls[i].IsCompletedSuccessfully) { if (!any) first = calls[i].Result; any = true; written++; continue; }
            var error = calls[i].Exception?.GetBaseException();
            if (error is InvalidDataException) throw error; // the input, not the replica: every replica refuses it alike
            failure ??= error;
            missed.Add(silos[i]);
            link.SuspectUntil[ClusterLayout.ReplicaKey(shard, silos[i])] = DateTime.UtcNow + SuspectFor;
        }
        if (!any) throw new ShardUnavailableException($"shard {shard}: no replica took the write ({failure?.Message})", failure);
        // Another replica took what these missed: each may be alive but behind (a timeout, a paused
        // silo). Acknowledging is safe only once each has stopped serving and durably recorded that it
        // must compare with the replicas that took the write, or membership has declared its silo dead
        // (a silo declared dead shuts itself down and compares at its next start). A one-way "catch up"
        // notice was not enough: lost, and the replicas that took the write then dead, the missed
        // replica served without an acknowledged write. (When none took it, nothing was acknowledged to miss.)
        if (missed.Count > 0)
        {
            int[] took = silos.Where((_, i) => calls[i].IsCompletedSuccessfully).ToArray();
            await Task.WhenAll(missed.Select(silo => RecordMissAsync(silo, took))).ConfigureAwait(false);
        }
        return (first, written);
    }

    /// <summary>
    /// Waits, within <see cref="MissBound"/>, until the replica on <paramref name="silo"/> has recorded
    /// that it missed a write <paramref name="took"/> holds, or a replica that took it sees membership
    /// declare <paramref name="silo"/> dead; else the write is not acknowledged (a 503 naming the replica).
    /// </summary>
    async Task RecordMissAsync(int silo, int[] took)
    {
        var giveUpAt = DateTime.UtcNow + MissBound;
        string why;
        while (true)
        {
            try
            {
                await link.Replica(shard, silo).BehindAsync(took).WaitAsync(CallTimeout).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is not ArgumentException)
            {
                why = e is TimeoutException ? $"no answer in {CallTimeout.TotalSeconds:0} s" : e.GetBaseException().Message;
            }
            foreach (int peer in took)
            {
                try { if (await link.Replica(shard, peer).DeclaredDeadAsync(silo).WaitAsync(CallTimeout).ConfigureAwait(false)) return; }
                catch (Exception) { /* another peer may answer; else try again */ }
            }
            if (DateTime.UtcNow >= giveUpAt)
                throw new ShardUnavailableException($"shard {shard}: the write was not acknowledged: replica {ClusterLayout.ReplicaKey(shard, silo)} missed it and in "
                    + $"{MissBound.TotalSeconds:0} s neither recorded that it is behind ({why}) nor was declared dead by the cluster's membership; "
                    + "retry (an ingest is idempotent)", new MissNotRecordedException());
            await Task.Delay(RetryAfter).ConfigureAwait(false);
        }
    }

    /// <summary>Marks a write refused because a replica that missed it could not be made safe: retrying at once would only wait again.</summary>
    sealed class MissNotRecordedException() : Exception("a replica missed the write and did not record it");

    // ---- reads ----

    /// <summary>Calls one replica: the layout's order, replicas under suspicion last.</summary>
    async Task<T> ReadAsync<T>(Func<IShardReplica, Task<T>> call)
    {
        var now = DateTime.UtcNow;
        var order = Layout.SilosOf(shard)
            .OrderBy(silo => link.SuspectUntil.TryGetValue(ClusterLayout.ReplicaKey(shard, silo), out var until) && until > now ? 1 : 0).ToList();
        var failures = new List<string>();
        // Twice round: a request in flight through a gateway that just died is lost and times out.
        foreach (int silo in order.Concat(order))
        {
            if (failures.Count == order.Count) await Task.Delay(RetryAfter).ConfigureAwait(false);
            try { return await call(link.Replica(shard, silo)).WaitAsync(CallTimeout).ConfigureAwait(false); }
            catch (Exception e) when (e is not InvalidDataException and not ArgumentException)
            {
                failures.Add($"{ClusterLayout.SiloName(silo)}: {e.GetType().Name}: {e.Message}");
                if (e is not ReplicaNotReadyException) link.SuspectUntil[ClusterLayout.ReplicaKey(shard, silo)] = DateTime.UtcNow + SuspectFor;
            }
        }
        throw new ShardUnavailableException($"shard {shard}: no replica answered ({string.Join("; ", failures)})");
    }

    public async Task<KnownKeys> KnownKeysAsync(string[] sourceIds, long[] titleKeys)
    {
        var known = await ReadAsync(r => r.KnownKeysAsync(sourceIds, titleKeys)).ConfigureAwait(false);
        return new KnownKeys(known.BySourceId, known.ByTitle);
    }

    public Task<long?> ResolveAsync(string id) => ReadAsync(r => r.ResolveAsync(id));

    public async Task<PaperRecord?> FindPaperAsync(string id) => (await ReadAsync(r => r.FindAsync(id)).ConfigureAwait(false))?.ToRecord();

    public async Task<List<PaperRecord>> RecordsAsync(long[] keys) =>
        (await ReadAsync(r => r.RecordsAsync(keys)).ConfigureAwait(false)).Select(e => RecordCodec.ReadPaper(e)).ToList();

    public async Task<List<PaperVector>> VectorsAsync(long[] keys) =>
        (await ReadAsync(r => r.VectorsAsync(keys)).ConfigureAwait(false)).Select(v => new PaperVector(v.Key, v.Title, v.Vector)).ToList();

    public async Task<List<ShardSearchHit>> RankingAsync(SearchQuery query, SearchMode ranking, SearchScope scope, int depth)
    {
        var asked = new ShardQuery
        {
            Text = query.Text, Vector = ranking == SearchMode.Semantic ? query.Vector ?? throw new ArgumentException($"{query.Mode} search needs the query's embedding") : null,
            Ranking = ranking, Depth = depth, From = scope.From, To = scope.To, Exclude = [.. scope.Exclude],
        };
        return (await ReadAsync(r => r.SearchAsync(asked)).ConfigureAwait(false)).Select(h => h.ToHit()).ToList();
    }

    public async Task<DigestRecord?> DigestRecordAsync(string id) =>
        await ReadAsync(r => r.DigestAsync(id)).ConfigureAwait(false) is { } encoded ? RecordCodec.ReadDigest(encoded) : null;

    public async Task<List<DigestRecord>> DigestRecordsAsync() =>
        (await ReadAsync(r => r.DigestsAsync()).ConfigureAwait(false)).Select(e => RecordCodec.ReadDigest(e)).ToList();

    public async Task<List<DigestListing>> DigestListingsAsync(string id) =>
        (await ReadAsync(r => r.DigestListingsAsync(id)).ConfigureAwait(false)).Select(l => l.ToListing()).ToList();

    public async Task<ReaderLibrary?> LibraryAsync(string name) =>
        await ReadAsync(r => r.LibraryAsync(name)).ConfigureAwait(false) is { } encoded ? RecordCodec.ReadLibrary(encoded) : null;

    public async Task<List<ReaderLibrary>> LibrariesAsync() =>
        (await ReadAsync(r => r.LibrariesAsync()).ConfigureAwait(false)).Select(e => RecordCodec.ReadLibrary(e)).ToList();

    public async Task<List<ShardRecommendation>> RecommendAsync(LibraryModel model, SearchMode ranking, IReadOnlyList<(string Term, float Weight)>? profile,
        IReadOnlyCollection<long>? candidates, SearchScope scope, int depth)
    {
        var query = ShardRecommend.Of(model, ranking, depth, scope, candidates, profile);
        return (await ReadAsync(r => r.RecommendAsync(query)).ConfigureAwait(false))
            .Select(h => new ShardRecommendation(h.Hit.ToHit(), h.BecauseKeys, h.BecauseSimilarities)).ToList();
    }

    public async Task<List<long>> SampleAsync(int count, int seed, IReadOnlySet<long> excluded)
    {
        long[] excludedKeys = [.. excluded];
        return [.. await ReadAsync(r => r.SampleAsync(count, seed, excludedKeys)).ConfigureAwait(false)];
    }

    public async Task<List<IReadOnlyList<string>>> TermsOfAsync(IReadOnlyList<long> keys)
    {
        long[] asked = [.. keys];
        return (await ReadAsync(r => r.TermsOfAsync(asked)).ConfigureAwait(false)).Select(t => (IReadOnlyList<string>)t).ToList();
    }

    public async Task<(int[] DocFreqs, int Docs)> DocFreqsAsync(IReadOnlyList<string> terms)
    {
        string[] asked = [.. terms];
        var answer = await ReadAsync(r => r.DocFreqsAsync(asked)).ConfigureAwait(false);
        return (answer.DocFreqs, answer.Docs);
    }

    public async Task<List<DuplicateCandidates>> DuplicateCandidatesAsync(long[] keys, float[][] vectors, long[] listed) =>
        (await ReadAsync(r => r.DuplicateCandidatesAsync(new ShardDuplicateQuery { Keys = keys, Vectors = vectors, Listed = listed })).ConfigureAwait(false))
            .Select(c => new DuplicateCandidates(c.Key, c.Others, c.Cosines)).ToList();
}
