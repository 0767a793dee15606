using PaperVec.Api.Embedding;
using PaperVec.Api.Metrics;
using PaperVec.Cluster;
using PaperVec.Cluster.Shards;
using PaperVec.Api.Http;
using PaperVec.Digests;
using PaperVec.Embedding;
using PaperVec.Engine;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Api.Hosting;

/// <summary>
/// What `papervec serve --cluster` serves: the cluster's client side (<see cref="ClusterCollection"/>,
/// connected once the host's Orleans client has started), the model (loaded in the background, as
/// one node's server does: it embeds queries and the papers written without vectors), the query
/// batcher and the metrics. The replicas' health is polled every <see cref="HealthEvery"/>, for
/// /ready and /metrics, so neither waits on a dead silo's timeout.
/// </summary>
public sealed class ServedCluster(IClusterClient client, ServerOptions options, ServerMetrics metrics) : IServedPapers, IHostedService, IDisposable
{
    static readonly TimeSpan HealthEvery = TimeSpan.FromSeconds(2);

    readonly CancellationTokenSource _stopping = new();
    ServedModel? _model;
    Task? _polling;
    volatile ClusterCollection? _cluster;
    volatile ClusterHealth _health = ClusterHealth.Unknown;
    int _disposed;

    public ServerMetrics Metrics { get; } = metrics;

    /// <summary>The cluster's client side (set before the server listens: hosted services start first).</summary>
    public ClusterCollection Cluster => _cluster ?? throw new InvalidOperationException("not connected to the cluster");

    /// <summary>The latest poll of every replica.</summary>
    public ClusterHealth Health => _health;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var cluster = await ClusterCollection.ConnectAsync(client).ConfigureAwait(false);
        _cluster = cluster;
        _health = ClusterHealth.Of(cluster.Layout, await cluster.StatusAsync().ConfigureAwait(false));
        Metrics.Observe(() => _health);
        _model = new ServedModel(options, Metrics, embedder =>
        {
            cluster.AttachModel(embedder);
            return Task.CompletedTask;
        });
        _polling = Task.Run(PollAsync, CancellationToken.None);
    }

    async Task PollAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(HealthEvery, _stopping.Token).ConfigureAwait(false);
                _health = ClusterHealth.Of(Cluster.Layout, await Cluster.StatusAsync().ConfigureAwait(false));
            }
            catch (OperationCanceledException) { return; }
            catch (Exception e) { options.Log?.Invoke($"cluster health poll failed: {e.GetBaseException().Message}"); }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return _polling ?? Task.CompletedTask;
    }

    /// <summary>Waits for the model; rethrows why it could not load.</summary>
    public Task WhenModelLoaded => _model?.WhenLoaded ?? Task.CompletedTask;

    public Embedder? Embedder => _model?.Embedder;

    public QueryEmbeddingBatcher? Queries => _model?.Queries;

    /// <summary>Null when the model is loaded and every shard has a replica serving reads; else why not.</summary>
    public string? NotReadyReason => _model == null ? "the model is still loading" : _model.NotReadyReason ?? _health.Problem;

    // ---- what the shared routes call (IServedPapers) -------------------------------------------

    public int PaperCount => _health.Papers;

    public Task<List<SearchResult>> SearchAsync(SearchQuery query, SearchScope scope) => Cluster.SearchAsync(query, scope);

    public async Task<List<SearchResult>?> SimilarAsync(string id, SearchScope scope, string? excludeDigest)
    {
        if (!string.IsNullOrEmpty(excludeDigest))
        {
            var digest = await Cluster.DigestAsync(excludeDigest).ConfigureAwait(false) ?? throw new DigestNotFoundException(excludeDigest, await Cluster.DigestsAsync().ConfigureAwait(false));
            scope = scope with { Exclude = new HashSet<long>([.. scope.Exclude, .. digest.Digest.PaperKeys]) };
        }
        return await Cluster.SimilarAsync(id, scope).ConfigureAwait(false);
    }

    public async Task<PaperRecord?> FindPaperAsync(string id) => (await Cluster.FindAsync(id).ConfigureAwait(false))?.ToRecord();

    public Task<bool> DeleteAsync(string id) => Cluster.DeleteAsync(id);

    public async Task<IngestResult> IngestAsync(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest)
    {
        if (papers.Any(p => p.Vector == null) && Embedder == null) throw new ModelNotReadyException(NotReadyReason ?? "the model is not loaded");
        return (await Cluster.IngestAsync(papers, digest?.Date, digest).ConfigureAwait(false)).Result;
    }

    public Task<List<DigestRecord>> DigestsAsync() => Cluster.DigestsAsync();

    public Task<(DigestRecord Digest, List<DigestListing> Listings)?> DigestAsync(string id) => Cluster.DigestAsync(id);

    public Task<List<SearchResult>> RecommendAsync(IReadOnlyList<string> liked, IReadOnlyList<string> disliked, SearchScope scope, string? digestId) =>
        Cluster.RecommendAsync(liked, disliked, scope, digestId);

    public Task<List<SearchResult>?> RecommendForLibraryAsync(string library, SearchScope scope, string? digestId) => Cluster.RecommendForLibraryAsync(library, scope, digestId);

    public Task<List<ReaderLibrary>> LibrariesAsync() => Cluster.LibrariesAsync();

    public Task<ReaderLibrary?> LibraryAsync(string name) => Cluster.LibraryAsync(name);

    public Task<ReaderLibrary> ChangeLibraryAsync(string name, IReadOnlyList<string> like, IReadOnlyList<string> dislike, IReadOnlyList<string> remove, bool replace) =>
        Cluster.ChangeLibraryAsync(name, like, dislike, remove, replace);

    public Task<bool> DeleteLibraryAsync(string name) => Cluster.DeleteLibraryAsync(name);

    public Task<List<PaperVec.Duplicates.DuplicateGroup>> DuplicatesAsync(PaperVec.Duplicates.DuplicateScope scope) => Cluster.DuplicatesAsync(scope);

    public Task<List<SearchResult>?> RankDigestAsync(string digestId, string library) => Cluster.RankDigestAsync(digestId, library);

    /// <summary>Once (the container disposes it through each service it is registered as).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stopping.Cancel();
        _model?.Dispose();
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
