using PaperVec.Ingest;
using PaperVec.Duplicates;
using PaperVec.Embedding;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Engine;

/// <summary>
/// The engine's front door: one collection of papers in one data directory, the way Qdrant's
/// collection sits over its segments. Hosts (the HTTP API, the command line) parse, check, call
/// and shape; the rules live here:
/// - writes run one at a time (an ingest reads what is stored to decide what is new, so two
///   ingests of one paper at once could both take it for new and lose a digest listing); reads and
///   searches run alongside;
/// - ingest (identity, limits, versions, duplicate decisions: <see cref="PaperIngestor"/>) and
///   deletes go through <see cref="IngestAsync"/> and <see cref="DeleteAsync"/>;
/// - a model is attached once, and vectors another model made are re-embedded first
///   (<see cref="AttachModelAsync"/>), so no search mixes two models' vectors;
/// - searches go through <see cref="PaperSearch"/> (scope, date filters, result shape).
/// Storage below it (<see cref="PaperDatabase"/>) owns durability, recovery and checkpoints.
/// </summary>
public sealed class PaperCollection : IPaperCollection, ICollectionReads, IDisposable
{
    readonly SemaphoreSlim _writes = new(1, 1);
    volatile Embedder? _embedder;
    bool _disposed;

    /// <summary>The storage below: reads, stats and tooling (benchmarks, evaluation) use it directly.</summary>
    public PaperDatabase Database { get; }

    /// <summary>Papers stored.</summary>
    public int PaperCount => Database.PaperCount;

    /// <summary>What opening the data directory found and did.</summary>
    public RecoveryReport Recovery => Database.Recovery;

    /// <summary>Papers, digests, bytes on disk and index size, and whether the index holds exactly the store's papers (a full scan).</summary>
    public StorageStats StorageStats()
    {
        bool consistent = Database.IndexMatchesStore(out string problem);
        return new StorageStats(Database.Root, Database.Stats(), Database.Recovery, consistent, problem);
    }

