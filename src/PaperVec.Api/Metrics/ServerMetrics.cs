using System.Diagnostics.Metrics;
using PaperVec.Ingest;
using PaperVec.Engine;

namespace PaperVec.Api.Metrics;

/// <summary>
/// PaperVec's own instruments, on the Meter named <see cref="MeterName"/>: query-embedding batch
/// sizes and queue time, papers and digests ingested, and (observed at scrape time) index papers
/// and store bytes. Requests, their duration and those in flight are ASP.NET Core's own
/// (http.server.request.duration and http.server.active_requests on Microsoft.AspNetCore.Hosting),
/// so they are not counted here again. GET /metrics exports both in Prometheus text
/// (<see cref="MetricsRoutes"/>); instrument names and units give the Prometheus names, e.g.
/// papervec.embed.queue in seconds is papervec_embed_queue_seconds.
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "PaperVec";

    readonly Meter _meter;
    readonly Histogram<int> _batchSize;
    readonly Histogram<double> _queueSeconds;
    readonly Counter<long> _ingested;
    readonly Counter<long> _digests;

    public ServerMetrics()
    {
        _meter = new Meter(MeterName, typeof(ServerMetrics).Assembly.GetName().Version?.ToString());
        _batchSize = _meter.CreateHistogram("papervec.embed.batch_size", unit: "{query}",
            description: "Search queries embedded together in one call of the model.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128] });
        _queueSeconds = _meter.CreateHistogram("papervec.embed.queue", unit: "s",
            description: "Time a search query waited for its embedding batch to start.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 1] });
        _ingested = _meter.CreateCounter<long>("papervec.ingested_papers", unit: "{paper}",
            description: "Papers ingested since start, by what they were: new, seen exactly, revised, or a retitled copy of a stored paper.");
        _digests = _meter.CreateCounter<long>("papervec.digests_ingested", unit: "{digest}", description: "Digests ingested since start.");
    }

    /// <summary>
    /// Adds the gauges read from <paramref name="collection"/> at each scrape: papers held; for one
    /// node the store's bytes and the lexical rebuild; for a cluster, from the latest poll of its
    /// replicas, each replica's readiness (1 or 0) and papers, labelled by shard and silo.
    /// </summary>
    public void Observe(IPaperCollection collection)
    {
        if (collection.Health.Replicas == null)
        {
            _meter.CreateObservableGauge("papervec.index.papers", () => (long)collection.PaperCount, unit: "{paper}",
                description: "Papers in the vector index (equal to the papers stored).");
            _meter.CreateObservableGauge("papervec.store", () => collection.BytesOnDisk() ?? 0, unit: "By", description: "Bytes of the data directory on disk.");
            _meter.CreateObservableGauge("papervec.lexical.degraded", () => collection.LexicalDegraded == null ? 0 : 1,
                description: "1 while the lexical index is being rebuilt from the store (lexical answers 503, hybrid by meaning alone), else 0.");
            return;
        }
        static KeyValuePair<string, object?>[] Labels(ReplicaHealth r) => [new("shard", r.Shard), new("silo", r.Silo)];
        _meter.CreateObservableGauge("papervec.cluster.replica.ready", () => (collection.Health.Replicas ?? []).Select(r => new Measurement<int>(r.Ready ? 1 : 0, Labels(r))),
            unit: "{replica}", description: "1 when a shard replica serves reads (caught up with its peers), else 0.");
        _meter.CreateObservableGauge("papervec.cluster.replica.papers", () => (collection.Health.Replicas ?? []).Select(r => new Measurement<long>(r.Papers, Labels(r))),
            unit: "{paper}", description: "Papers a shard replica holds.");
        _meter.CreateObservableGauge("papervec.index.papers", () => (long)collection.PaperCount, unit: "{paper}",
            description: "Papers in the cluster (per shard, its fullest ready replica).");
    }

    public void RecordEmbedBatch(int size, IEnumerable<TimeSpan> waits)
    {
        _batchSize.Record(size);
        foreach (var wait in waits) _queueSeconds.Record(wait.TotalSeconds);
    }

    public void RecordIngest(IngestResult result)
    {
        foreach (var (status, count) in new[] { ("new", result.New), ("exact", result.SeenExact), ("revised", result.Revised), ("retitled", result.Retitled) })
            _ingested.Add(count, new KeyValuePair<string, object?>("status", status));
        if (result.DigestId != null) _digests.Add(1);
    }

    public void Dispose() => _meter.Dispose();
}
