using PaperVec.Duplicates;
using PaperVec.Embedding;
using PaperVec.Ingest;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Engine;

/// <summary>
/// The one implementation of <see cref="IPaperCollection"/>: a collection over its shards
/// (<see cref="ICollectionShard"/>), the way Qdrant's collection sits over its shards. A node is the
/// coordinator over one <see cref="LocalShard"/> (<see cref="PaperCollection"/>); a cluster the same
/// coordinator over replicated shards (PaperVec.Cluster's ClusterCollection). Written once here: embedding
/// (shards store), routing a paper to the shard of the stored paper it is, a digest's manifest on its home
/// shard, "similar" leaving the paper itself out (<see cref="CollectionRules"/>), the search recipe
/// (<see cref="PaperSearch.RunAsync"/>), the recommendation recipe (<see cref="Recommender"/>) and the
/// duplicate report, each over the merge of the shards' answers. One local shard answers the whole
/// collection itself where the merge of one answer is that answer (search, similar, recommend, duplicates):
/// the same rule without a scatter.
/// </summary>
public partial class CollectionCoordinator : IPaperCollection, ICollectionReads
{
    readonly ICollectionShard[] _shards;
    volatile Embedder? _embedder;
    int _disposed;

    public CollectionCoordinator(IReadOnlyList<ICollectionShard> shards, ShardRouting? routing = null, Embedder? embedder = null,
        long libraryModelCacheBytes = LibraryModelCache.DefaultMaxBytes)
    {
        LibraryModels = new LibraryModelCache(libraryModelCacheBytes);
        if (shards.Count == 0) throw new ArgumentException("a collection needs at least one shard", nameof(shards));
        _shards = [.. shards];
        Routing = routing ?? new ShardRouting(shards.Count);
        if (Routing.Shards != shards.Count) throw new ArgumentException($"routing over {Routing.Shards} shards, {shards.Count} given", nameof(routing));
        _embedder = embedder;
    }

    /// <summary>Library models kept warm between recommendations: trained once here, they rank every shard's candidates.</summary>
    public LibraryModelCache LibraryModels { get; }

    /// <summary>Which shard holds a paper, a digest's manifest, a library.</summary>
    public ShardRouting Routing { get; }

    /// <summary>The shards, in routing order.</summary>
    public IReadOnlyList<ICollectionShard> Shards => _shards;

    /// <summary>The only shard when it is a local one (a node): it answers for the whole collection without a merge.</summary>
    LocalShard? Whole => _shards is [LocalShard local] ? local : null;

    ICollectionShard ShardOf(long key) => _shards[Routing.ShardOf(key)];

    // ---- state ----

    public virtual int PaperCount => _shards.Sum(s => s.PaperCount);

    public virtual string? LexicalDegraded => _shards.Select(s => s.LexicalDegraded).FirstOrDefault(d => d != null);

    public virtual CollectionHealth Health
    {
        get
        {
            var problems = _shards.Select(s => s.Problem).OfType<string>().Distinct().ToList();
            return new(problems.Count == 0 ? null : string.Join("; ", problems));
        }
    }

    public virtual string Location => $"{_shards.Length} shards";

    public virtual long? BytesOnDisk()
    {
        long total = 0;
        foreach (var shard in _shards)
        {
            if (shard.BytesOnDisk() is not long bytes) return null;
            total += bytes;
        }
        return total;
    }

    /// <summary>The attached model (null until <see cref="AttachModelAsync"/>): embeds papers written without vectors.</summary>
    public Embedder? Embedder => _embedder;

    /// <summary>Makes <paramref name="embedder"/> the collection's model: each shard takes it (a local shard re-embeds another model's vectors first); how many papers were re-embedded.</summary>
    public async Task<int> AttachModelAsync(Embedder embedder, Action<int, int>? progress = null)
    {
        int count = 0;
        foreach (var shard in _shards) count += await shard.AttachModelAsync(embedder, progress).ConfigureAwait(false);
        _embedder = embedder;
        return count;
    }

