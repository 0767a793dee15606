using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using PaperVec.Cluster.Shards;

namespace PaperVec.Cluster.Hosting;

/// <summary>Builds one silo process: its replicas, their placement, failure detection tuned for seconds, not minutes.</summary>
public static class SiloHost
{
    /// <param name="certificate">The cluster's certificate: mutual TLS on the silo and gateway ports. Required when the silo listens beyond loopback.</param>
    public static IHost Build(ClusterSiloOptions options, ClusterEndpoints endpoints, ClusterMembership? membership = null, LogLevel logLevel = LogLevel.Warning,
        ClusterCertificate? certificate = null)
    {
        membership ??= ClusterMembership.Development;
        bool beyondLoopback = membership.RedisConfiguration != null && !System.Net.IPAddress.IsLoopback(options.Address);
        // Orleans' ports take grain calls from anyone who connects: never open them to a network without a key.
        if (beyondLoopback && certificate == null)
            throw new InvalidOperationException($"silo address {options.Address} listens beyond loopback: its silo and gateway ports need the cluster's certificate (--tls-cert FILE)");
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(logLevel);
        builder.Logging.AddFilter("PaperVec", LogLevel.Information);
        // Placement retries a replica whose silo is down (expected while a silo restarts): not a warning.
        builder.Logging.AddFilter("Polly", LogLevel.None);
        builder.UseOrleans(silo =>
        {
            if (membership.RedisConfiguration is { } redis)
            {
                silo.UseRedisClustering(redis);
                silo.Configure<ClusterOptions>(o => (o.ServiceId, o.ClusterId) = (ClusterEndpoints.ServiceId, ClusterEndpoints.ClusterId));
                // Other machines reach this silo at the address it advertises; it listens on every interface.
                silo.ConfigureEndpoints(options.Address, endpoints.SiloPort(options.SiloIndex), endpoints.GatewayPort(options.SiloIndex),
                    listenOnAnyHostAddress: beyondLoopback);
            }
            else
                silo.UseLocalhostClustering(endpoints.SiloPort(options.SiloIndex), endpoints.GatewayPort(options.SiloIndex), endpoints.PrimarySilo,
                    ClusterEndpoints.ServiceId, ClusterEndpoints.ClusterId);
            if (certificate != null) silo.UseTls(certificate.Certificate, certificate.Configure);
            silo.Configure<SiloOptions>(o => o.SiloName = options.SiloName);
            silo.Configure<ClusterMembershipOptions>(FailureDetection.Configure);
            silo.Configure<MessagingOptions>(o => o.ResponseTimeout = FailureDetection.ResponseTimeout);
            // The strongly consistent directory: when a silo dies, the default (eventually consistent) one
            // deactivates the live activations whose entries that silo held, so a surviving replica
            // would reopen and catch up just when it is the only one left (seen in the failover test).
#pragma warning disable ORLEANSEXP003 // experimental in Orleans 10
            silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
            silo.Services.AddSingleton(options);
            silo.Services.AddPlacementDirector<ReplicaPlacement, ReplicaPlacementDirector>();
            // Activate this silo's replicas at start: each opens its store and catches up with its peers.
            silo.AddStartupTask(async (services, cancellation) =>
            {
                var grains = services.GetRequiredService<IGrainFactory>();
                foreach (int shard in options.Layout.ShardsOn(options.SiloIndex))
                    _ = ActivateAsync(grains.GetGrain<IShardReplica>(ClusterLayout.ReplicaKey(shard, options.SiloIndex)), cancellation);
                await Task.CompletedTask;
            });
        });
        return builder.Build();
    }

    /// <summary>
    /// Activates a replica, retrying while the cluster still routes its key to this silo's previous
    /// life (until membership declares that one dead).
    /// </summary>
    static async Task ActivateAsync(IShardReplica replica, CancellationToken cancellation)
    {
        for (int attempt = 0; !cancellation.IsCancellationRequested; attempt++)
        {
            try { await replica.StatusAsync().ConfigureAwait(false); return; }
            catch (Exception) when (attempt < 120) { await Task.Delay(TimeSpan.FromSeconds(1), cancellation).ConfigureAwait(false); }
        }
    }
}

/// <summary>Failure detection for a cluster whose silos are processes on one machine or one rack: seconds to notice a death.</summary>
public static class FailureDetection
{
    public static readonly TimeSpan ResponseTimeout = TimeSpan.FromSeconds(10);

    public static void Configure(ClusterMembershipOptions o)
    {
        o.ProbeTimeout = TimeSpan.FromSeconds(1);
        o.NumMissedProbesLimit = 2;
        o.NumVotesForDeathDeclaration = 1;
        o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
        o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
    }
}