    /// <summary>Reclaims disk from overwritten and deleted records, then checkpoints; returns the bytes of store log reclaimed.</summary>
    public async Task<long> CompactAsync()
    {
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return await Database.CompactAsync().ConfigureAwait(false);
        }
        finally { _writes.Release(); }
    }

    /// <summary>The attached model (null until <see cref="AttachModelAsync"/>): embeds new papers.</summary>
    public Embedder? Embedder => _embedder;

    /// <summary>Library models kept warm between recommendations (the engine's, not a host's).</summary>
    public LibraryModelCache LibraryModels { get; }

    PaperCollection(PaperDatabase database, long modelCacheBytes) => (Database, LibraryModels) = (database, new LibraryModelCache(modelCacheBytes));

    /// <summary>Opens (and recovers) the collection's data directory; see <see cref="PaperDatabase.OpenAsync"/>.</summary>
    public static async Task<PaperCollection> OpenAsync(string? path, PaperDatabaseOptions? options = null) =>
        new(await PaperDatabase.OpenAsync(path, options).ConfigureAwait(false), (options ?? new()).LibraryModelCacheBytes);

    /// <summary><see cref="OpenAsync"/> for hosts that cannot await yet (it blocks its thread while recovery runs).</summary>
    public static PaperCollection Open(string? path, PaperDatabaseOptions? options = null) => OpenAsync(path, options).GetAwaiter().GetResult();

    /// <summary>
    /// Makes <paramref name="embedder"/> the model of this collection: papers embedded by another
    /// model are re-embedded first (a write, so ingests wait), then new papers use it. Returns how
    /// many papers were re-embedded.
    /// </summary>
    public async Task<int> AttachModelAsync(Embedder embedder, Action<int, int>? progress = null)
    {
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            int count = Database.ModelId == embedder.ModelId || Database.PaperCount == 0 ? 0
                : await ModelChangeReembedder.ReembedAsync(Database, embedder, progress).ConfigureAwait(false);
            _embedder = embedder;
            return count;
        }
        finally { _writes.Release(); }
    }

    /// <summary>
    /// Ingests papers (a digest's, or records) as one durable write. Papers without a vector need
    /// the attached model (<see cref="ModelNotReadyException"/> otherwise). Bad input is an
    /// <see cref="InvalidDataException"/> naming the paper and field, before anything is written.
    /// </summary>
    /// <param name="embedded">Vectors made ahead by <see cref="EmbedAhead"/> (a bulk ingest embeds its next batch while this one commits); null: made here.</param>
    public async Task<IngestResult> IngestAsync(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest = null, DateOnly? defaultDate = null,
        EmbeddedTexts? embedded = null)
    {
        foreach (var paper in papers)
            if (paper.Vector is { } v && v.Length != Database.Dimension)
                throw new InvalidDataException($"record '{paper.Title}' has a {v.Length}-d vector; this collection holds {Database.Dimension}-d vectors");
        var embedder = papers.All(p => p.Vector != null) ? null
            : _embedder ?? throw new ModelNotReadyException("the model is not loaded, and these papers carry no vectors");
        // Embedding (milliseconds a paper) depends only on the text: papers nothing stored answers to
        // are embedded before the write gate, so other writes, and a bulk ingest's next batch, are not
        // held behind it. The plan inside the gate decides with what is stored then and embeds any
        // other paper it must (a revised one) itself.
        if (embedder != null) embedded ??= EmbedAhead(papers, digest);
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // A model attached since (a re-embed ran) makes early vectors stale: the plan then embeds afresh.
            var current = embedder == null ? null : _embedder;
            return await new PaperIngestor(Database, current) { Embedded = embedded?.ModelId == current?.ModelId ? embedded?.Vectors : null }
                .IngestAsync(papers, digest, defaultDate).ConfigureAwait(false);
        }
        finally { _writes.Release(); }
    }

    /// <summary>
    /// Ingests papers whose vectors another process made with model <paramref name="modelId"/> (a
    /// cluster shard: the cluster's client embeds, shards store and search). The collection takes
    /// that model as its own when it has none, and refuses another model's vectors, so no search
    /// mixes two models.
    /// </summary>
    /// <param name="digest">The digest these papers are (part of) when a digest is ingested: membership, "seen before" and this collection's part of the digest record.</param>
    public async Task<IngestResult> IngestEmbeddedAsync(IReadOnlyList<IncomingPaper> papers, string modelId, DateOnly? defaultDate = null,
        PaperIngestor.DigestInfo? digest = null)
    {
        if (papers.Any(p => p.Vector == null)) throw new InvalidDataException("papers written with their model id must carry vectors");
        foreach (var paper in papers)
            if (paper.Vector!.Length != Database.Dimension)
                throw new InvalidDataException($"record '{paper.Title}' has a {paper.Vector.Length}-d vector; this collection holds {Database.Dimension}-d vectors");
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            await TakeModelAsync(modelId).ConfigureAwait(false);
            return await new PaperIngestor(Database, null, modelId).IngestAsync(papers, digest, defaultDate).ConfigureAwait(false);
        }
        finally { _writes.Release(); }
    }

    /// <summary>Records <paramref name="modelId"/> as the vectors' model when the collection is empty; refuses another model's vectors.</summary>
    async Task TakeModelAsync(string modelId)
    {
        string? held = Database.ModelId;
        if (held == modelId) return;
        if (held != null && Database.PaperCount > 0)
            throw new InvalidDataException($"these vectors are of model {modelId}; this collection holds model {held}'s");
        await Database.CommitAsync(new WriteBatch().PutModelId(modelId)).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes a digest record as given (a cluster's digest manifest: the whole digest's listing order,
    /// kept on the digest's home shard while its papers live on every shard), replacing one of that id.
    /// </summary>
    public async Task PutDigestAsync(DigestRecord digest)
    {
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            await Database.CommitAsync(new WriteBatch().PutDigest(digest)).ConfigureAwait(false);
        }
        finally { _writes.Release(); }
    }

    /// <summary>
    /// Stores papers, digest records and libraries exactly as another replica of the same shard holds them (a
    /// replica catching up: versions, digest membership and first-seen dates kept), as one durable write.
    /// </summary>
    public async Task CopyFromReplicaAsync(IReadOnlyList<PaperRecord> papers, IReadOnlyList<DigestRecord> digests, string? modelId,
        IReadOnlyList<ReaderLibrary>? libraries = null)
    {
        libraries ??= [];
        if (papers.Count == 0 && digests.Count == 0 && libraries.Count == 0) return;
        foreach (var paper in papers)
            if (paper.Vector.Length != Database.Dimension)
                throw new InvalidDataException($"paper {paper.Id} has a {paper.Vector.Length}-d vector; this collection holds {Database.Dimension}-d vectors");
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (papers.Count > 0) await TakeModelAsync(modelId ?? throw new InvalidDataException("papers copied from a replica need their model id")).ConfigureAwait(false);
            var batch = new WriteBatch();
            foreach (var paper in papers)
            {
                batch.PutPaper(paper);
                if (paper.SourceId != null && Database.Catalog.KeyOfSourceId(paper.SourceId) != paper.Key) batch.PutAlias(paper.SourceId, paper.Key);
            }
            foreach (var digest in digests) batch.PutDigest(digest);
            foreach (var library in libraries) batch.PutLibrary(library);
            await Database.CommitAsync(batch).ConfigureAwait(false);
        }
        finally { _writes.Release(); }
    }

    /// <summary>The listings of a digest, in listing order, each marked when an earlier digest listed it too; null when there is no such digest.</summary>
    public async Task<List<DigestListing>?> ListingsOfAsync(string digestId) =>
        Database.Catalog.GetDigest(digestId) is { } digest ? await ListingsOfAsync(digest).ConfigureAwait(false) : null;

    /// <summary>The listings of a digest record (see <see cref="DigestListing.ReadAsync"/>).</summary>
    public Task<List<DigestListing>> ListingsOfAsync(DigestRecord digest) => DigestListing.ReadAsync(Database, digest);

    /// <summary>
    /// Embeds, with the attached model, the papers of <paramref name="papers"/> that carry no vector and
    /// that no stored paper answers to, without taking the write gate (CPU only; limits are checked
    /// first). <see cref="IngestAsync"/> uses the result; empty when no model is attached.
    /// </summary>
    public EmbeddedTexts EmbedAhead(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest = null)
    {
        var embedder = _embedder;
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (embedder == null) return new EmbeddedTexts("", vectors);
        var texts = PaperIngestor.TextsLikelyToEmbed(Database, papers, digest);
        var made = texts.Count > 0 ? embedder.Embed(texts) : [];
        for (int i = 0; i < texts.Count; i++) vectors[texts[i]] = made[i];
        return new EmbeddedTexts(embedder.ModelId, vectors);
    }

    /// <summary>Deletes a paper (by PaperVec id or any id it was ingested under) and every id that names it; null when there is none.</summary>
    public async Task<PaperRecord?> DeleteAsync(string id)
    {
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return Database.Catalog.ResolveId(id) is long key ? await Database.DeletePaperAsync(key).ConfigureAwait(false) : null;
        }
        finally { _writes.Release(); }
    }

    /// <summary>
    /// Deletes a digest and the papers only it brought, as one durable write (see <see cref="PaperDatabase.DeleteDigestAsync"/>);
    /// <paramref name="libraryPapers"/>: papers libraries held elsewhere name (a cluster shard's). Null when there is no such digest.
    /// </summary>
    public async Task<DigestDeletion?> DeleteDigestAsync(string id, IReadOnlyDictionary<long, string>? libraryPapers)
    {
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return await Database.DeleteDigestAsync(id, libraryPapers).ConfigureAwait(false);
        }
        finally { _writes.Release(); }
    }

    public Task<DigestDeletion?> DeleteDigestAsync(string id) => DeleteDigestAsync(id, null);

    /// <summary>Nearest papers to a unit vector (free-text search, after embedding the text).</summary>
    public List<SearchResult> Search(ReadOnlySpan<float> vector, SearchScope scope) => PaperSearch.Run(Database, vector, scope);

    /// <summary>Free-text search in the query's mode (hybrid by default: BM25 and the embedding fused).</summary>
    public List<SearchResult> Search(SearchQuery query, SearchScope scope) => PaperSearch.Run(Database, query, scope);

    /// <summary>Papers similar to a stored one (itself excluded unless the scope says otherwise); null when there is no such paper.</summary>
    public List<SearchResult>? Similar(long key, SearchScope scope) => PaperSearch.Similar(Database, key, scope);

    // ---- recommendations and readers' libraries ----------------------------------------------

    // The rules (limits, resolving ids, one paper under two ids, digest candidates) are CollectionRules', over this node's reads.

    /// <summary>
    /// Papers for a reader who liked <paramref name="liked"/> and not <paramref name="disliked"/> (ids),
    /// best first (<see cref="Recommender"/>); <paramref name="digestId"/> limits candidates to that
    /// digest's papers. Bad requests (no liked paper, over <see cref="RecommendQuery.MaxIds"/> ids, an
    /// unknown digest) are <see cref="InvalidDataException"/>s, unknown ids <see cref="UnknownPapersException"/>.
    /// </summary>
    public Task<List<SearchResult>> RecommendAsync(IReadOnlyList<string> liked, IReadOnlyList<string> disliked, SearchScope scope,
        string? digestId = null, RecommendStrategy strategy = Recommender.DefaultStrategy) =>
        CollectionRules.RecommendAsync(this, liked, disliked, scope, digestId, strategy);

    /// <summary>Papers ranked for the reader whose library is <paramref name="libraryName"/> (null when there is no such library).</summary>
    public Task<List<SearchResult>?> RecommendForLibraryAsync(string libraryName, SearchScope scope, string? digestId = null) =>
        CollectionRules.RecommendForLibraryAsync(this, libraryName, scope, digestId);

    /// <summary>Every paper of a digest still stored, ordered by a reader's library (its own papers ranked too); null when there is no such library.</summary>
    public Task<List<SearchResult>?> RankDigestAsync(string digestId, string libraryName) => CollectionRules.RankDigestAsync(this, digestId, libraryName);

    Task<long?> ICollectionReads.ResolveAsync(string id) => Task.FromResult(Database.Catalog.ResolveId(id));

    Task<DigestRecord?> ICollectionReads.DigestRecordAsync(string id) => Task.FromResult(Database.Catalog.GetDigest(id));

    Task<ReaderLibrary?> ICollectionReads.StoredLibraryAsync(string name) => Task.FromResult(Database.Catalog.GetLibrary(name));

    IRecommendSource ICollectionReads.RecommendSource() => new StoredPapersSource(Database, LibraryModels);

    /// <summary>A reader's library by name (checked), or null.</summary>
    public ReaderLibrary? Library(string name) => Database.Catalog.GetLibrary(ReaderLibrary.CheckName(name));

    /// <summary>Replaces (or creates) a library with these liked and disliked papers (ids), as one durable write.</summary>
    public Task<ReaderLibrary> PutLibraryAsync(string name, IReadOnlyList<string> liked, IReadOnlyList<string> disliked) =>
        ChangeLibraryAsync(name, liked, disliked, [], replace: true);

    /// <summary>Marks papers liked or disliked, or takes them out, in a library (created when missing), as one durable write.</summary>
    public Task<ReaderLibrary> ChangeLibraryAsync(string name, IReadOnlyList<string> like, IReadOnlyList<string> dislike, IReadOnlyList<string> remove) =>
        ChangeLibraryAsync(name, like, dislike, remove, replace: false);

    /// <summary>Marks papers liked or disliked, or takes them out (with <paramref name="replace"/>: the lists become the library), as one durable write.</summary>
    public async Task<ReaderLibrary> ChangeLibraryAsync(string name, IReadOnlyList<string> like, IReadOnlyList<string> dislike, IReadOnlyList<string> remove, bool replace)
    {
        var change = await CollectionRules.ResolveChangeAsync(this, name, like, dislike, remove, replace).ConfigureAwait(false);
        return await ApplyLibraryChangeAsync(change.Name, change.Like, change.Dislike, change.Remove, change.Replace, change.At).ConfigureAwait(false);
    }

    /// <summary>
    /// A library change by paper keys (resolved by the caller: a cluster resolves ids on every shard,
    /// then each replica of the library's shard applies the same change), as one durable write.
    /// </summary>
    public async Task<ReaderLibrary> ApplyLibraryChangeAsync(string name, IReadOnlyList<long> like, IReadOnlyList<long> dislike, IReadOnlyList<long> remove,
        bool replace, DateTimeOffset at)
    {
        ReaderLibrary.CheckName(name);
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var stored = Database.Catalog.GetLibrary(name);
            // Replacing the lists keeps the subscription and what was mailed: they are not lists of papers.
            var current = replace ? stored is null ? null : stored with { Liked = [], Disliked = [] } : stored;
            var library = (current ?? new ReaderLibrary(name, [], [], at)).With(like, dislike, remove, at);
            await Database.CommitAsync(new WriteBatch().PutLibrary(library)).ConfigureAwait(false);
            return library;
        }
        finally { _writes.Release(); }
    }

    /// <summary>Sets (or, with a null address, ends) a library's e-mail subscription, durably; null when there is no such library.</summary>
    public async Task<ReaderLibrary?> SubscribeAsync(string name, string? email, int top)
    {
        ReaderLibrary.CheckName(name);
        var at = DateTimeOffset.UtcNow;
        var subscription = email == null ? null : LibrarySubscription.Check(email, top, at);
        return await ChangeStoredLibraryAsync(name, l => l with { Subscription = subscription is null ? null : subscription with { Since = l.Subscription?.Since ?? subscription.Since } }).ConfigureAwait(false);
    }

    /// <summary>Records durably that a digest's message for a library was sent (once sent, never again); null when there is no such library.</summary>
    public Task<ReaderLibrary?> MarkMailedAsync(string name, string digestId) =>
        ChangeStoredLibraryAsync(name, l => l.Mailed.Contains(digestId) ? l : l with { Mailed = [.. l.Mailed.Append(digestId).TakeLast(ReaderLibrary.MaxMailed)] });

    async Task<ReaderLibrary?> ChangeStoredLibraryAsync(string name, Func<ReaderLibrary, ReaderLibrary> change)
    {
        ReaderLibrary.CheckName(name);
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Database.Catalog.GetLibrary(name) is not { } current) return null;
            var changed = change(current);
            if (!ReferenceEquals(changed, current)) await Database.CommitAsync(new WriteBatch().PutLibrary(changed)).ConfigureAwait(false);
            return changed;
        }
        finally { _writes.Release(); }
    }

    /// <summary>Deletes a library; false when there was none.</summary>
    public async Task<bool> DeleteLibraryAsync(string name)
    {
        ReaderLibrary.CheckName(name);
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Database.Catalog.GetLibrary(name) == null) return false;
            await Database.CommitAsync(new WriteBatch().DeleteLibrary(name)).ConfigureAwait(false);
            return true;
        }
        finally { _writes.Release(); }
    }

    // ---- the collection interface (IPaperCollection): what every host calls ----------------------

    public string? LexicalDegraded => Database.LexicalDegraded;

    /// <summary>A failing disk makes the collection not ready (writes would be refused) until a commit or checkpoint succeeds again.</summary>
    public CollectionHealth Health => new(Database.StorageProblem is { } problem ? $"storage: {problem}" : null);

    public long? BytesOnDisk() => Database.BytesOnDisk();

    public string Location => Database.Root;

    Task<IngestResult> IPaperCollection.IngestAsync(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest, DateOnly? defaultDate) =>
        IngestAsync(papers, digest, defaultDate);

    async Task<bool> IPaperCollection.DeleteAsync(string id) => await DeleteAsync(id).ConfigureAwait(false) != null;

    public Task<PaperRecord?> FindPaperAsync(string id) => Database.FindPaperAsync(id).AsTask();

    public Task<List<SearchResult>> SearchAsync(SearchQuery query, SearchScope scope) => PaperSearch.RunAsync(new StoredPapersSearch(Database), query, scope);

    /// <summary>
    /// Papers like the one <paramref name="id"/> names: itself, and the papers of <paramref name="excludeDigest"/>,
    /// left out. Everything here comes from memory (id map, index graph, summaries): no store read can stall it.
    /// </summary>
    public async Task<List<SearchResult>?> SimilarAsync(string id, SearchScope scope, string? excludeDigest = null) =>
        Database.Catalog.ResolveId(id) is long key ? Similar(key, await CollectionRules.SimilarScopeAsync(this, scope, key, excludeDigest).ConfigureAwait(false)) : null;

    public Task<List<ReaderLibrary>> LibrariesAsync() => Task.FromResult(Database.Catalog.Libraries());

    public Task<ReaderLibrary?> LibraryAsync(string name) => Task.FromResult(Library(name));

    public Task<List<DigestRecord>> DigestsAsync() => Task.FromResult(Database.Catalog.Digests());

    public async Task<(DigestRecord Digest, List<DigestListing> Listings)?> DigestAsync(string id) =>
        Database.Catalog.GetDigest(id) is { } digest ? (digest, await ListingsOfAsync(digest).ConfigureAwait(false)) : null;

    public Task<List<DuplicateGroup>> DuplicatesAsync(DuplicateScope scope, DuplicateSettings? settings = null)
    {
        if (scope.Digests?.FirstOrDefault(id => Database.Catalog.GetDigest(id) == null) is { } unknown) throw new DigestNotFoundException(unknown, Database.Catalog.Digests());
        // A whole-collection pass: records read without blocking, the grouping on its own thread.
        return new DuplicateFinder(Database, settings).FindAsync(scope);
    }

    /// <summary>Waits for a write in flight, then checkpoints and closes the data directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        await _writes.WaitAsync().ConfigureAwait(false);
        _disposed = true;
        _writes.Release();
        await Database.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary><see cref="DisposeAsync"/> for hosts that cannot await yet (it blocks its thread until the closing checkpoint is written).</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}

/// <summary>Vectors made ahead of an ingest (<see cref="PaperCollection.EmbedAhead"/>), by embedding text, with the model that made them.</summary>
public sealed record EmbeddedTexts(string ModelId, IReadOnlyDictionary<string, float[]> Vectors);