    // ---- papers ----

    /// <summary>Deletes a paper durably on its shard (every id it was known by stops resolving); false when no paper has that id.</summary>
    public async Task<bool> DeleteAsync(string id) =>
        await ResolveAsync(id).ConfigureAwait(false) is long key && await ShardOf(key).DeleteAsync(key).ConfigureAwait(false);

    public Task<PaperRecord?> FindPaperAsync(string id) => ByIdAsync(id, s => s.FindPaperAsync(id), paper => paper != null);

    /// <summary>The key of a stored paper by PaperVec id (its shard first) or source id (every shard); null when none.</summary>
    public Task<long?> ResolveAsync(string id) => ByIdAsync(id, s => s.ResolveAsync(id), key => key != null);

    /// <summary>What the shard holding the paper <paramref name="id"/> names answers: a PaperVec id's shard first, else every shard's first answer that <paramref name="found"/>.</summary>
    async Task<T> ByIdAsync<T>(string id, Func<ICollectionShard, Task<T>> call, Func<T, bool> found)
    {
        if (_shards.Length == 1) return await call(_shards[0]).ConfigureAwait(false);
        if (PaperIdentity.TryParse(id, out long key) && await call(ShardOf(key)).ConfigureAwait(false) is var direct && found(direct)) return direct;
        var all = await ScatterAsync(call).ConfigureAwait(false);
        return all.FirstOrDefault(found)!;
    }

    /// <summary>Calls every shard at once.</summary>
    protected Task<T[]> ScatterAsync<T>(Func<ICollectionShard, Task<T>> call) => Task.WhenAll(_shards.Select(call));

    /// <summary>Calls, for each shard holding some of <paramref name="keys"/>, that shard with its keys; the answers together.</summary>
    internal async Task<List<T>> ByKeyAsync<T>(IEnumerable<long> keys, Func<ICollectionShard, long[], Task<List<T>>> call)
    {
        var parts = await Task.WhenAll(keys.Distinct().GroupBy(Routing.ShardOf).Select(g => call(_shards[g.Key], g.ToArray()))).ConfigureAwait(false);
        return parts.Length == 1 ? parts[0] : parts.SelectMany(p => p).ToList();
    }

    /// <summary>The vectors (and titles) of the stored papers among <paramref name="keys"/>.</summary>
    internal Task<List<PaperVector>> VectorsAsync(IEnumerable<long> keys) => ByKeyAsync(keys, (s, k) => s.VectorsAsync(k));

    // ---- search ----

    /// <summary>Free-text search in the query's mode: the engine's one recipe (<see cref="PaperSearch.RunAsync"/>), each ranking merged from the shards.</summary>
    public Task<List<SearchResult>> SearchAsync(SearchQuery query, SearchScope scope) => PaperSearch.RunAsync(SearchSource(), query, scope);

    ISearchSource SearchSource() => Whole?.SearchSource() ?? new ShardedSearchSource(this);

    /// <summary>Papers like the one <paramref name="id"/> names, itself and <paramref name="excludeDigest"/>'s papers left out; null when no paper has that id.</summary>
    public async Task<List<SearchResult>?> SimilarAsync(string id, SearchScope scope, string? excludeDigest = null)
    {
        if (Whole is { } local)
            // One node starts at the paper's own graph node; everything here comes from memory.
            return await local.ResolveAsync(id).ConfigureAwait(false) is long own
                ? local.Similar(own, await CollectionRules.SimilarScopeAsync(this, scope, own, excludeDigest).ConfigureAwait(false)) : null;
        PaperSearch.CheckedK(scope);
        PaperSearch.CheckDiversity(scope);
        if (await FindPaperAsync(id).ConfigureAwait(false) is not { } paper) return null;
        scope = await CollectionRules.SimilarScopeAsync(this, scope, paper.Key, excludeDigest).ConfigureAwait(false);
        // The search recipe by the paper's own vector: one node's pool depth and diversity over every shard.
        return await PaperSearch.RunAsync(SearchSource(), new SearchQuery("", paper.Vector, SearchMode.Semantic), scope).ConfigureAwait(false);
    }

