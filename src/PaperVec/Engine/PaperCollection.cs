using PaperVec.Digests;
using PaperVec.Embedding;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Engine;

/// <summary>The model is not loaded (yet), and the request needs it (HTTP 503).</summary>
public sealed class ModelNotReadyException(string message) : InvalidOperationException(message);

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
public sealed class PaperCollection : IDisposable
{
    readonly SemaphoreSlim _writes = new(1, 1);
    volatile Embedder? _embedder;
    bool _disposed;

    /// <summary>The storage below: reads, stats and tooling (benchmarks, evaluation) use it directly.</summary>
    public PaperDatabase Database { get; }

    /// <summary>The attached model (null until <see cref="AttachModelAsync"/>): embeds new papers.</summary>
    public Embedder? Embedder => _embedder;

    PaperCollection(PaperDatabase database) => Database = database;

    public static PaperCollection Open(string? path, PaperDatabaseOptions? options = null) => new(PaperDatabase.Open(path, options));

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
    public async Task<IngestResult> IngestAsync(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest = null, DateOnly? defaultDate = null)
    {
        foreach (var paper in papers)
            if (paper.Vector is { } v && v.Length != Database.Dimension)
                throw new InvalidDataException($"record '{paper.Title}' has a {v.Length}-d vector; this collection holds {Database.Dimension}-d vectors");
        var embedder = papers.All(p => p.Vector != null) ? null
            : _embedder ?? throw new ModelNotReadyException("the model is not loaded, and these papers carry no vectors");
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return await new PaperIngestor(Database, embedder).IngestAsync(papers, digest, defaultDate).ConfigureAwait(false);
        }
        finally { _writes.Release(); }
    }

    /// <summary>Deletes a paper (by PaperVec id or any id it was ingested under) and every id that names it; null when there is none.</summary>
    public async Task<PaperRecord?> DeleteAsync(string id)
    {
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return Database.ResolveId(id) is long key ? await Database.DeletePaperAsync(key).ConfigureAwait(false) : null;
        }
        finally { _writes.Release(); }
    }

    /// <summary>Nearest papers to a unit vector (free-text search, after embedding the text).</summary>
    public List<SearchResult> Search(ReadOnlySpan<float> vector, SearchScope scope) => PaperSearch.Run(Database, vector, scope);

    /// <summary>Free-text search in the query's mode (hybrid by default: BM25 and the embedding fused).</summary>
    public List<SearchResult> Search(SearchQuery query, SearchScope scope) => PaperSearch.Run(Database, query, scope);

    /// <summary>Papers similar to a stored one (itself excluded unless the scope says otherwise); null when there is no such paper.</summary>
    public List<SearchResult>? Similar(long key, SearchScope scope) => PaperSearch.Similar(Database, key, scope);

    /// <summary>Waits for a write in flight, then checkpoints and closes the data directory.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _writes.Wait();
        _disposed = true;
        _writes.Release();
        Database.Dispose();
    }
}
