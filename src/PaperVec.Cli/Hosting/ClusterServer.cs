using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using PaperVec.Api.Hosting;
using PaperVec.Cluster;
using PaperVec.Cluster.Hosting;
using PaperVec.Api;

namespace PaperVec.Cli.Hosting;

/// <summary>How to reach a cluster's silos: through its membership store, or (development clustering) gateway ports on loopback, one per silo.</summary>
public sealed record ClusterConnection(ClusterEndpoints Endpoints, int Silos, ClusterMembership? Membership = null, ClusterCertificate? Certificate = null);

/// <summary>
/// `papervec serve --cluster`: the HTTP host (which knows only the engine's collection interface)
/// over the cluster's collection. This host adds the Orleans client, which starts before Kestrel
/// listens, connects the cluster's collection, and polls the replicas' health every
/// <see cref="HealthEvery"/> so /ready and /metrics never wait on a dead silo's timeout.
/// </summary>
public static class ClusterServer
{
    static readonly TimeSpan HealthEvery = TimeSpan.FromSeconds(2);

    /// <param name="configure">Changes to the builder before it is built (tests put a TestServer in Kestrel's place).</param>
    public static Task<WebApplication> CreateAsync(ServerOptions options, ClusterConnection cluster, Action<WebApplicationBuilder>? configure = null) =>
        PaperVecServer.CreateAsync(options, async (services, _) =>
        {
            var collection = await ClusterCollection.ConnectAsync(services.GetRequiredService<IClusterClient>()).ConfigureAwait(false);
            await collection.StartHealthPolling(HealthEvery, options.Log).ConfigureAwait(false);
            return collection;
        }, builder =>
        {
            configure?.Invoke(builder);
            try { ClusterClientHost.AddClusterClient(builder, cluster.Endpoints, cluster.Silos, cluster.Membership, cluster.Certificate); }
            catch (ShardUnavailableException e) { throw new ServerStartException(e.Message); }
        });
}