    // ---- recommendations and readers' libraries ----

    public Task<List<SearchResult>> RecommendAsync(IReadOnlyList<string> liked, IReadOnlyList<string> disliked, SearchScope scope, string? digestId = null,
        RecommendStrategy strategy = Recommender.DefaultStrategy) =>
        CollectionRules.RecommendAsync(this, liked, disliked, scope, digestId, strategy);

    public Task<List<SearchResult>?> RecommendForLibraryAsync(string library, SearchScope scope, string? digestId = null) =>
        CollectionRules.RecommendForLibraryAsync(this, library, scope, digestId);

    public Task<List<SearchResult>?> RankDigestAsync(string digestId, string library) => CollectionRules.RankDigestAsync(this, digestId, library);

    public async Task<List<ReaderLibrary>> LibrariesAsync()
    {
        if (_shards.Length == 1) return await _shards[0].LibrariesAsync().ConfigureAwait(false);
        var perShard = await ScatterAsync(s => s.LibrariesAsync()).ConfigureAwait(false);
        return perShard.SelectMany((libraries, shard) => libraries.Where(l => Routing.LibraryShardOf(l.Name) == shard))
            .OrderBy(l => l.Name, StringComparer.Ordinal).ToList();
    }

    public Task<ReaderLibrary?> LibraryAsync(string name) => _shards[Routing.LibraryShardOf(ReaderLibrary.CheckName(name))].LibraryAsync(name);

    /// <summary>Marks papers liked or disliked, or takes them out (with <paramref name="replace"/>: the lists become the library), as one durable write to the library's shard.</summary>
    public async Task<ReaderLibrary> ChangeLibraryAsync(string name, IReadOnlyList<string> like, IReadOnlyList<string> dislike, IReadOnlyList<string> remove, bool replace)
    {
        // Ids resolved on every shard and the time fixed here, so every replica of the library's shard stores the same library.
        var change = await CollectionRules.ResolveChangeAsync(this, name, like, dislike, remove, replace).ConfigureAwait(false);
        return await _shards[Routing.LibraryShardOf(change.Name)].ApplyLibraryChangeAsync(change).ConfigureAwait(false);
    }

    public Task<bool> DeleteLibraryAsync(string name) => _shards[Routing.LibraryShardOf(ReaderLibrary.CheckName(name))].DeleteLibraryAsync(name);

    /// <summary>Sets (or, with a null address, ends) a library's e-mail subscription, durably on its home shard; null when there is no such library.</summary>
    public Task<ReaderLibrary?> SubscribeAsync(string name, string? email, int top)
    {
        ReaderLibrary.CheckName(name);
        // Checked and timed here, so every replica of the home shard stores the same record.
        var at = DateTimeOffset.UtcNow;
        var subscription = email == null ? null : LibrarySubscription.Check(email, top, at);
        return _shards[Routing.LibraryShardOf(name)].SubscribeAsync(name, subscription, at);
    }

    /// <summary>Records durably that a digest's message for a library was sent (once sent, never again); null when there is no such library.</summary>
    public Task<ReaderLibrary?> MarkMailedAsync(string name, string digestId) =>
        _shards[Routing.LibraryShardOf(ReaderLibrary.CheckName(name))].MarkMailedAsync(name, digestId, DateTimeOffset.UtcNow);

    Task<DigestRecord?> ICollectionReads.DigestRecordAsync(string id) => ManifestAsync(id);

    Task<ReaderLibrary?> ICollectionReads.StoredLibraryAsync(string name) => _shards[Routing.LibraryShardOf(name)].LibraryAsync(name);

