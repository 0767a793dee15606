using PaperVec.Cluster.Shards;
using PaperVec.Ingest;
using PaperVec.Duplicates;
using PaperVec.Engine;
using PaperVec.Storage;

namespace PaperVec.Cluster;

/// <summary>The cluster as the engine's collection interface (<see cref="IPaperCollection"/>): what `serve --cluster` hands the HTTP host.</summary>
public sealed partial class ClusterCollection
{
    readonly CancellationTokenSource _stopping = new();
    Task? _polling;
    volatile ClusterHealth _health = ClusterHealth.Unknown;

    /// <summary>The latest poll of every replica (<see cref="StartHealthPolling"/>).</summary>
    public ClusterHealth LastHealth => _health;

    /// <summary>
    /// Polls every replica's health now and then every <paramref name="every"/>, so /ready and /metrics read
    /// the latest poll instead of waiting on a dead silo's timeout. Stopped by <see cref="DisposeAsync"/>.
    /// </summary>
    public async Task StartHealthPolling(TimeSpan every, Action<string>? log = null)
    {
        _health = ClusterHealth.Of(Layout, await StatusAsync().ConfigureAwait(false));
        _polling = Task.Run(async () =>
        {
            while (!_stopping.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(every, _stopping.Token).ConfigureAwait(false);
                    _health = ClusterHealth.Of(Layout, await StatusAsync().ConfigureAwait(false));
                }
                catch (OperationCanceledException) { return; }
                catch (Exception e) { log?.Invoke($"cluster health poll failed: {e.GetBaseException().Message}"); }
            }
        }, CancellationToken.None);
    }

    public int PaperCount => _health.Papers;

    /// <summary>Each shard answers lexically or refuses; the client holds no lexical index of its own.</summary>
    public string? LexicalDegraded => null;

    public CollectionHealth Health => new(_health.Problem, _health.Replicas.Select(r => new ReplicaHealth(r.Shard, r.Silo, r.Ready, r.Papers, r.ModelId, r.Note)
    {
        InSync = r.InSync, InSyncEpoch = r.InSyncEpoch,
    }).ToList());

    public long? BytesOnDisk() => null;

    public string Location => $"a cluster of {Layout.Shards} shards x {Layout.Replicas} replicas on {Layout.Silos} silos";

    async Task<IngestResult> IPaperCollection.IngestAsync(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest, DateOnly? defaultDate)
    {
        if (papers.Any(p => p.Vector == null) && _embedder == null) throw new ModelNotReadyException("the model is not loaded, and these papers carry no vectors");
        return (await IngestAsync(papers, defaultDate ?? digest?.Date, digest).ConfigureAwait(false)).Result;
    }

    public async Task<PaperRecord?> FindPaperAsync(string id) => (await FindAsync(id).ConfigureAwait(false))?.ToRecord();

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested) return;
        _stopping.Cancel();
        if (_polling != null) await _polling.ConfigureAwait(false);
        _stopping.Dispose();
    }
}

/// <summary>Every replica's health as last polled, by shard; <see cref="Problem"/> names a shard no replica serves.</summary>
public sealed record ClusterHealth(IReadOnlyList<ReplicaStatus> Replicas, int Shards)
{
    public static readonly ClusterHealth Unknown = new([], 0);

    public static ClusterHealth Of(ClusterLayout layout, IReadOnlyList<ReplicaStatus> replicas) => new(replicas, layout.Shards);

    /// <summary>Papers in the cluster: per shard, what its fullest ready replica holds.</summary>
    public int Papers => Replicas.Where(r => r.Ready).GroupBy(r => r.Shard).Sum(g => g.Max(r => r.Papers));

    public string? Problem
    {
        get
        {
            if (Shards == 0) return "the cluster's replicas have not been polled yet";
            var down = Enumerable.Range(0, Shards).Where(s => !Replicas.Any(r => r.Shard == s && r.Ready)).ToList();
            // Each down shard with its replicas' reasons (unreachable, or waiting for a peer that may hold newer writes).
            return down.Count == 0 ? null : string.Join("; ", down.Select(s => $"no replica serves shard {s} ("
                + string.Join("; ", Replicas.Where(r => r.Shard == s).OrderBy(r => r.Silo, StringComparer.Ordinal).Select(r => $"{r.Silo}: {r.Note ?? "not ready"}")) + ")"));
        }
    }
}
