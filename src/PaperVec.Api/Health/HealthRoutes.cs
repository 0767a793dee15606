using PaperVec.Api.Hosting;

namespace PaperVec.Api.Health;

public sealed record ReadyResponse(string Status, int Papers, string? Model)
{
    /// <summary>What answers incompletely while the server is otherwise ready (the lexical index being rebuilt), or null.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Degraded { get; init; }
}

/// <summary>GET /health (the process answers) and GET /ready (model loaded, store recovered, index in step with it, disk taking writes).</summary>
public static class HealthRoutes
{
    /// <summary>Probes answer HEAD as GET (Kestrel sends no body): load balancers and `curl -I` use it.</summary>
    public static readonly string[] GetOrHead = [HttpMethods.Get, HttpMethods.Head];

    /// <summary>GET /health, which one node and a cluster's server answer alike.</summary>
    public static void MapAlive(IEndpointRouteBuilder app) =>
        app.MapMethods("/health", GetOrHead, () => TypedResults.Ok(new { status = "alive" })).WithTags("Health").WithSummary("The process is up");

    public static void Map(IEndpointRouteBuilder app)
    {
        MapAlive(app);
        app.MapMethods("/ready", GetOrHead, IResult (ServedCollection library) =>
                (library.NotReadyReason ?? StorageReason(library)) is { } reason
                    ? TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, detail: $"not ready: {reason}")
                    : TypedResults.Ok(new ReadyResponse("ready", library.Database.PaperCount, library.Embedder?.ModelId) { Degraded = library.Database.LexicalDegraded }))
            .WithTags("Health")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Model loaded, store recovered and index in step with the store, and the disk taking writes");
    }

    /// <summary>A failing disk makes the server not ready (writes would be refused) until a commit or checkpoint succeeds again.</summary>
    static string? StorageReason(ServedCollection library) => library.Database.StorageProblem is { } problem ? $"storage: {problem}" : null;
}
