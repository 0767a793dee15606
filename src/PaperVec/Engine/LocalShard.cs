using PaperVec.Duplicates;
using PaperVec.Embedding;
using PaperVec.Ingest;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Engine;

/// <summary>
/// A shard in one data directory (<see cref="PaperDatabase"/>): a node's only shard, and each replica of a
/// cluster's shard (PaperVec.Cluster's grain holds one). Writes run one at a time (an ingest reads what is
/// stored to decide what is new, so two ingests of one paper at once could both take it for new and lose a
/// digest listing); reads and searches run alongside. Identity resolution, limits and versions are
/// <see cref="PaperIngestor"/>'s, inside the write gate. Tooling (stats, compaction, a replica's
/// catch-up) reaches the data directory only through members here.
/// </summary>
public sealed class LocalShard : ICollectionShard
{
    readonly SemaphoreSlim _writes = new(1, 1);
    volatile Embedder? _embedder;
    bool _disposed;

    /// <summary>The storage below: the engine's own rooms and its tests use it; hosts and tooling go through members here.</summary>
    internal PaperDatabase Database { get; }

    LocalShard(PaperDatabase database) => Database = database;

    /// <summary>Opens (and recovers) a data directory; see <see cref="PaperDatabase.OpenAsync"/>.</summary>
    public static async Task<LocalShard> OpenAsync(string? path, PaperDatabaseOptions? options = null) =>
        new(await PaperDatabase.OpenAsync(path, options).ConfigureAwait(false));

    public int PaperCount => Database.PaperCount;
    public string? LexicalDegraded => Database.LexicalDegraded;
    /// <summary>A failing disk makes the shard not ready (writes would be refused) until a commit or checkpoint succeeds again.</summary>
    public string? Problem => Database.StorageProblem is { } problem ? $"storage: {problem}" : null;
    public long? BytesOnDisk() => Database.BytesOnDisk();

    /// <summary>The data directory.</summary>
    public string Root => Database.Root;

    /// <summary>The model of the stored vectors, or null before any.</summary>
    public string? ModelId => Database.ModelId;

    /// <summary>The vectors' dimension.</summary>
    public int Dimension => Database.Dimension;

    /// <summary>What opening the data directory found and did.</summary>
    public RecoveryReport Recovery => Database.Recovery;

    /// <summary>The attached model (null until <see cref="AttachModelAsync"/>).</summary>
    public Embedder? Embedder => _embedder;

    /// <summary>Papers, digests, bytes on disk and index size, and whether the index holds exactly the store's papers (a full scan).</summary>
    public StorageStats StorageStats()
    {
        bool consistent = Database.IndexMatchesStore(out string problem);
        return new StorageStats(Database.Root, Database.Stats(), Database.Recovery, consistent, problem);
    }

    /// <summary>Whether a paper of this key is stored (from memory).</summary>
    public bool Holds(long key) => Database.Catalog.Summary(key) != null;

    /// <summary>Every stored paper, whole (a full read: a replica's listing for catching up, tooling).</summary>
    public List<PaperRecord> Papers() => Database.Papers();

    /// <summary>Every digest record held (from memory).</summary>
    public List<DigestRecord> Digests() => Database.Catalog.Digests();

    /// <summary>Every library held (from memory).</summary>
    public List<ReaderLibrary> Libraries() => Database.Catalog.Libraries();

    /// <summary>The key a stored paper an incoming one is would have here, by the ingest's own first look (source id, then title or a retitle), else its title's key.</summary>
    public long StoredKeyOf(string? sourceId, string title)
    {
        long titleKey = PaperIdentity.KeyOfTitle(title);
        return (sourceId is { } sid ? Database.Catalog.KeyOfSourceId(sid) : null) ?? Database.Catalog.KeyOfTitle(titleKey) ?? titleKey;
    }

