using PaperVec.Api.Embedding;
using PaperVec.Api.Hosting;
using PaperVec.Api.Metrics;
using PaperVec.Digests;
using PaperVec.Embedding;
using PaperVec.Storage;

namespace PaperVec.Api.Library;

/// <summary>
/// The server's one owner of the data directory and the model. The database opens (and recovers)
/// before the server listens, so a data directory held by another process fails start-up at once;
/// the model loads in the background, so /health answers while /ready waits for it.
///
/// Concurrency: reads (papers, digests, searches) run concurrently, the database and index allow
/// it. Writes run one at a time: an ingest reads what is stored to decide what is new, so two
/// ingests of the same paper at once could both take it for new and one digest listing would be lost.
/// </summary>
public sealed class PaperLibrary : IDisposable
{
    readonly SemaphoreSlim _writes = new(1, 1);
    readonly Task<(Embedder Embedder, QueryEmbeddingBatcher Queries)> _model;
    readonly Action<string>? _log;
    bool _disposed;

    public PaperDatabase Database { get; }
    public ServerMetrics Metrics { get; }

    PaperLibrary(PaperDatabase database, ServerOptions options, ServerMetrics metrics)
    {
        Database = database;
        Metrics = metrics;
        _log = options.Log;
        _model = Task.Run(() => LoadModel(options));
    }

    public static PaperLibrary Open(ServerOptions options, ServerMetrics metrics)
    {
        var database = PaperDatabase.Open(options.DataPath, new PaperDatabaseOptions
        {
            CheckpointAfterWalBytes = Math.Max(1, (long)options.CheckpointAfterWalMegabytes << 20),
            Log = options.Log,
        });
        return new PaperLibrary(database, options, metrics);
    }

    (Embedder, QueryEmbeddingBatcher) LoadModel(ServerOptions options)
    {
        // Lone queries on all cores: a search's latency is mostly its query's forward pass.
        var embedder = Embedder.Load(new EmbedderOptions { ModelDirectory = options.ModelDirectory, AllCoresForSingleBatches = true });
        // Vectors of another model must be re-made before this model's queries meet them.
        if (Database.ModelId != embedder.ModelId && Database.PaperCount > 0)
        {
            _writes.Wait();
            try
            {
                int count = ModelChangeReembedder.Reembed(Database, embedder);
                if (count > 0) _log?.Invoke($"re-embedded {count} papers made by another model");
            }
            finally { _writes.Release(); }
        }
        var queries = new QueryEmbeddingBatcher(embedder, options.MaxQueryBatch, options.QueryBatchWindow, Metrics.RecordEmbedBatch);
        return (embedder, queries);
    }

    /// <summary>Waits for the model (start-up prints once it is in); rethrows why it could not load.</summary>
    public Task WhenModelLoaded => _model;

    /// <summary>The embedder, or null while it loads (or when loading failed: see <see cref="NotReadyReason"/>).</summary>
    public Embedder? Embedder => _model.IsCompletedSuccessfully ? _model.Result.Embedder : null;

    public QueryEmbeddingBatcher? Queries => _model.IsCompletedSuccessfully ? _model.Result.Queries : null;

    /// <summary>
    /// Null when the model is loaded; else why not. The store is recovered and the index in step with
    /// it once the database is open: recovery checks the index against the store and rebuilds it when
    /// they differ, and every write applies to both.
    /// </summary>
    public string? NotReadyReason =>
        _model.IsFaulted ? $"the model failed to load: {_model.Exception!.InnerException?.Message}"
        : !_model.IsCompletedSuccessfully ? "the model is still loading"
        : null;

    /// <summary>Runs a write alone (see the class comment); reads go on meanwhile.</summary>
    public async Task<T> WriteAsync<T>(Func<Task<T>> write, CancellationToken cancel = default)
    {
        await _writes.WaitAsync(cancel).ConfigureAwait(false);
        try { return await write().ConfigureAwait(false); }
        finally { _writes.Release(); }
    }

    /// <summary>
    /// After the server has drained its requests: stops the query batcher, waits for a write still
    /// running, then checkpoints and closes the database (the next start replays nothing).
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try { _model.Wait(); } catch (AggregateException) { } // loading failed: nothing to release
        if (_model.IsCompletedSuccessfully)
        {
            _model.Result.Queries.Dispose();
            _model.Result.Embedder.Dispose();
        }
        _writes.Wait();
        int papers = Database.PaperCount;
        Database.Dispose();
        _log?.Invoke($"checkpoint written; {papers} papers in {Database.Root}");
    }
}
