using PaperVec.Api.Embedding;
using PaperVec.Api.Metrics;
using PaperVec.Embedding;

namespace PaperVec.Api.Hosting;

/// <summary>
/// The model a server loads in the background, so /health answers while /ready waits for it: the
/// embedder, attached to what it serves by that host's own rule (one node re-embeds papers of
/// another model first; a cluster's client embeds for the shards), and the query batcher.
/// </summary>
public sealed class ServedModel : IDisposable
{
    readonly Task<(Embedder Embedder, QueryEmbeddingBatcher Queries)> _loading;

    public ServedModel(ServerOptions options, ServerMetrics metrics, Func<Embedder, Task> attach) =>
        _loading = Task.Run(async () =>
        {
            // Lone queries on all cores: a search's latency is mostly its query's forward pass.
            var embedder = Embedder.Load(new EmbedderOptions { ModelDirectory = options.ModelDirectory, Precision = options.Precision, AllCoresForSingleBatches = true });
            await attach(embedder).ConfigureAwait(false);
            return (embedder, new QueryEmbeddingBatcher(embedder, options.MaxQueryBatch, options.QueryBatchWindow, metrics.RecordEmbedBatch));
        });

    /// <summary>Waits for the model (start-up prints once it is in); rethrows why it could not load.</summary>
    public Task WhenLoaded => _loading;

    /// <summary>The embedder, or null while it loads (or when loading failed: see <see cref="NotReadyReason"/>).</summary>
    public Embedder? Embedder => _loading.IsCompletedSuccessfully ? _loading.Result.Embedder : null;

    public QueryEmbeddingBatcher? Queries => _loading.IsCompletedSuccessfully ? _loading.Result.Queries : null;

    /// <summary>Null when the model is loaded; else why not.</summary>
    public string? NotReadyReason =>
        _loading.IsFaulted ? $"the model failed to load: {_loading.Exception!.InnerException?.Message}"
        : !_loading.IsCompletedSuccessfully ? "the model is still loading"
        : null;

    /// <summary>Waits for loading to end, then stops the query batcher and releases the model.</summary>
    public void Dispose()
    {
        try { _loading.Wait(); } catch (AggregateException) { } // loading failed: nothing to release
        if (!_loading.IsCompletedSuccessfully) return;
        _loading.Result.Queries.Dispose();
        _loading.Result.Embedder.Dispose();
    }
}
