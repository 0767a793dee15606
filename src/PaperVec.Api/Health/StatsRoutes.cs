using PaperVec.Api.Hosting;
using PaperVec.Api.Http;
using PaperVec.Engine;

namespace PaperVec.Api.Health;

/// <summary>GET /stats: what `papervec stats` prints (one node's data directory), so the command line can print it while this server holds the directory.</summary>
public static class StatsRoutes
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/stats", (ServedPapers served) =>
                served.Collection is PaperCollection node
                    ? TypedResults.Ok(node.StorageStats())
                    : throw ApiProblemException.NotFound("a cluster's server has no one data directory: run `papervec stats` on a silo's directory"))
            .WithTags("Health")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("The data directory's papers, digests, bytes on disk, index size and last recovery (as `papervec stats --json`, with the directory and the index check)");
    }
}
