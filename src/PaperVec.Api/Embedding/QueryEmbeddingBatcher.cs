using System.Collections.Concurrent;
using System.Diagnostics;
using PaperVec.Embedding;

namespace PaperVec.Api.Embedding;

/// <summary>
/// Embeds search queries from concurrent requests together. A lone query costs one forward pass
/// of the model, most of it fixed overhead; many short queries in one call share that overhead and
/// keep every core busy (the embedder splits a call into parallel batches). One thread takes the
/// first waiting query, gathers more until the batch is full or the window since that first query
/// has passed, embeds them in one call, and answers each caller; queries that arrive meanwhile form
/// the next batch, so under load batches fill without waiting.
/// </summary>
public sealed class QueryEmbeddingBatcher : IDisposable
{
    sealed record Pending(string Text, long EnqueuedAt, TaskCompletionSource<float[]> Answer);

    readonly Embedder _embedder;
    readonly int _maxBatch;
    readonly TimeSpan _window;
    readonly Action<int, IReadOnlyList<TimeSpan>>? _observe;
    readonly BlockingCollection<Pending> _queue = new();
    readonly Thread _worker;

    /// <param name="observe">Told each batch's size and how long each of its queries waited.</param>
    public QueryEmbeddingBatcher(Embedder embedder, int maxBatch, TimeSpan window, Action<int, IReadOnlyList<TimeSpan>>? observe = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _embedder = embedder;
        _maxBatch = maxBatch;
        _window = window;
        _observe = observe;
        _worker = new Thread(Run) { IsBackground = true, Name = "papervec-query-batcher" };
        _worker.Start();
    }

    public Task<float[]> EmbedAsync(string text)
    {
        var pending = new Pending(text, Stopwatch.GetTimestamp(), new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously));
        try { _queue.Add(pending); }
        catch (InvalidOperationException) { throw new ObjectDisposedException(nameof(QueryEmbeddingBatcher)); }
        return pending.Answer.Task;
    }

    void Run()
    {
        var batch = new List<Pending>(_maxBatch);
        foreach (var first in _queue.GetConsumingEnumerable())
        {
            batch.Clear();
            batch.Add(first);
            while (batch.Count < _maxBatch)
            {
                var left = _window - Stopwatch.GetElapsedTime(first.EnqueuedAt);
                if (_queue.TryTake(out var next)) batch.Add(next);
                else if (left <= TimeSpan.Zero || !_queue.TryTake(out next, left)) break;
                else batch.Add(next);
            }
            long started = Stopwatch.GetTimestamp();
            _observe?.Invoke(batch.Count, batch.Select(p => Stopwatch.GetElapsedTime(p.EnqueuedAt, started)).ToList());
            try
            {
                var vectors = _embedder.Embed(batch.Select(p => p.Text).ToList());
                for (int i = 0; i < batch.Count; i++) batch[i].Answer.TrySetResult(vectors[i]);
            }
            catch (Exception e)
            {
                foreach (var p in batch) p.Answer.TrySetException(e);
            }
        }
    }

    /// <summary>Embeds what is queued, then stops the thread; later calls fail.</summary>
    public void Dispose()
    {
        _queue.CompleteAdding();
        _worker.Join();
        _queue.Dispose();
    }
}
