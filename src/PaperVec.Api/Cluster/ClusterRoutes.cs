using PaperVec.Api.Hosting;
using PaperVec.Cluster.Shards;

namespace PaperVec.Api.Cluster;

/// <summary>One shard's replicas as /ready shows them.</summary>
public sealed record ShardHealth(int Shard, bool Serving, IReadOnlyList<ReplicaStatus> Replicas);

/// <summary>GET /ready of a cluster's server: ready once the model is loaded and every shard has a replica serving reads; each replica's health either way.</summary>
public sealed record ClusterReadyResponse(string Status, int Papers, string? Model, IReadOnlyList<ShardHealth> Shards);

/// <summary>
/// The route `serve --cluster` answers differently from one node: /ready with every shard's replica health.
/// </summary>
public static class ClusterRoutes
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapMethods("/ready", PaperVec.Api.Health.HealthRoutes.GetOrHead, IResult (ServedCluster served) =>
            {
                var health = served.Health;
                var shards = health.Replicas.GroupBy(r => r.Shard).OrderBy(g => g.Key)
                    .Select(g => new ShardHealth(g.Key, g.Any(r => r.Ready), g.OrderBy(r => r.Silo, StringComparer.Ordinal).ToList())).ToList();
                return served.NotReadyReason is { } reason
                    ? TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, detail: $"not ready: {reason}",
                        extensions: new Dictionary<string, object?> { ["shards"] = shards })
                    : TypedResults.Ok(new ClusterReadyResponse("ready", health.Papers, served.Embedder?.ModelId, shards));
            })
            .WithTags("Health")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Model loaded and every shard served by a ready replica; each shard's replicas (ready, papers, note)");
    }
}
