using System.Runtime.CompilerServices;
using PaperVec.Cluster.Shards;
using PaperVec.Embedding;
using PaperVec.Engine;
using PaperVec.Ingest;
using PaperVec.Storage;

namespace PaperVec.Cluster;

/// <summary>What a cluster ingest did, as one node's ingest reports it, and how many replica writes acknowledged it.</summary>
public sealed record ClusterIngestResult(IngestResult Result, int ReplicaWrites);

/// <summary>
/// The cluster's collection on the client side: the engine's coordinator (<see cref="CollectionCoordinator"/>:
/// embedding, routing, merging, every rule one node has) over one <see cref="ReplicatedShard"/> per shard, plus
/// what only a cluster has: its layout and every replica's health, polled.
/// </summary>
public sealed class ClusterCollection : CollectionCoordinator
{
    /// <summary>How long a replica that failed a call is passed over by reads.</summary>
    public static readonly TimeSpan SuspectFor = ReplicatedShard.SuspectFor;

    readonly ClusterLink _link;
    readonly CancellationTokenSource _stopping = new();
    Task? _polling;

    public ClusterLayout Layout => _link.Layout;

    public ClusterCollection(IGrainFactory grains, ClusterLayout layout, Embedder? embedder = null) : this(new ClusterLink(grains, layout, embedder)) { }

    ClusterCollection(ClusterLink link)
        : base(Enumerable.Range(0, link.Layout.Shards).Select(s => (ICollectionShard)new ReplicatedShard(link, s)).ToList(), link.Layout.Routing(), link.Embedder) =>
        _link = link;

    public static async Task<ClusterCollection> ConnectAsync(IGrainFactory grains, Embedder? embedder = null) =>
        new(grains, await grains.GetGrain<IClusterInfo>(0).LayoutAsync().ConfigureAwait(false), embedder);

    /// <summary>Makes <paramref name="embedder"/> the model that embeds papers written without vectors (a server loads it after connecting); nothing is re-embedded.</summary>
    public void AttachModel(Embedder embedder) => AttachModelAsync(embedder).GetAwaiter().GetResult(); // completes at once: shards store vectors

    /// <summary>The model id written with the vectors: the client's model, or "supplied" when the records carry their own vectors.</summary>
    public string ModelId => _link.ModelId;

    /// <summary>
    /// Ingests papers (records, or a digest's when <paramref name="digest"/> is given) through the coordinator,
    /// with how many replica writes acknowledged it.
    /// </summary>
    public async Task<ClusterIngestResult> IngestAsync(IReadOnlyList<IncomingPaper> papers, DateOnly? defaultDate = null, PaperIngestor.DigestInfo? digest = null)
    {
        var count = new StrongBox<int>();
        _link.ReplicaWrites.Value = count;
        var result = await IngestAsync(papers, digest, defaultDate, embedded: null).ConfigureAwait(false);
        return new ClusterIngestResult(result, count.Value);
    }

    /// <summary>A stored paper, with its vector, by PaperVec id (its shard) or source id (every shard); null when none.</summary>
    public Task<PaperRecord?> FindAsync(string id) => FindPaperAsync(id);

    // ---- health ----

    /// <summary>The latest poll of every replica (<see cref="StartHealthPolling"/>).</summary>
    public ClusterHealth LastHealth => _link.Health;

    /// <summary>Every replica's health, the unreachable ones included (not ready, with the reason).</summary>
    public async Task<List<ReplicaStatus>> StatusAsync()
    {
        var calls = new List<(int Shard, int Silo, Task<ReplicaStatus> Call)>();
        for (int shard = 0; shard < Layout.Shards; shard++)
            foreach (int silo in Layout.SilosOf(shard))
                calls.Add((shard, silo, _link.Replica(shard, silo).StatusAsync().WaitAsync(TimeSpan.FromSeconds(3))));
        try { await Task.WhenAll(calls.Select(c => c.Call)).ConfigureAwait(false); } catch { }
        return calls.Select(c => c.Call.IsCompletedSuccessfully ? c.Call.Result : new ReplicaStatus
        {
            Shard = c.Shard, Silo = ClusterLayout.SiloName(c.Silo), Ready = false, Papers = 0,
            Note = $"unreachable: {c.Call.Exception?.GetBaseException().Message ?? "timed out"}",
        }).ToList();
    }

    /// <summary>
    /// Polls every replica's health now and then every <paramref name="every"/>, so /ready and /metrics read
    /// the latest poll instead of waiting on a dead silo's timeout. Stopped by <see cref="DisposeAsync"/>.
    /// </summary>
    public async Task StartHealthPolling(TimeSpan every, Action<string>? log = null)
    {
        _link.Health = ClusterHealth.Of(Layout, await StatusAsync().ConfigureAwait(false));
        _polling = Task.Run(async () =>
        {
            while (!_stopping.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(every, _stopping.Token).ConfigureAwait(false);
                    _link.Health = ClusterHealth.Of(Layout, await StatusAsync().ConfigureAwait(false));
                }
                catch (OperationCanceledException) { return; }
                catch (Exception e) { log?.Invoke($"cluster health poll failed: {e.GetBaseException().Message}"); }
            }
        }, CancellationToken.None);
    }

    public override int PaperCount => _link.Health.Papers;

    public override CollectionHealth Health => new(_link.Health.Problem, _link.Health.Replicas.Select(r => new ReplicaHealth(r.Shard, r.Silo, r.Ready, r.Papers, r.ModelId, r.Note)
    {
        InSync = r.InSync, InSyncEpoch = r.InSyncEpoch,
    }).ToList());

    public override long? BytesOnDisk() => null;

    public override string Location => $"a cluster of {Layout.Shards} shards x {Layout.Replicas} replicas on {Layout.Silos} silos";

    public override async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested) return;
        _stopping.Cancel();
        if (_polling != null) await _polling.ConfigureAwait(false);
        _stopping.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
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
            var down = Enumerable.Range(0, Shards).Select(ProblemOf).OfType<string>().ToList();
            return down.Count == 0 ? null : string.Join("; ", down);
        }
    }

    /// <summary>Why no replica serves shard <paramref name="shard"/> (each replica's reason: unreachable, or waiting for a peer that may hold newer writes), or null.</summary>
    public string? ProblemOf(int shard)
    {
        if (Shards == 0) return "the cluster's replicas have not been polled yet";
        return Replicas.Any(r => r.Shard == shard && r.Ready) ? null : $"no replica serves shard {shard} ("
            + string.Join("; ", Replicas.Where(r => r.Shard == shard).OrderBy(r => r.Silo, StringComparer.Ordinal).Select(r => $"{r.Silo}: {r.Note ?? "not ready"}")) + ")";
    }
}
