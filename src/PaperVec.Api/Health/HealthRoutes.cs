using PaperVec.Api.Hosting;
using PaperVec.Engine;

namespace PaperVec.Api.Health;

public sealed record ReadyResponse(string Status, int Papers, string? Model)
{
    /// <summary>What answers incompletely while the server is otherwise ready (the lexical index being rebuilt), or null.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Degraded { get; init; }
}

/// <summary>One shard's replicas as a cluster's /ready shows them.</summary>
public sealed record ShardHealth(int Shard, bool Serving, IReadOnlyList<ReplicaHealth> Replicas);

/// <summary>GET /ready of a cluster's server: ready once the model is loaded and every shard has a replica serving reads; each replica's health either way.</summary>
public sealed record ClusterReadyResponse(string Status, int Papers, string? Model, IReadOnlyList<ShardHealth> Shards);

/// <summary>
/// GET /health (the process answers) and GET /ready: the model loaded and the collection serving
/// (one node: store recovered, index in step with it, disk taking writes; a cluster: every shard
/// served by a ready replica, each replica's health shown).
/// </summary>
public static class HealthRoutes
{
    /// <summary>Probes answer HEAD as GET (Kestrel sends no body): load balancers and `curl -I` use it.</summary>
    public static readonly string[] GetOrHead = [HttpMethods.Get, HttpMethods.Head];

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapMethods("/health", GetOrHead, () => TypedResults.Ok(new { status = "alive" })).WithTags("Health").WithSummary("The process is up");
        app.MapMethods("/ready", GetOrHead, IResult (ServedPapers served) =>
            {
                var collection = served.Collection;
                var health = collection.Health;
                if (health.Replicas is not { } replicas)
                    return served.NotReadyReason is { } reason
                        ? TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, detail: $"not ready: {reason}")
                        : TypedResults.Ok(new ReadyResponse("ready", collection.PaperCount, served.Embedder?.ModelId) { Degraded = collection.LexicalDegraded });
                var shards = replicas.GroupBy(r => r.Shard).OrderBy(g => g.Key)
                    .Select(g => new ShardHealth(g.Key, g.Any(r => r.Ready), g.OrderBy(r => r.Silo, StringComparer.Ordinal).ToList())).ToList();
                return served.NotReadyReason is { } why
                    ? TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, detail: $"not ready: {why}",
                        extensions: new Dictionary<string, object?> { ["shards"] = shards })
                    : TypedResults.Ok(new ClusterReadyResponse("ready", collection.PaperCount, served.Embedder?.ModelId, shards));
            })
            .WithTags("Health")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Model loaded and the collection serving: one node's store recovered, index in step and disk taking writes; a cluster's shards each served by a ready replica (each replica's health shown)");
    }
}