    async Task<T> WriteAsync<T>(Func<Task<T>> write)
    {
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return await write().ConfigureAwait(false);
        }
        finally { _writes.Release(); }
    }

    /// <summary>Reclaims disk from overwritten and deleted records, then checkpoints; returns the bytes of store log reclaimed.</summary>
    public Task<long> CompactAsync() => WriteAsync(Database.CompactAsync);

    /// <summary>
    /// Makes <paramref name="embedder"/> the model of this shard: papers embedded by another model are
    /// re-embedded first (a write, so ingests wait), then new papers use it. Returns how many papers were re-embedded.
    /// </summary>
    public Task<int> AttachModelAsync(Embedder embedder, Action<int, int>? progress = null) => WriteAsync(async () =>
    {
        int count = Database.ModelId == embedder.ModelId || Database.PaperCount == 0 ? 0
            : await ModelChangeReembedder.ReembedAsync(Database, embedder, progress).ConfigureAwait(false);
        _embedder = embedder;
        return count;
    });

    public Task<IReadOnlyList<string>> TextsToEmbedAsync(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest) =>
        Task.FromResult<IReadOnlyList<string>>(PaperIngestor.TextsLikelyToEmbed(Database, papers, digest));

    /// <summary>
    /// Ingests papers as one durable write. Papers without a vector take the coordinator's vectors made
    /// ahead, or are embedded here with the attached model (a revised text). Vectors of another dimension are refused.
    /// </summary>
    public Task<IngestResult> IngestAsync(ShardIngest write)
    {
        CheckDimensions(write.Papers);
        var needsModel = write.Papers.Any(p => p.Vector == null);
        return WriteAsync(() =>
        {
            // A model attached since (a re-embed ran) makes early vectors stale: the plan then embeds afresh.
            var current = needsModel ? _embedder : null;
            return new PaperIngestor(Database, current) { Embedded = write.Embedded?.ModelId == current?.ModelId ? write.Embedded?.Vectors : null }
                .IngestAsync(write.Papers, write.Digest, write.DefaultDate);
        });
    }

    /// <summary>
    /// Ingests papers whose vectors another process made with model <paramref name="modelId"/> (a cluster
    /// replica: the cluster's client embeds, shards store and search). The shard takes that model as its own
    /// when it has none, and refuses another model's vectors, so no search mixes two models.
    /// </summary>
    public Task<IngestResult> IngestEmbeddedAsync(IReadOnlyList<IncomingPaper> papers, string modelId, DateOnly? defaultDate = null,
        PaperIngestor.DigestInfo? digest = null)
    {
        if (papers.Any(p => p.Vector == null)) throw new InvalidDataException("papers written with their model id must carry vectors");
        CheckDimensions(papers);
        return WriteAsync(async () =>
        {
            await TakeModelAsync(modelId).ConfigureAwait(false);
            return await new PaperIngestor(Database, null, modelId).IngestAsync(papers, digest, defaultDate).ConfigureAwait(false);
        });
    }

    void CheckDimensions(IReadOnlyList<IncomingPaper> papers)
    {
        foreach (var paper in papers)
            if (paper.Vector is { } v && v.Length != Database.Dimension)
                throw new InvalidDataException($"record '{paper.Title}' has a {v.Length}-d vector; this collection holds {Database.Dimension}-d vectors");
    }

    /// <summary>Records <paramref name="modelId"/> as the vectors' model when the shard is empty; refuses another model's vectors.</summary>
    async Task TakeModelAsync(string modelId)
    {
        string? held = Database.ModelId;
        if (held == modelId) return;
        if (held != null && Database.PaperCount > 0)
            throw new InvalidDataException($"these vectors are of model {modelId}; this collection holds model {held}'s");
        await Database.CommitAsync(new WriteBatch().PutModelId(modelId)).ConfigureAwait(false);
    }

    public Task PutDigestAsync(DigestRecord manifest) => WriteAsync(async () =>
    {
        await Database.CommitAsync(new WriteBatch().PutDigest(manifest)).ConfigureAwait(false);
        return true;
    });

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
        await WriteAsync(async () =>
        {
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
            return true;
        }).ConfigureAwait(false);
    }

    /// <summary>Deletes a paper by key and every id that names it; the deleted record, or null when there was none.</summary>
    public Task<PaperRecord?> DeletePaperAsync(long key) => WriteAsync(() => Database.DeletePaperAsync(key).AsTask());

    /// <summary>Deletes a digest and the papers only it brought, as one durable write (see <see cref="PaperDatabase.DeleteDigestAsync"/>); null when there is no such digest.</summary>
    public Task<DigestDeletion?> DeleteDigestAsync(string id, IReadOnlyDictionary<long, string>? libraryPapers) =>
        WriteAsync(() => Database.DeleteDigestAsync(id, libraryPapers).AsTask());

    Task<DigestDeletion?> ICollectionShard.DeleteDigestAsync(string id, IReadOnlyDictionary<long, string>? libraryPapers, DateTimeOffset at) => DeleteDigestAsync(id, libraryPapers);

    async Task<bool> ICollectionShard.DeleteAsync(long key) => await DeletePaperAsync(key).ConfigureAwait(false) != null;

    public Task<ReaderLibrary> ApplyLibraryChangeAsync(LibraryChange change)
    {
        ReaderLibrary.CheckName(change.Name);
        return WriteAsync(async () =>
        {
            var stored = Database.Catalog.GetLibrary(change.Name);
            // Replacing the lists keeps the subscription and what was mailed: they are not lists of papers.
            var current = change.Replace ? stored is null ? null : stored with { Liked = [], Disliked = [] } : stored;
            var library = (current ?? new ReaderLibrary(change.Name, [], [], change.At)).With(change.Like, change.Dislike, change.Remove, change.At);
            await Database.CommitAsync(new WriteBatch().PutLibrary(library)).ConfigureAwait(false);
            return library;
        });
    }

    public Task<ReaderLibrary?> SubscribeAsync(string name, LibrarySubscription? subscription, DateTimeOffset at) =>
        ChangeStoredLibraryAsync(name, l => l.Subscribed(subscription, at));

    public Task<ReaderLibrary?> MarkMailedAsync(string name, string digestId, DateTimeOffset at) =>
        ChangeStoredLibraryAsync(name, l => l.WithMailed(digestId, at));

    /// <summary>Changes a stored library's record other than its lists (its subscription, what was mailed), durably; null when there is no such library.</summary>
    public Task<ReaderLibrary?> ChangeStoredLibraryAsync(string name, Func<ReaderLibrary, ReaderLibrary> change)
    {
        ReaderLibrary.CheckName(name);
        return WriteAsync(async () =>
        {
            if (Database.Catalog.GetLibrary(name) is not { } current) return null;
            var changed = change(current);
            if (!ReferenceEquals(changed, current)) await Database.CommitAsync(new WriteBatch().PutLibrary(changed)).ConfigureAwait(false);
            return (ReaderLibrary?)changed;
        });
    }

    public Task<bool> DeleteLibraryAsync(string name)
    {
        ReaderLibrary.CheckName(name);
        return WriteAsync(async () =>
        {
            if (Database.Catalog.GetLibrary(name) == null) return false;
            await Database.CommitAsync(new WriteBatch().DeleteLibrary(name)).ConfigureAwait(false);
            return true;
        });
    }

    // ---- reads ----

    public Task<KnownKeys> KnownKeysAsync(string[] sourceIds, long[] titleKeys) => Task.FromResult(new KnownKeys(
        sourceIds.Select(id => Database.Catalog.KeyOfSourceId(id) ?? 0).ToArray(),
        titleKeys.Select(k => Database.Catalog.KeyOfTitle(k) ?? 0).ToArray()));

    public Task<long?> ResolveAsync(string id) => Task.FromResult(Database.Catalog.ResolveId(id));

    public Task<PaperRecord?> FindPaperAsync(string id) => Database.FindPaperAsync(id).AsTask();

    public async Task<List<PaperRecord>> RecordsAsync(long[] keys)
    {
        var papers = new List<PaperRecord>(keys.Length);
        foreach (long key in keys)
            if (await Database.GetPaperAsync(key).ConfigureAwait(false) is { } record) papers.Add(record);
        return papers;
    }

    public Task<List<PaperVector>> VectorsAsync(long[] keys)
    {
        var vectors = new List<PaperVector>(keys.Length);
        foreach (long key in keys)
        {
            var vector = new float[Database.Dimension];
            if (Database.Catalog.Summary(key) is { } paper && Database.TryReadVector(key, vector)) vectors.Add(new PaperVector(key, paper.Title, vector));
        }
        return Task.FromResult(vectors);
    }

    public Task<List<ShardSearchHit>> RankingAsync(SearchQuery query, SearchMode ranking, SearchScope scope, int depth)
    {
        var ranked = PaperSearch.Ranking(Database, query, ranking, scope, depth);
        var terms = query.Text.Length > 0 ? PaperSearch.QueryTerms(Database, query.Text) : null;
        var hits = new List<ShardSearchHit>(ranked.Count);
        foreach (var (key, score) in ranked)
            if (Database.Catalog.Summary(key) is { } paper) // deleted between the index hit and the read
                hits.Add(ShardSearchHit.Of(paper, score, terms == null ? null : PaperSearch.MatchedWords(Database, paper, terms)));
        return Task.FromResult(hits);
    }

    public Task<DigestRecord?> DigestRecordAsync(string id) => Task.FromResult(Database.Catalog.GetDigest(id));

    public Task<List<DigestRecord>> DigestRecordsAsync() => Task.FromResult(Database.Catalog.Digests());

    public async Task<List<DigestListing>> DigestListingsAsync(string id) =>
        Database.Catalog.GetDigest(id) is { } digest ? await DigestListing.ReadAsync(Database, digest).ConfigureAwait(false) : [];

    public Task<ReaderLibrary?> LibraryAsync(string name) => Task.FromResult(Database.Catalog.GetLibrary(ReaderLibrary.CheckName(name)));

    public Task<List<ReaderLibrary>> LibrariesAsync() => Task.FromResult(Database.Catalog.Libraries());

    public async Task<List<ShardRecommendation>> RecommendAsync(LibraryModel model, SearchMode ranking, IReadOnlyList<(string Term, float Weight)>? profile,
        IReadOnlyCollection<long>? candidates, SearchScope scope, int depth)
    {
        var source = new StoredPapersSource(Database);
        var ranked = ranking == SearchMode.Lexical
            ? await source.SearchTermsAsync(model, profile ?? [], candidates, scope, depth).ConfigureAwait(false)
            : await source.RankAsync(model, candidates, scope, depth).ConfigureAwait(false);
        var hits = new List<ShardRecommendation>(ranked.Count);
        var vector = new float[Database.Dimension];
        foreach (var (key, score) in ranked)
        {
            if (Database.Catalog.Summary(key) is not { } paper || !Database.TryReadVector(key, vector)) continue;
            var because = model.Closest(key, vector);
            hits.Add(new ShardRecommendation(ShardSearchHit.Of(paper, score), because.Select(b => b.Key).ToArray(), because.Select(b => b.Similarity).ToArray()));
        }
        return hits;
    }

    public Task<List<long>> SampleAsync(int count, int seed, IReadOnlySet<long> excluded) => Task.FromResult(Database.Catalog.SampleKeys(count, seed, excluded).ToList());

    public Task<List<IReadOnlyList<string>>> TermsOfAsync(IReadOnlyList<long> keys) => new StoredPapersSource(Database).TermsOfAsync(keys);

    public async Task<(int[] DocFreqs, int Docs)> DocFreqsAsync(IReadOnlyList<string> terms)
    {
        var (docFreqs, docs) = await new StoredPapersSource(Database).DocFreqsAsync(terms.ToList()).ConfigureAwait(false);
        return (terms.Select(t => docFreqs[t]).ToArray(), docs);
    }

    public Task<List<DuplicateCandidates>> DuplicateCandidatesAsync(long[] keys, float[][] vectors, long[] listed) => Task.Run(() =>
    {
        var finder = new DuplicateFinder(Database);
        var listedSet = listed.ToHashSet();
        var found = new DuplicateCandidates[keys.Length];
        Parallel.For(0, keys.Length, i =>
        {
            var candidates = finder.Candidates(keys[i], vectors[i], listedSet.Contains);
            found[i] = new DuplicateCandidates(keys[i], candidates.Select(c => c.Key).ToArray(), candidates.Select(c => c.Cosine).ToArray());
        });
        return found.ToList();
    });

    // ---- the whole collection's answers when this is its only shard (a node): nothing to merge ----

    /// <summary>This shard as a search source: rankings from its indexes, results shaped from memory (only the top k).</summary>
    internal ISearchSource SearchSource() => new StoredPapersSearch(Database);

    /// <summary>This shard as a recommendation source.</summary>
    internal IRecommendSource RecommendSource(LibraryModelCache? models = null) => new StoredPapersSource(Database, models);

    /// <summary>Papers like a stored one, from its own graph node (<see cref="PaperSearch.Similar"/>).</summary>
    internal List<SearchResult>? Similar(long key, SearchScope scope) => PaperSearch.Similar(Database, key, scope);

    /// <summary>Duplicate groups over this shard alone: records read without blocking, the grouping on its own thread.</summary>
    internal Task<List<DuplicateGroup>> DuplicatesAsync(DuplicateScope scope, DuplicateSettings? settings) => new DuplicateFinder(Database, settings).FindAsync(scope);

    /// <summary>Embeds, with the attached model, the texts this shard needs for an ingest, without taking the write gate.</summary>
    internal EmbeddedTexts EmbedAhead(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest)
    {
        var embedder = _embedder;
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (embedder == null) return new EmbeddedTexts("", vectors);
        var texts = PaperIngestor.TextsLikelyToEmbed(Database, papers, digest);
        var made = texts.Count > 0 ? embedder.Embed(texts) : [];
        for (int i = 0; i < texts.Count; i++) vectors[texts[i]] = made[i];
        return new EmbeddedTexts(embedder.ModelId, vectors);
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
}
