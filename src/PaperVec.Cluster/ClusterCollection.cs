using System.Collections.Concurrent;
using PaperVec.Cluster.Shards;
using PaperVec.Ingest;
using PaperVec.Duplicates;
using PaperVec.Embedding;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;
using PaperVec.Engine;

namespace PaperVec.Cluster;

/// <summary>What a cluster ingest did, as one node's ingest reports it, and how many replica writes acknowledged it.</summary>
public sealed record ClusterIngestResult(IngestResult Result, int ReplicaWrites);

/// <summary>
/// The cluster's front door on the client side, as <see cref="Engine.PaperCollection"/> is one
/// node's: it embeds (shards store and search), routes each paper to its shard's replicas and
/// merges what the shards answer.
/// - Writes go to every replica of the shard at once and are acknowledged when every replica that
///   answered has the write durably, and at least one did, and every replica that missed it has
///   recorded that it is behind (or was declared dead); it is not read from until <see cref="SuspectFor"/> has passed. This client writes to a
///   shard one write at a time, so its replicas see writes in one order.
/// - Reads ask one live replica per shard (the first of the layout's order that answers) for
///   enough depth and merge: the top k of the union of each shard's top k is the top k of all.
/// </summary>
public sealed partial class ClusterCollection : Engine.IPaperCollection, Engine.ICollectionReads
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

    readonly IGrainFactory _grains;
    volatile Embedder? _embedder;
    readonly SemaphoreSlim[] _shardWrites;
    readonly ConcurrentDictionary<string, DateTime> _suspectUntil = new();

    public ClusterLayout Layout { get; }

    public ClusterCollection(IGrainFactory grains, ClusterLayout layout, Embedder? embedder = null)
    {
        _grains = grains;
        _embedder = embedder;
        Layout = layout;
        _shardWrites = Enumerable.Range(0, layout.Shards).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    }

    public static async Task<ClusterCollection> ConnectAsync(IGrainFactory grains, Embedder? embedder = null) =>
        new(grains, await grains.GetGrain<IClusterInfo>(0).LayoutAsync().ConfigureAwait(false), embedder);

    /// <summary>Makes <paramref name="embedder"/> the model that embeds papers written without vectors (a server loads it after connecting).</summary>
    public void AttachModel(Embedder embedder) => _embedder = embedder;

    /// <summary>As <see cref="AttachModel"/>: the shards store vectors, so nothing is re-embedded here.</summary>
    public Task<int> AttachModelAsync(Embedder embedder, Action<int, int>? progress = null)
    {
        _embedder = embedder;
        return Task.FromResult(0);
    }

    /// <summary>The client's model, or null (records then carry their own vectors).</summary>
    public Embedder? Embedder => _embedder;

    /// <summary>The model id written with the vectors: the client's model, or "supplied" when the records carry their own vectors.</summary>
    public string ModelId => _embedder?.ModelId ?? Ingest.ModelChangeReembedder.SuppliedModelId;

    IShardReplica Replica(int shard, int silo) => _grains.GetGrain<IShardReplica>(ClusterLayout.ReplicaKey(shard, silo));

    // ---- writes ---------------------------------------------------------------------------------

    /// <summary>
    /// Ingests papers (records, or a digest's when <paramref name="digest"/> is given): embeds those
    /// without vectors with the client's model, then writes each shard's papers to its replicas.
    /// Limits are checked before anything is written; a write that spans shards is durable shard by
    /// shard (a retry is idempotent). A digest's record (its whole listing order, the listing hashes
    /// and copy decisions every shard made for its part) is written last, to the digest's home
    /// shard: a digest is listed once all its papers are durable.
    /// </summary>
    public async Task<ClusterIngestResult> IngestAsync(IReadOnlyList<IncomingPaper> papers, DateOnly? defaultDate = null, PaperIngestor.DigestInfo? digest = null)
    {
        for (int i = 0; i < papers.Count; i++) PaperLimits.Check(papers[i], digest != null ? $"paper {i + 1} of the digest" : $"record {i + 1}");
        var missing = papers.Where(p => p.Vector == null).ToList();
        if (missing.Count > 0 && _embedder == null) throw new InvalidDataException("these records carry no vectors and this client has no model loaded");
        var made = missing.Count > 0 ? await Task.Run(() => _embedder!.Embed(missing.Select(p => PaperText.ForEmbedding(p.Title, p.Abstract)).ToList())).ConfigureAwait(false) : [];
        var vectors = new Dictionary<IncomingPaper, float[]>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < missing.Count; i++) vectors[missing[i]] = made[i];

        var owners = await OwnersAsync(papers).ConfigureAwait(false);
        var groups = Enumerable.Range(0, papers.Count).GroupBy(i => owners[i]).ToList();
        var at = DateTimeOffset.UtcNow;
        var writes = groups.Select(group => WriteShardAsync(group.Key, replica => replica.WriteAsync(new ShardWrite
        {
            ModelId = ModelId, At = at, DefaultDate = defaultDate, Digest = digest == null ? null : ShardDigest.Of(digest),
            Papers = group.Select(i => ShardPaper.Of(papers[i], papers[i].Vector ?? vectors[papers[i]])).ToArray(),
        }))).ToList();
        var results = await Task.WhenAll(writes).ConfigureAwait(false);
        int replicaWrites = results.Sum(r => r.Replicas);

        // One node's result shape, in the caller's order.
        var keyAt = new long[papers.Count];
        var listingAt = new ShardListing[papers.Count];
        var byKey = new Dictionary<long, ShardListing>();
        var hashes = new Dictionary<long, ulong>();
        var copies = new Dictionary<long, long>();
        for (int g = 0; g < groups.Count; g++)
        {
            var (result, _) = results[g];
            int j = 0;
            foreach (int i in groups[g])
            {
                keyAt[i] = result.KeysByPosition[j];
                if (digest == null) listingAt[i] = result.Listings[j];
                j++;
            }
            foreach (var listing in result.Listings) byKey[listing.Key] = listing;
            if (result.Digest != null)
            {
                var part = RecordCodec.ReadDigest(result.Digest);
                for (int k = 0; k < part.PaperKeys.Count; k++) { hashes[part.PaperKeys[k]] = part.ListingHash(k); copies[part.PaperKeys[k]] = part.StoredCopy(k); }
            }
        }
        var order = keyAt.Distinct().ToList();
        if (digest != null)
        {
            // A new paper that its shard found no reworded copy of may still be one of a paper on
            // another shard: the same rule over every shard (papers new in this ingest left out, as
            // one node has not stored them yet when it decides).
            var fresh = order.Where(k => byKey[k].Status == ListingStatus.New).ToHashSet();
            foreach (long key in fresh.Where(k => copies.GetValueOrDefault(k) == 0).ToList())
            {
                int last = Array.LastIndexOf(keyAt, key); // a twin's last listing is the text stored
                var paper = papers[last];
                if (await StoredCopyElsewhereAsync(paper.Vector ?? vectors[paper], paper.Title, paper.Abstract, fresh).ConfigureAwait(false) is not long copy) continue;
                copies[key] = copy;
                byKey[key] = byKey[key] with { Status = ListingStatus.Retitled };
            }
        }
        var listings = (digest == null ? listingAt.AsEnumerable() : order.Select(key => byKey[key]))
            .Select(l => new IngestedListing(l.Key, l.Title, l.Status)).ToList();
        var twins = Enumerable.Range(0, papers.Count).GroupBy(i => keyAt[i]).Where(g => g.Count() > 1)
            .Select(g => new IngestTwin(g.Key, byKey[g.Key].Title, g.Select(i => i + 1).ToList())).ToList();
        DigestRecord? manifest = null;
        if (digest != null)
        {
            manifest = new DigestRecord(digest.Id, digest.Date, digest.Source, order, DateTimeOffset.UtcNow)
            {
                ListingHashes = order.Select(k => hashes.GetValueOrDefault(k)).ToList(),
                StoredCopies = order.Select(k => copies.GetValueOrDefault(k)).ToList(),
            };
            byte[] encoded = RecordCodec.EncodeDigest(manifest);
            var (_, replicas) = await WriteShardAsync(Layout.HomeShardOf(digest.Id), async replica => { await replica.PutDigestAsync(encoded).ConfigureAwait(false); return true; }).ConfigureAwait(false);
            replicaWrites += replicas;
        }
        return new ClusterIngestResult(new IngestResult(listings, digest?.Id) { Twins = twins, KeysByPosition = keyAt, Digest = manifest }, replicaWrites);
    }

    /// <summary>
    /// The shard each paper goes to: the shard of the stored paper it is, found as one node's ingest
    /// finds it (its source id, then its title or a title it was retitled to, on any shard), else
    /// the shard of its own title's key (a new paper).
    /// </summary>
    async Task<int[]> OwnersAsync(IReadOnlyList<IncomingPaper> papers)
    {
        string[] sourceIds = papers.Select(p => p.SourceId).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
        long[] titleKeys = papers.Select(p => PaperIdentity.KeyOfTitle(p.Title)).Distinct().ToArray();
        var bySourceId = new Dictionary<string, long>(StringComparer.Ordinal);
        var byTitle = new Dictionary<long, long>();
        foreach (var known in await ScatterAsync(r => r.KnownKeysAsync(sourceIds, titleKeys)).ConfigureAwait(false))
        {
            for (int i = 0; i < sourceIds.Length; i++) if (known.BySourceId[i] != 0) bySourceId[sourceIds[i]] = known.BySourceId[i];
            for (int i = 0; i < titleKeys.Length; i++) if (known.ByTitle[i] != 0) byTitle[titleKeys[i]] = known.ByTitle[i];
        }
        return papers.Select(p =>
        {
            long titleKey = PaperIdentity.KeyOfTitle(p.Title);
            long key = p.SourceId is { } sid && bySourceId.TryGetValue(sid, out long s) ? s : byTitle.GetValueOrDefault(titleKey, titleKey);
            // A source id new to the cluster listed twice in this write names one paper: the first listing's.
            if (p.SourceId is { } id) bySourceId.TryAdd(id, key);
            return Layout.ShardOf(key);
        }).ToArray();
    }

    /// <summary>
    /// The stored paper (none of <paramref name="exclude"/>) a text is a reworded copy of, by
    /// <see cref="DuplicateFinder.StoredCopyOfAsync"/>'s rule over every shard: the nearest papers
    /// of the union at or above the candidate cosine, best first, the first whose wording overlaps.
    /// </summary>
    async Task<long?> StoredCopyElsewhereAsync(float[] vector, string title, string abstractText, IReadOnlySet<long> exclude)
    {
        var settings = new DuplicateSettings();
        var query = new ShardQuery { Vector = vector, Ranking = SearchMode.Semantic, Depth = settings.Neighbours, Exclude = [.. exclude] };
        ulong[]? shingles = null;
        foreach (var hit in Merge(await ScatterAsync(query).ConfigureAwait(false), settings.Neighbours))
        {
            if (hit.Score < settings.CandidateCosine) break;
            if (await FindAsync(PaperIdentity.Format(hit.Key)).ConfigureAwait(false) is not { } candidate) continue;
            shingles ??= LexicalSimilarity.ShinglesOf(title, abstractText);
            if (DuplicateFinder.Confirm(settings, 0, hit.Key, hit.Score, shingles, LexicalSimilarity.ShinglesOf(candidate.Title, candidate.Abstract)) != null) return hit.Key;
        }
        return null;
    }

    async Task<(T Result, int Replicas)> WriteShardAsync<T>(int shard, Func<IShardReplica, Task<T>> write)
    {
        await _shardWrites[shard].WaitAsync().ConfigureAwait(false);
        try
        {
            try { return await WriteReplicasAsync(shard, write).ConfigureAwait(false); }
            catch (ShardUnavailableException e) when (e.InnerException is not MissNotRecordedException)
            {
                // A request in flight through a gateway that just died is lost, not refused: once more,
                // through the gateways left (an ingest is idempotent).
                await Task.Delay(RetryAfter).ConfigureAwait(false);
                return await WriteReplicasAsync(shard, write).ConfigureAwait(false);
            }
        }
        finally { _shardWrites[shard].Release(); }
    }

    async Task<(T Result, int Replicas)> WriteReplicasAsync<T>(int shard, Func<IShardReplica, Task<T>> write)
    {
        var silos = Layout.SilosOf(shard);
        var calls = silos.Select(silo => write(Replica(shard, silo)).WaitAsync(CallTimeout)).ToArray();
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
            _suspectUntil[ClusterLayout.ReplicaKey(shard, silos[i])] = DateTime.UtcNow + SuspectFor;
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
            await Task.WhenAll(missed.Select(silo => RecordMissAsync(shard, silo, took))).ConfigureAwait(false);
        }
        return (first, written);
    }

    /// <summary>
    /// Waits, within <see cref="MissBound"/>, until the replica on <paramref name="silo"/> has recorded
    /// that it missed a write <paramref name="took"/> holds, or a replica that took it sees membership
    /// declare <paramref name="silo"/> dead; else the write is not acknowledged (a 503 naming the replica).
    /// </summary>
    async Task RecordMissAsync(int shard, int silo, int[] took)
    {
        var giveUpAt = DateTime.UtcNow + MissBound;
        string why;
        while (true)
        {
            try
            {
                await Replica(shard, silo).BehindAsync(took).WaitAsync(CallTimeout).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is not ArgumentException)
            {
                why = e is TimeoutException ? $"no answer in {CallTimeout.TotalSeconds:0} s" : e.GetBaseException().Message;
            }
            foreach (int peer in took)
            {
                try { if (await Replica(shard, peer).DeclaredDeadAsync(silo).WaitAsync(CallTimeout).ConfigureAwait(false)) return; }
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

    // ---- reads ----------------------------------------------------------------------------------

    /// <summary>Calls one replica of <paramref name="shard"/>: the layout's order, replicas under suspicion last.</summary>
    internal async Task<T> ReadShardAsync<T>(int shard, Func<IShardReplica, Task<T>> call)
    {
        var now = DateTime.UtcNow;
        var order = Layout.SilosOf(shard)
            .OrderBy(silo => _suspectUntil.TryGetValue(ClusterLayout.ReplicaKey(shard, silo), out var until) && until > now ? 1 : 0).ToList();
        var failures = new List<string>();
        // Twice round: a request in flight through a gateway that just died is lost and times out.
        foreach (int silo in order.Concat(order))
        {
            if (failures.Count == order.Count) await Task.Delay(RetryAfter).ConfigureAwait(false);
            try { return await call(Replica(shard, silo)).WaitAsync(CallTimeout).ConfigureAwait(false); }
            catch (Exception e) when (e is not InvalidDataException and not ArgumentException)
            {
                failures.Add($"{ClusterLayout.SiloName(silo)}: {e.GetType().Name}: {e.Message}");
                if (e is not ReplicaNotReadyException) _suspectUntil[ClusterLayout.ReplicaKey(shard, silo)] = DateTime.UtcNow + SuspectFor;
            }
        }
        throw new ShardUnavailableException($"shard {shard}: no replica answered ({string.Join("; ", failures)})");
    }

    Task<ShardHit[][]> ScatterAsync(ShardQuery query) => ScatterAsync(r => r.SearchAsync(query));

    /// <summary>Calls one live replica of every shard.</summary>
    internal Task<T[]> ScatterAsync<T>(Func<IShardReplica, Task<T>> call) =>
        Task.WhenAll(Enumerable.Range(0, Layout.Shards).Select(shard => ReadShardAsync(shard, call)));

    /// <summary>Free-text search in the query's mode over every shard: the engine's one recipe (<see cref="PaperSearch.RunAsync"/>), each ranking merged from the shards.</summary>
    public Task<List<SearchResult>> SearchAsync(SearchQuery query, SearchScope scope) => PaperSearch.RunAsync(new ClusterSearchSource(this), query, scope);

    /// <summary>
    /// A search over the cluster's shards: each ranking asks one live replica per shard for the full
    /// depth and merges (the top n of the union of each shard's top n is the top n of all); results
    /// are shaped from what the shards answered.
    /// </summary>
    sealed class ClusterSearchSource(ClusterCollection cluster) : ISearchSource
    {
        readonly ConcurrentDictionary<long, ShardHit> _papers = new();

        public async Task<List<(long Key, double Score)>> RankingAsync(SearchQuery query, SearchMode ranking, SearchScope scope, int depth)
        {
            var asked = new ShardQuery
            {
                Text = query.Text, Vector = ranking == SearchMode.Semantic ? query.Vector ?? throw new ArgumentException($"{query.Mode} search needs the query's embedding") : null,
                Ranking = ranking, Depth = depth, From = scope.From, To = scope.To, Exclude = [.. scope.Exclude],
            };
            var merged = Merge(await cluster.ScatterAsync(asked).ConfigureAwait(false), depth);
            foreach (var hit in merged) _papers.TryAdd(hit.Key, hit);
            return merged.Select(h => (h.Key, h.Score)).ToList();
        }

        public async Task<Dictionary<long, float[]>> VectorsAsync(IReadOnlyCollection<long> keys) =>
            (await cluster.VectorsAsync(keys).ConfigureAwait(false)).ToDictionary(v => v.Key, v => v.Vector);

        public Task<List<SearchResult>> ShapeAsync(List<(long Key, double Score)> hits, SearchQuery query) =>
            Task.FromResult(hits.Select(h => Result(_papers[h.Key], h.Score)).ToList());
    }

    /// <summary>Papers like a stored one (by PaperVec id or source id), itself and <paramref name="excludeDigest"/>'s papers excluded; null when no shard has it.</summary>
    public async Task<List<SearchResult>?> SimilarAsync(string id, SearchScope scope, string? excludeDigest = null)
    {
        int k = PaperSearch.CheckedK(scope);
        PaperSearch.CheckDiversity(scope);
        var paper = await FindAsync(id).ConfigureAwait(false);
        if (paper == null) return null;
        scope = await Engine.CollectionRules.SimilarScopeAsync(this, scope, paper.Key, excludeDigest).ConfigureAwait(false);
        // With diversity, one node's pool depth over every shard, then the node's maximal marginal relevance on the merged pool.
        int depth = MaximalMarginalRelevance.PoolDepth(k, scope.Diversity);
        var query = new ShardQuery
        {
            Vector = paper.Vector, Ranking = SearchMode.Semantic, Depth = depth, From = scope.From, To = scope.To,
            Exclude = [.. scope.Exclude],
        };
        var pool = Merge(await ScatterAsync(query).ConfigureAwait(false), depth);
        if (scope.Diversity <= 0) return Shape(pool, k);
        var vectors = (await VectorsAsync(pool.Select(h => h.Key)).ConfigureAwait(false)).ToDictionary(v => v.Key, v => v.Vector);
        var byKey = pool.ToDictionary(h => h.Key);
        return MaximalMarginalRelevance.Select(vectors, pool.Select(h => (h.Key, h.Score)).ToList(), k, scope.Diversity)
            .Select(h => Result(byKey[h.Key], h.Score)).ToList();
    }

    /// <summary>
    /// Papers for a reader who liked <paramref name="liked"/> and not <paramref name="disliked"/> (ids),
    /// best first, by the engine's rules and recipe (<see cref="Engine.CollectionRules"/>, <see cref="Recommender"/>) over every shard;
    /// <paramref name="digestId"/> limits candidates to that digest's papers. The same errors as one node's.
    /// </summary>
    public Task<List<SearchResult>> RecommendAsync(IReadOnlyList<string> liked, IReadOnlyList<string> disliked, SearchScope scope,
        string? digestId = null, RecommendStrategy strategy = Recommender.DefaultStrategy) =>
        Engine.CollectionRules.RecommendAsync(this, liked, disliked, scope, digestId, strategy);

    /// <summary>The key of a stored paper by PaperVec id (its shard first) or source id (every shard); null when none.</summary>
    Task<long?> ResolveAsync(string id) => ByIdAsync(id, r => r.ResolveAsync(id), key => key != null);

    /// <summary>
    /// Deletes a paper (by PaperVec id or any id it was ingested under) on every live replica of its
    /// shard, durably; replicas remember the delete, so one that missed it learns it when it catches
    /// up instead of copying the paper back. False when no paper has that id.
    /// </summary>
    public async Task<bool> DeleteAsync(string id)
    {
        if (await ResolveAsync(id).ConfigureAwait(false) is not long key) return false;
        var at = DateTimeOffset.UtcNow;
        var (deleted, _) = await WriteShardAsync(Layout.ShardOf(key), r => r.DeleteAsync(key, at)).ConfigureAwait(false);
        return deleted;
    }

    /// <summary>
    /// Deletes a digest: every shard's part (its papers; the manifest on the home shard), each on every
    /// live replica of its shard like other writes (a replica that missed it records that it is behind
    /// before this answers). Papers any library names, on whichever shard it lives, are kept. Null when no digest has that id.
    /// </summary>
    public async Task<DigestDeletion?> DeleteDigestAsync(string id)
    {
        if (await ManifestAsync(id).ConfigureAwait(false) == null) return null;
        var named = PaperDatabase.LibraryPapers(await LibrariesAsync().ConfigureAwait(false));
        long[] keys = [.. named.Keys];
        string[] names = [.. keys.Select(k => named[k])];
        var at = DateTimeOffset.UtcNow;
        // The other shards first, the home shard (the manifest, which lists the digest) last: a failure on the
        // way leaves the digest listed, so deleting it again finishes the job (a shard's part goes once).
        int home = Layout.HomeShardOf(id);
        var parts = (await Task.WhenAll(Enumerable.Range(0, Layout.Shards).Where(shard => shard != home)
            .Select(shard => WriteShardAsync(shard, r => r.DeleteDigestAsync(id, keys, names, at)))).ConfigureAwait(false)).ToList();
        parts.Add(await WriteShardAsync(home, r => r.DeleteDigestAsync(id, keys, names, at)).ConfigureAwait(false));
        var papers = parts.SelectMany(p => p.Result.Papers).DistinctBy(p => p.Key).ToList();
        return new DigestDeletion(id,
            papers.Where(p => !p.Kept).Select(p => new DeletedPaper(p.Key, p.Title)).ToList(),
            papers.Where(p => p.Kept).Select(p => new KeptPaper(p.Key, p.Title, p.Reason, p.Detail)).ToList());
    }

    // ---- readers' libraries (each on its home shard) ----------------------------------------------

    /// <summary>Marks papers liked or disliked, or takes them out (or, with <paramref name="replace"/>, sets the whole library), as one durable write to the library's shard.</summary>
    public async Task<ReaderLibrary> ChangeLibraryAsync(string name, IReadOnlyList<string> like, IReadOnlyList<string> dislike, IReadOnlyList<string> remove, bool replace)
    {
        // Ids resolved on every shard and the time fixed here, so every replica of the library's shard stores the same library.
        var resolved = await Engine.CollectionRules.ResolveChangeAsync(this, name, like, dislike, remove, replace).ConfigureAwait(false);
        var change = new ShardLibraryChange
        {
            Name = resolved.Name, Like = [.. resolved.Like], Dislike = [.. resolved.Dislike], Remove = [.. resolved.Remove], Replace = resolved.Replace, At = resolved.At,
        };
        var (encoded, _) = await WriteShardAsync(Layout.LibraryShardOf(name), r => r.ChangeLibraryAsync(change)).ConfigureAwait(false);
        return RecordCodec.ReadLibrary(encoded);
    }

    /// <summary>Deletes a library; false when there was none.</summary>
    public async Task<bool> DeleteLibraryAsync(string name)
    {
        ReaderLibrary.CheckName(name);
        var (deleted, _) = await WriteShardAsync(Layout.LibraryShardOf(name), r => r.DeleteLibraryAsync(name)).ConfigureAwait(false);
        return deleted;
    }

    /// <summary>A reader's library by name (checked), or null.</summary>
    public async Task<ReaderLibrary?> LibraryAsync(string name)
    {
        ReaderLibrary.CheckName(name);
        return await ReadShardAsync(Layout.LibraryShardOf(name), r => r.LibraryAsync(name)).ConfigureAwait(false) is { } encoded ? RecordCodec.ReadLibrary(encoded) : null;
    }

    /// <summary>Every reader's library, by name.</summary>
    public async Task<List<ReaderLibrary>> LibrariesAsync()
    {
        var perShard = await ScatterAsync(r => r.LibrariesAsync()).ConfigureAwait(false);
        return perShard.SelectMany((records, shard) => records.Select(e => RecordCodec.ReadLibrary(e)).Where(l => Layout.LibraryShardOf(l.Name) == shard))
            .OrderBy(l => l.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Papers ranked for the reader whose library is <paramref name="libraryName"/> (null when there is no such library).</summary>
    public Task<List<SearchResult>?> RecommendForLibraryAsync(string libraryName, SearchScope scope, string? digestId = null) =>
        Engine.CollectionRules.RecommendForLibraryAsync(this, libraryName, scope, digestId);

    /// <summary>Every paper of a digest still stored, ordered by a reader's library (its own papers ranked too); null when there is no such library.</summary>
    public Task<List<SearchResult>?> RankDigestAsync(string digestId, string libraryName) => Engine.CollectionRules.RankDigestAsync(this, digestId, libraryName);

    Task<long?> Engine.ICollectionReads.ResolveAsync(string id) => ResolveAsync(id);

    Task<DigestRecord?> Engine.ICollectionReads.DigestRecordAsync(string id) => ManifestAsync(id);

    Task<ReaderLibrary?> Engine.ICollectionReads.StoredLibraryAsync(string name) => LibraryAsync(name);

    IRecommendSource Engine.ICollectionReads.RecommendSource() => new ClusterRecommendSource(this);

    /// <summary>A digest's record as its home shard keeps it (the whole listing order); null when none.</summary>
    async Task<DigestRecord?> ManifestAsync(string digestId) =>
        await ReadShardAsync(Layout.HomeShardOf(digestId), r => r.DigestAsync(digestId)).ConfigureAwait(false) is { } encoded ? RecordCodec.ReadDigest(encoded) : null;

    /// <summary>
    /// A stored paper, with its vector: a PaperVec id names its shard (the one its title's key
    /// hashes to, unless it was renamed since); otherwise every shard is asked.
    /// </summary>
    public Task<ShardPaper?> FindAsync(string id) => ByIdAsync(id, r => r.FindAsync(id), paper => paper != null);

    /// <summary>What the shard holding the paper <paramref name="id"/> names answers: a PaperVec id's shard first, else every shard's first answer that <paramref name="found"/>.</summary>
    async Task<T> ByIdAsync<T>(string id, Func<IShardReplica, Task<T>> call, Func<T, bool> found)
    {
        if (PaperIdentity.TryParse(id, out long key) && await ReadShardAsync(Layout.ShardOf(key), call).ConfigureAwait(false) is var direct && found(direct))
            return direct;
        var all = await ScatterAsync(call).ConfigureAwait(false);
        return all.FirstOrDefault(found)!;
    }

    /// <summary>Calls, for each shard holding some of <paramref name="keys"/> (a key names its shard), one live replica with those keys; the answers together.</summary>
    internal async Task<List<T>> ReadByShardAsync<T>(IEnumerable<long> keys, Func<IShardReplica, long[], Task<T[]>> call)
    {
        var parts = await Task.WhenAll(keys.Distinct().GroupBy(Layout.ShardOf).Select(g => ReadShardAsync(g.Key, r => call(r, g.ToArray())))).ConfigureAwait(false);
        return parts.SelectMany(p => p).ToList();
    }

    /// <summary>The vectors (and titles) of the stored papers among <paramref name="keys"/>.</summary>
    internal Task<List<ShardVector>> VectorsAsync(IEnumerable<long> keys) => ReadByShardAsync(keys, (r, shardKeys) => r.VectorsAsync(shardKeys));

    /// <summary>
    /// A digest and its listings in listing order, each marked "seen before" by its own shard (every
    /// paper's shard holds the dates of the digests that listed it); null when no digest has that id.
    /// </summary>
    public async Task<(DigestRecord Digest, List<DigestListing> Listings)?> DigestAsync(string id)
    {
        if (await ManifestAsync(id).ConfigureAwait(false) is not { } digest) return null;
        var parts = await ScatterAsync(r => r.DigestListingsAsync(id)).ConfigureAwait(false);
        var byKey = parts.SelectMany(p => p).GroupBy(l => l.Key).ToDictionary(g => g.Key, g => g.First().ToListing());
        var listings = new List<DigestListing>(digest.PaperKeys.Count);
        List<DigestRecord>? dated = null;
        for (int i = 0; i < digest.PaperKeys.Count; i++)
        {
            if (!byKey.TryGetValue(digest.PaperKeys[i], out var listing)) continue; // deleted since
            // A reworded copy of a paper on another shard: its shard's part of the digest does not hold
            // the decision (the manifest does), so the copy's earlier digests are looked up here.
            if (!listing.SeenBefore && digest.StoredCopy(i) is var copyKey and not 0 && Layout.ShardOf(copyKey) != Layout.ShardOf(listing.Key)
                && await FindAsync(PaperIdentity.Format(copyKey)).ConfigureAwait(false) is { } copy)
            {
                dated ??= await DigestsAsync().ConfigureAwait(false);
                var earlier = copy.Digests.Where(d => d != digest.Id && dated.FirstOrDefault(x => x.Id == d) is { } other && other.Date < digest.Date).ToList();
                if (earlier.Count > 0) listing = listing with { SeenIn = earlier, SameAs = PaperIdentity.Format(copyKey) };
            }
            listings.Add(listing);
        }
        return (digest, listings);
    }

    /// <summary>Every ingested digest, oldest first: each as its home shard records it (a digest whose manifest is not written yet is not listed).</summary>
    public async Task<List<DigestRecord>> DigestsAsync()
    {
        var perShard = await ScatterAsync(r => r.DigestsAsync()).ConfigureAwait(false);
        return perShard.SelectMany((records, shard) => records.Select(e => RecordCodec.ReadDigest(e)).Where(d => Layout.HomeShardOf(d.Id) == shard))
            .OrderBy(d => d.Date).ThenBy(d => d.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The duplicate groups among the digests in scope, as one node finds them
    /// (<see cref="DuplicateFinder"/>): listings from every digest's record on its home shard, each
    /// listed paper's nearest listed neighbours from every shard (the best of the union, as one
    /// index search would give), confirmed by word shingles of the texts here.
    /// </summary>
    public async Task<List<DuplicateGroup>> DuplicatesAsync(DuplicateScope scope, DuplicateSettings? settings = null)
    {
        settings ??= new DuplicateSettings();
        var digests = await DigestsAsync().ConfigureAwait(false);
        if (scope.Digests?.FirstOrDefault(id => !digests.Any(d => d.Id == id)) is { } unknown) throw new DigestNotFoundException(unknown, digests);
        var listings = DuplicateFinder.ListingsIn(digests, scope);
        var byShard = listings.Keys.GroupBy(Layout.ShardOf).ToDictionary(g => g.Key, g => g.ToArray());
        var vectors = await VectorsAsync(listings.Keys).ConfigureAwait(false);
        long[] keys = vectors.Select(v => v.Key).ToArray();
        float[][] rows = vectors.Select(v => v.Vector).ToArray();
        var found = await Task.WhenAll(byShard.Select(s => ReadShardAsync(s.Key, r => r.DuplicateCandidatesAsync(
            new ShardDuplicateQuery { Keys = keys, Vectors = rows, Listed = s.Value })))).ConfigureAwait(false);

        // Per listed paper, the best candidates of the union (itself, the best hit of one index search, is left out).
        var pairs = new Dictionary<(long, long), double>();
        foreach (var perKey in found.SelectMany(f => f).GroupBy(c => c.Key))
            foreach (var (other, cosine) in perKey.SelectMany(c => c.Others.Zip(c.Cosines)).OrderByDescending(c => c.Second).ThenBy(c => c.First).Take(settings.Neighbours))
                pairs.TryAdd(perKey.Key < other ? (perKey.Key, other) : (other, perKey.Key), cosine);

        // Whole records of the papers that may join a group (listed twice, or in a pair): versions name each listing's text.
        var wanted = listings.Where(l => l.Value.Count > 1).Select(l => l.Key).Concat(pairs.Keys.SelectMany(p => new[] { p.Item1, p.Item2 })).Distinct();
        var records = (await ReadByShardAsync(wanted, (r, keys) => r.RecordsAsync(keys)).ConfigureAwait(false))
            .Select(e => RecordCodec.ReadPaper(e)).ToDictionary(p => p.Key);
        var shingles = new Dictionary<long, ulong[]>();
        ulong[] ShinglesOf(long key) => shingles.TryGetValue(key, out var s) ? s
            : shingles[key] = records.TryGetValue(key, out var p) ? LexicalSimilarity.ShinglesOf(p.Title, p.Abstract) : [];
        var edges = pairs.Select(p => DuplicateFinder.Confirm(settings, p.Key.Item1, p.Key.Item2, p.Value, ShinglesOf(p.Key.Item1), ShinglesOf(p.Key.Item2)))
            .OfType<DuplicateFinder.Edge>().ToList();
        return DuplicateFinder.Group(settings, listings, key => records.GetValueOrDefault(key), edges);
    }

    /// <summary>Every replica's health, the unreachable ones included (not ready, with the reason).</summary>
    public async Task<List<ReplicaStatus>> StatusAsync()
    {
        var calls = new List<(int Shard, int Silo, Task<ReplicaStatus> Call)>();
        for (int shard = 0; shard < Layout.Shards; shard++)
            foreach (int silo in Layout.SilosOf(shard))
                calls.Add((shard, silo, Replica(shard, silo).StatusAsync().WaitAsync(TimeSpan.FromSeconds(3))));
        try { await Task.WhenAll(calls.Select(c => c.Call)).ConfigureAwait(false); } catch { }
        return calls.Select(c => c.Call.IsCompletedSuccessfully ? c.Call.Result : new ReplicaStatus
        {
            Shard = c.Shard, Silo = ClusterLayout.SiloName(c.Silo), Ready = false, Papers = 0,
            Note = $"unreachable: {c.Call.Exception?.GetBaseException().Message ?? "timed out"}",
        }).ToList();
    }

    static List<ShardHit> Merge(ShardHit[][] perShard, int k) =>
        perShard.SelectMany(h => h).OrderByDescending(h => h.Score).ThenBy(h => h.Key).Take(k).ToList();

    static List<SearchResult> Shape(List<ShardHit> hits, int k) => hits.Take(k).Select(h => Result(h, h.Score)).ToList();

    static SearchResult Result(ShardHit hit, double score) =>
        new(PaperIdentity.Format(hit.Key), hit.Title, hit.Date, Math.Round(score, 4), hit.Snippet) { Matches = hit.Matches };
}
