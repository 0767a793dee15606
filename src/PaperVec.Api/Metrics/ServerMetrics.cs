using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using PaperVec.Digests;
using PaperVec.Storage;

namespace PaperVec.Api.Metrics;

/// <summary>
/// What GET /metrics reports: requests and latency per route, query-embedding batch sizes and queue
/// time, papers ingested; and, read at scrape time, index size and store bytes.
/// </summary>
public sealed class ServerMetrics
{
    static readonly double[] LatencyBounds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    static readonly double[] BatchBounds = [1, 2, 4, 8, 16, 32, 64, 128];
    static readonly double[] QueueBounds = [0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 1];

    readonly ConcurrentDictionary<(string Route, string Method, int Status), StrongBox<long>> _requests = new();
    readonly ConcurrentDictionary<string, Histogram> _latency = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, StrongBox<long>> _ingested = new(StringComparer.Ordinal);
    long _digestsIngested;
    long _inFlight;

    public Histogram EmbedBatchSize { get; } = new(BatchBounds);
    public Histogram EmbedQueueSeconds { get; } = new(QueueBounds);

    public void RequestStarted() => Interlocked.Increment(ref _inFlight);

    public void RecordRequest(string route, string method, int status, double seconds)
    {
        Interlocked.Decrement(ref _inFlight);
        Interlocked.Increment(ref _requests.GetOrAdd((route, method, status), _ => new StrongBox<long>()).Value);
        _latency.GetOrAdd(route, _ => new Histogram(LatencyBounds)).Observe(seconds);
    }

    public void RecordIngest(IngestResult result)
    {
        foreach (var (status, count) in new[] { ("new", result.New), ("exact", result.SeenExact), ("revised", result.Revised), ("retitled", result.Retitled) })
            Interlocked.Add(ref _ingested.GetOrAdd(status, _ => new StrongBox<long>()).Value, count);
        if (result.DigestId != null) Interlocked.Increment(ref _digestsIngested);
    }

    public string Exposition(PaperDatabase database)
    {
        var text = new StringBuilder();
        PrometheusText.Header(text, "papervec_http_requests_total", "counter", "HTTP requests answered, by route pattern, method and status code.");
        foreach (var ((route, method, status), count) in _requests.OrderBy(r => r.Key))
            PrometheusText.Sample(text, "papervec_http_requests_total",
                PrometheusText.Label("route", route) + PrometheusText.Label("method", method) + PrometheusText.Label("status", status.ToString()), Interlocked.Read(ref count.Value));

        PrometheusText.Header(text, "papervec_http_request_duration_seconds", "histogram", "Time to answer an HTTP request, by route pattern.");
        foreach (var (route, histogram) in _latency.OrderBy(r => r.Key, StringComparer.Ordinal))
            histogram.WriteTo(text, "papervec_http_request_duration_seconds", PrometheusText.Label("route", route));

        PrometheusText.Header(text, "papervec_http_requests_in_flight", "gauge", "HTTP requests being answered now (this one included).");
        PrometheusText.Sample(text, "papervec_http_requests_in_flight", "", Interlocked.Read(ref _inFlight));

        PrometheusText.Header(text, "papervec_embed_batch_size", "histogram", "Search queries embedded together in one call of the model.");
        EmbedBatchSize.WriteTo(text, "papervec_embed_batch_size", "");
        PrometheusText.Header(text, "papervec_embed_queue_seconds", "histogram", "Time a search query waited for its embedding batch to start.");
        EmbedQueueSeconds.WriteTo(text, "papervec_embed_queue_seconds", "");

        PrometheusText.Header(text, "papervec_ingested_papers_total", "counter", "Papers ingested since start, by what they were: new, seen exactly, revised, or a retitled copy of a stored paper.");
        foreach (var status in new[] { "new", "exact", "revised", "retitled" })
            PrometheusText.Sample(text, "papervec_ingested_papers_total", PrometheusText.Label("status", status),
                _ingested.TryGetValue(status, out var n) ? Interlocked.Read(ref n.Value) : 0);
        PrometheusText.Header(text, "papervec_digests_ingested_total", "counter", "Digests ingested since start.");
        PrometheusText.Sample(text, "papervec_digests_ingested_total", "", Interlocked.Read(ref _digestsIngested));

        PrometheusText.Header(text, "papervec_index_papers", "gauge", "Papers in the vector index (equal to the papers stored).");
        PrometheusText.Sample(text, "papervec_index_papers", "", database.PaperCount);
        PrometheusText.Header(text, "papervec_store_bytes", "gauge", "Bytes of the data directory on disk.");
        PrometheusText.Sample(text, "papervec_store_bytes", "", database.BytesOnDisk());
        return text.ToString();
    }
}
