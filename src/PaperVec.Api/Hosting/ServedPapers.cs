using PaperVec.Api.Embedding;
using PaperVec.Api.Metrics;
using PaperVec.Embedding;
using PaperVec.Engine;

namespace PaperVec.Api.Hosting;

/// <summary>
/// What the routes serve: the engine's collection (<see cref="IPaperCollection"/>: one node's data
/// directory, or a cluster's client that the command line's host connected), and the host's own
/// concerns beside it: the model, loaded in the background so /health answers while /ready waits for
/// it, the query batcher and the metrics. The routes parse, check their syntax, call the collection
/// and shape; every engine rule is behind the interface, so `serve` and `serve --cluster` answer alike.
/// </summary>
public sealed class ServedPapers : IHostedService, IAsyncDisposable, IDisposable
{
    readonly ServerOptions _options;
    readonly Func<CancellationToken, Task<IPaperCollection>>? _connect;
    volatile IPaperCollection? _collection;
    ServedModel? _model;
    int _disposed;

    public ServerMetrics Metrics { get; }

    /// <summary>A collection opened before the server is built (one node's: a data directory held by another process fails start-up at once).</summary>
    public ServedPapers(IPaperCollection collection, ServerOptions options, ServerMetrics metrics)
    {
        _options = options;
        Metrics = metrics;
        Attach(collection);
    }

    /// <summary>A collection connected when the host starts (a cluster's client, once the host's cluster client has started).</summary>
    public ServedPapers(Func<CancellationToken, Task<IPaperCollection>> connect, ServerOptions options, ServerMetrics metrics)
    {
        _options = options;
        Metrics = metrics;
        _connect = connect;
    }

    void Attach(IPaperCollection collection)
    {
        _collection = collection;
        Metrics.Observe(collection);
        _model = new ServedModel(_options, Metrics, async embedder =>
        {
            // One node re-makes another model's vectors before this model's queries meet them.
            int count = await collection.AttachModelAsync(embedder).ConfigureAwait(false);
            if (count > 0) _options.Log?.Invoke($"re-embedded {count} papers made by another model");
        });
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_connect != null && _collection == null) Attach(await _connect(cancellationToken).ConfigureAwait(false));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The collection (set before the server listens: hosted services start first).</summary>
    public IPaperCollection Collection => _collection ?? throw new InvalidOperationException("the collection is not connected yet");

    /// <summary>Waits for the model (start-up prints once it is in); rethrows why it could not load.</summary>
    public Task WhenModelLoaded => _model?.WhenLoaded ?? Task.CompletedTask;

    /// <summary>The embedder, or null while it loads (or when loading failed: see <see cref="NotReadyReason"/>).</summary>
    public Embedder? Embedder => _model?.Embedder;

    /// <summary>Embeds search queries; null while the model loads (see <see cref="NotReadyReason"/>).</summary>
    public QueryEmbeddingBatcher? Queries => _model?.Queries;

    /// <summary>Null when the model is loaded and the collection serves (its disk takes writes; every shard has a ready replica); else why not.</summary>
    public string? NotReadyReason => _model == null ? "the model is still loading" : _model.NotReadyReason ?? _collection?.Health.Problem;

    public int PaperCount => Collection.PaperCount;

    /// <summary>
    /// After the server has drained its requests: stops the query batcher, then closes the collection
    /// (one node waits for a write still running, then checkpoints).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _model?.Dispose();
        if (_collection is not { } collection) return;
        int papers = collection.PaperCount;
        await collection.DisposeAsync().ConfigureAwait(false);
        // One node's data directory is checkpointed at close; a failing disk closes without one (the collection said why): do not claim one.
        if (collection.Health is { Replicas: null } health && _options.Log is { } log)
            log(health.Problem == null ? $"checkpoint written; {papers} papers in {collection.Location}"
                : $"closed without a checkpoint; {papers} papers in {collection.Location} (the next start replays the write-ahead log)");
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
