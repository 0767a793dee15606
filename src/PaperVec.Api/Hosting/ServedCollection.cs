using PaperVec.Api.Embedding;
using PaperVec.Api.Hosting;
using PaperVec.Api.Metrics;
using PaperVec.Digests;
using PaperVec.Embedding;
using PaperVec.Engine;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Api.Hosting;

/// <summary>
/// The collection `papervec serve` serves, with what serving it needs besides. What the server holds: the engine's <see cref="PaperCollection"/> (opened and recovered before
/// the server listens, so a data directory held by another process fails start-up at once), the
/// model, loaded in the background so /health answers while /ready waits for it, the query
/// batcher and the metrics. Engine rules (write ordering, re-embedding) live in the collection.
/// </summary>
public sealed class ServedCollection : IServedPapers, IDisposable
{
    readonly ServedModel _model;
    readonly Action<string>? _log;
    bool _disposed;

    public PaperCollection Collection { get; }
    /// <summary>The collection's storage, for reads.</summary>
    public PaperDatabase Database => Collection.Database;
    public ServerMetrics Metrics { get; }

    ServedCollection(PaperCollection collection, ServerOptions options, ServerMetrics metrics)
    {
        Collection = collection;
        Metrics = metrics;
        _log = options.Log;
        // Vectors of another model are re-made before this model's queries meet them.
        _model = new ServedModel(options, metrics, async embedder =>
        {
            int count = await Collection.AttachModelAsync(embedder).ConfigureAwait(false);
            if (count > 0) _log?.Invoke($"re-embedded {count} papers made by another model");
        });
    }

    public static ServedCollection Open(ServerOptions options, ServerMetrics metrics)
    {
        var collection = PaperCollection.Open(options.DataPath, options.Storage with
        {
            CheckpointAfterWalBytes = Math.Max(1, (long)options.CheckpointAfterWalMegabytes << 20),
            StoreMemoryBytes = options.StoreMemoryBytes,
            Log = options.Log,
            // The server opens at once and serves meaning-based answers while a damaged lexical index is rebuilt.
            RebuildLexicalInBackground = true,
            RebuildProgress = options.RebuildProgress,
        });
        return new ServedCollection(collection, options, metrics);
    }

    /// <summary>Waits for the model (start-up prints once it is in); rethrows why it could not load.</summary>
    public Task WhenModelLoaded => _model.WhenLoaded;

    /// <summary>The embedder, or null while it loads (or when loading failed: see <see cref="NotReadyReason"/>).</summary>
    public Embedder? Embedder => _model.Embedder;

    public QueryEmbeddingBatcher? Queries => _model.Queries;

    /// <summary>
    /// Null when the model is loaded; else why not. The store is recovered and the index in step with
    /// it once the database is open: recovery checks the index against the store and rebuilds it when
    /// they differ, and every write applies to both.
    /// </summary>
    public string? NotReadyReason => _model.NotReadyReason;

    // ---- what the shared routes call (IServedPapers) -------------------------------------------

    public int PaperCount => Database.PaperCount;

    public string? LexicalDegraded => Database.LexicalDegraded;

    public Task<List<SearchResult>> SearchAsync(SearchQuery query, SearchScope scope) => Task.FromResult(Collection.Search(query, scope));

    public Task<List<SearchResult>?> SimilarAsync(string id, SearchScope scope, string? excludeDigest)
    {
        // Everything here comes from memory (id map, index graph, summaries): no store read can stall it.
        if (Database.Catalog.ResolveId(id) is not long key) return Task.FromResult<List<SearchResult>?>(null);
        var exclude = new HashSet<long>(scope.Exclude) { key };
        if (!string.IsNullOrEmpty(excludeDigest))
            exclude.UnionWith((Database.Catalog.GetDigest(excludeDigest) ?? throw new DigestNotFoundException(excludeDigest, Database.Catalog.Digests())).PaperKeys);
        return Task.FromResult(Collection.Similar(key, scope with { Exclude = exclude }));
    }

    public Task<PaperRecord?> FindPaperAsync(string id) => Database.FindPaperAsync(id).AsTask();

    public async Task<bool> DeleteAsync(string id) => await Collection.DeleteAsync(id).ConfigureAwait(false) != null;

    public Task<IngestResult> IngestAsync(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest) => Collection.IngestAsync(papers, digest);

    public Task<List<DigestRecord>> DigestsAsync() => Task.FromResult(Database.Catalog.Digests());

    public async Task<(DigestRecord Digest, List<DigestListing> Listings)?> DigestAsync(string id) =>
        Database.Catalog.GetDigest(id) is { } digest ? (digest, await Collection.ListingsOfAsync(digest).ConfigureAwait(false)) : null;

    public Task<List<SearchResult>> RecommendAsync(IReadOnlyList<string> liked, IReadOnlyList<string> disliked, SearchScope scope, string? digestId) =>
        Collection.RecommendAsync(liked, disliked, scope, digestId);

    public Task<List<SearchResult>?> RecommendForLibraryAsync(string library, SearchScope scope, string? digestId) =>
        Collection.RecommendForLibraryAsync(library, scope, digestId);

    public Task<List<PaperVec.Duplicates.DuplicateGroup>> DuplicatesAsync(PaperVec.Duplicates.DuplicateScope scope)
    {
        if (scope.Digests?.FirstOrDefault(id => Database.Catalog.GetDigest(id) == null) is { } unknown) throw new DigestNotFoundException(unknown, Database.Catalog.Digests());
        // A whole-collection pass: records read without blocking, the grouping on its own thread.
        return new PaperVec.Duplicates.DuplicateFinder(Database).FindAsync(scope);
    }

    public Task<List<ReaderLibrary>> LibrariesAsync() => Task.FromResult(Database.Catalog.Libraries());

    public Task<ReaderLibrary?> LibraryAsync(string name) => Task.FromResult(Collection.Library(name));

    public Task<ReaderLibrary> ChangeLibraryAsync(string name, IReadOnlyList<string> like, IReadOnlyList<string> dislike, IReadOnlyList<string> remove, bool replace) =>
        replace ? Collection.PutLibraryAsync(name, like, dislike) : Collection.ChangeLibraryAsync(name, like, dislike, remove);

    public Task<bool> DeleteLibraryAsync(string name) => Collection.DeleteLibraryAsync(name);

    public Task<List<SearchResult>?> RankDigestAsync(string digestId, string library) => Collection.RankDigestAsync(digestId, library);

    /// <summary>
    /// After the server has drained its requests: stops the query batcher, waits for a write still
    /// running, then checkpoints and closes the database (the next start replays nothing).
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _model.Dispose();
        int papers = Database.PaperCount;
        Collection.Dispose(); // waits for a write still running
        // A failing disk closes without a checkpoint (the database said why): do not claim one.
        _log?.Invoke(Database.StorageProblem == null ? $"checkpoint written; {papers} papers in {Database.Root}"
            : $"closed without a checkpoint; {papers} papers in {Database.Root} (the next start replays the write-ahead log)");
    }
}