    IRecommendSource ICollectionReads.RecommendSource() => Whole?.RecommendSource(LibraryModels) ?? new ShardedRecommendSource(this);

    // ---- digests ----

    /// <summary>A digest's record as its home shard keeps it (the whole listing order); null when none.</summary>
    Task<DigestRecord?> ManifestAsync(string digestId) => _shards[Routing.HomeShardOf(digestId)].DigestRecordAsync(digestId);

    /// <summary>Every ingested digest, oldest first: each as its home shard records it (a digest whose manifest is not written yet is not listed).</summary>
    public async Task<List<DigestRecord>> DigestsAsync()
    {
        if (_shards.Length == 1) return await _shards[0].DigestRecordsAsync().ConfigureAwait(false);
        var perShard = await ScatterAsync(s => s.DigestRecordsAsync()).ConfigureAwait(false);
        return perShard.SelectMany((records, shard) => records.Where(d => Routing.HomeShardOf(d.Id) == shard))
            .OrderBy(d => d.Date).ThenBy(d => d.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// A digest and its listings in listing order, each marked "seen before" by its own shard (every
    /// paper's shard holds the dates of the digests that listed it); null when no digest has that id.
    /// </summary>
    public async Task<(DigestRecord Digest, List<DigestListing> Listings)?> DigestAsync(string id)
    {
        if (await ManifestAsync(id).ConfigureAwait(false) is not { } digest) return null;
        if (_shards.Length == 1) return (digest, await _shards[0].DigestListingsAsync(id).ConfigureAwait(false));
        var parts = await ScatterAsync(s => s.DigestListingsAsync(id)).ConfigureAwait(false);
        var byKey = parts.SelectMany(p => p).GroupBy(l => l.Key).ToDictionary(g => g.Key, g => g.First());
        var listings = new List<DigestListing>(digest.PaperKeys.Count);
        List<DigestRecord>? dated = null;
        for (int i = 0; i < digest.PaperKeys.Count; i++)
        {
            if (!byKey.TryGetValue(digest.PaperKeys[i], out var listing)) continue; // deleted since
            // A reworded copy of a paper on another shard: its shard's part of the digest does not hold
            // the decision (the manifest does), so the copy's earlier digests are looked up here.
            if (!listing.SeenBefore && digest.StoredCopy(i) is var copyKey and not 0 && Routing.ShardOf(copyKey) != Routing.ShardOf(listing.Key)
                && await FindPaperAsync(PaperIdentity.Format(copyKey)).ConfigureAwait(false) is { } copy)
            {
                dated ??= await DigestsAsync().ConfigureAwait(false);
                var earlier = copy.Digests.Where(d => d != digest.Id && dated.FirstOrDefault(x => x.Id == d) is { } other && other.Date < digest.Date).ToList();
                if (earlier.Count > 0) listing = listing with { SeenIn = earlier, SameAs = PaperIdentity.Format(copyKey) };
            }
            listings.Add(listing);
        }
        return (digest, listings);
    }

    /// <summary>
    /// Deletes a digest: every shard's part (its papers; the manifest on the home shard), each durably. Papers any
    /// library names, on whichever shard it lives, are kept. Null when no digest has that id.
    /// </summary>
    public async Task<DigestDeletion?> DeleteDigestAsync(string id)
    {
        var at = DateTimeOffset.UtcNow;
        if (_shards.Length == 1) return await _shards[0].DeleteDigestAsync(id, null, at).ConfigureAwait(false);
        if (await ManifestAsync(id).ConfigureAwait(false) == null) return null;
        var named = PaperDatabase.LibraryPapers(await LibrariesAsync().ConfigureAwait(false));
        // The other shards first, the home shard (the manifest, which lists the digest) last: a failure on the
        // way leaves the digest listed, so deleting it again finishes the job (a shard's part goes once).
        int home = Routing.HomeShardOf(id);
        var parts = (await Task.WhenAll(Enumerable.Range(0, _shards.Length).Where(shard => shard != home)
            .Select(shard => _shards[shard].DeleteDigestAsync(id, named, at))).ConfigureAwait(false)).ToList();
        parts.Add(await _shards[home].DeleteDigestAsync(id, named, at).ConfigureAwait(false));
        var done = parts.OfType<DigestDeletion>().ToList();
        return new DigestDeletion(id, done.SelectMany(p => p.Deleted).DistinctBy(p => p.Key).ToList(), done.SelectMany(p => p.Kept).DistinctBy(p => p.Key).ToList());
    }

    // ---- duplicates ----

    /// <summary>
    /// The duplicate groups among the digests in scope (<see cref="DuplicateFinder"/>'s rule): listings from
    /// every digest's record on its home shard, each listed paper's nearest listed neighbours from every shard
    /// (the best of the union, as one index search would give), confirmed by word shingles of the texts here.
    /// </summary>
    public async Task<List<DuplicateGroup>> DuplicatesAsync(DuplicateScope scope, DuplicateSettings? settings = null)
    {
        var digests = await DigestsAsync().ConfigureAwait(false);
        if (scope.Digests?.FirstOrDefault(id => !digests.Any(d => d.Id == id)) is { } unknown) throw new DigestNotFoundException(unknown, digests);
        if (Whole is { } local) return await local.DuplicatesAsync(scope, settings).ConfigureAwait(false);
        settings ??= new DuplicateSettings();
        var listings = DuplicateFinder.ListingsIn(digests, scope);
        var byShard = listings.Keys.GroupBy(Routing.ShardOf).ToDictionary(g => g.Key, g => g.ToArray());
        var vectors = await VectorsAsync(listings.Keys).ConfigureAwait(false);
        long[] keys = vectors.Select(v => v.Key).ToArray();
        float[][] rows = vectors.Select(v => v.Vector).ToArray();
        var found = await Task.WhenAll(byShard.Select(s => _shards[s.Key].DuplicateCandidatesAsync(keys, rows, s.Value))).ConfigureAwait(false);

        // Per listed paper, the best candidates of the union (itself, the best hit of one index search, is left out).
        var pairs = new Dictionary<(long, long), double>();
        foreach (var perKey in found.SelectMany(f => f).GroupBy(c => c.Key))
            foreach (var (other, cosine) in perKey.SelectMany(c => c.Others.Zip(c.Cosines)).OrderByDescending(c => c.Second).ThenBy(c => c.First).Take(settings.Neighbours))
                pairs.TryAdd(perKey.Key < other ? (perKey.Key, other) : (other, perKey.Key), cosine);

        // Whole records of the papers that may join a group (listed twice, or in a pair): versions name each listing's text.
        var wanted = listings.Where(l => l.Value.Count > 1).Select(l => l.Key).Concat(pairs.Keys.SelectMany(p => new[] { p.Item1, p.Item2 })).Distinct();
        var records = (await ByKeyAsync(wanted, (s, k) => s.RecordsAsync(k)).ConfigureAwait(false)).ToDictionary(p => p.Key);
        var shingles = new Dictionary<long, ulong[]>();
        ulong[] ShinglesOf(long key) => shingles.TryGetValue(key, out var s) ? s
            : shingles[key] = records.TryGetValue(key, out var p) ? LexicalSimilarity.ShinglesOf(p.Title, p.Abstract) : [];
        var edges = pairs.Select(p => DuplicateFinder.Confirm(settings, p.Key.Item1, p.Key.Item2, p.Value, ShinglesOf(p.Key.Item1), ShinglesOf(p.Key.Item2)))
            .OfType<DuplicateFinder.Edge>().ToList();
        return DuplicateFinder.Group(settings, listings, key => records.GetValueOrDefault(key), edges);
    }

    /// <summary>Closes every shard (a local shard waits for a write in flight, then checkpoints).</summary>
    public virtual async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        foreach (var shard in _shards) await shard.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}
