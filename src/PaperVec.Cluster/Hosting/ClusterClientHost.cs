using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace PaperVec.Cluster.Hosting;

/// <summary>Builds the client side of a cluster (the CLI's cluster verbs, tests): connects to every silo's gateway.</summary>
public static class ClusterClientHost
{
    public static IHost Build(ClusterEndpoints endpoints, int silos, ClusterMembership? membership = null, LogLevel logLevel = LogLevel.Warning,
        ClusterCertificate? certificate = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(logLevel);
        // A client that cannot connect fails StartAsync with the reason, which the caller reports in one line.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        AddClusterClient(builder, endpoints, silos, membership, certificate);
        return builder.Build();
    }

    /// <summary>What to add to "cannot reach the cluster's gateways (...)": a TLS mismatch looks like a dropped connection.</summary>
    public static string TlsHint(ClusterCertificate? certificate) => certificate == null
        ? "; silos listening beyond loopback take only clients holding the cluster's certificate (--tls-cert FILE)"
        : $"; or --tls-cert {certificate.Path} is not the cluster's certificate";

    /// <summary>
    /// Starts a client host built here. With a certificate, gives up as soon as a gateway presents
    /// another one (development clustering's client would otherwise keep trying for minutes); the
    /// failure then reads as a certificate refusal in <see cref="StartFailure"/>.
    /// </summary>
    public static async Task StartAsync(IHost host, ClusterCertificate? certificate)
    {
        using var cancel = new CancellationTokenSource();
        var start = host.StartAsync(cancel.Token);
        if (certificate != null && await Task.WhenAny(start, certificate.Refused).ConfigureAwait(false) != start)
        {
            cancel.Cancel();
            _ = start.ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted); // abandoned: observed, not awaited
            throw new System.Security.Authentication.AuthenticationException($"a gateway presented another certificate than {certificate.Path}");
        }
        await start.ConfigureAwait(false);
    }

    /// <summary>
    /// The one line a client prints when it cannot start. A TLS authentication failure (ours or the
    /// gateway's certificate refused: the two sides hold different cluster certificates; Orleans
    /// passes on only "unable to connect", so our own refusal is read from the certificate) says so;
    /// anything else is "cannot reach the cluster's gateways" with its reason.
    /// </summary>
    public static string StartFailure(Exception e, ClusterCertificate? certificate) => IsCertificateRefusal(e) || certificate?.RefusedAPeer == true
        ? $"the cluster's gateway refused our certificate, or we refused its ({(certificate == null ? "this client has none" : $"--tls-cert {certificate.Path}")}): "
          + "the silos and every client must use the same cluster certificate"
        : $"cannot reach the cluster's gateways ({e.GetBaseException().Message}){TlsHint(certificate)}";

    /// <summary>Whether a TLS handshake failed on authentication (an <see cref="System.Security.Authentication.AuthenticationException"/> anywhere in the chain).</summary>
    public static bool IsCertificateRefusal(Exception? e)
    {
        for (int depth = 0; e != null && depth < 32; depth++)
        {
            if (e is System.Security.Authentication.AuthenticationException) return true;
            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsCertificateRefusal)) return true;
            e = e.InnerException;
        }
        return false;
    }

    /// <summary>Adds the Orleans client to a host (`serve --cluster` adds it to the web server's): it connects when the host starts.</summary>
    /// <param name="endpoints">With development clustering: the loopback gateways, one per silo (with Redis, the membership table lists them).</param>
    /// <param name="certificate">The cluster's certificate, when its silos use TLS (they do whenever they listen beyond loopback).</param>
    public static void AddClusterClient(IHostApplicationBuilder builder, ClusterEndpoints endpoints, int silos, ClusterMembership? membership = null,
        ClusterCertificate? certificate = null)
    {
        builder.Logging.AddFilter("Orleans", LogLevel.Error);
        if (membership?.RedisConfiguration is { } redis)
        {
            builder.UseOrleansClient(client =>
            {
                client.UseRedisClustering(redis);
                if (certificate != null) client.UseTls(certificate.Certificate, certificate.Configure);
                client.Configure<ClusterOptions>(o => (o.ServiceId, o.ClusterId) = (ClusterEndpoints.ServiceId, ClusterEndpoints.ClusterId));
                // Silos that are still joining are not in the table's gateway list yet: wait for one, up to a minute.
                var giveUpAt = DateTime.UtcNow + TimeSpan.FromMinutes(1);
                client.UseConnectionRetryFilter(async (failure, cancellation) =>
                {
                    // A certificate refused is refused again on every try: fail now, with that reason.
                    if (DateTime.UtcNow > giveUpAt || IsCertificateRefusal(failure) || certificate?.RefusedAPeer == true) return false;
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellation).ConfigureAwait(false);
                    return true;
                });
                client.Configure<MessagingOptions>(o => o.ResponseTimeout = FailureDetection.ResponseTimeout);
            });
            return;
        }
        // Orleans' client refuses to start when a listed gateway refuses connections: list the silos
        // that answer now (it drops gateways that die later by itself).
        var live = endpoints.GatewayPorts(silos).Where(Listening).ToArray();
        if (live.Length == 0) throw new ShardUnavailableException($"no silo gateway answers on 127.0.0.1 ports {endpoints.GatewayPort(0)}..{endpoints.GatewayPort(silos - 1)}");
        builder.UseOrleansClient(client =>
        {
            client.UseLocalhostClustering(live, ClusterEndpoints.ServiceId, ClusterEndpoints.ClusterId);
            if (certificate != null) client.UseTls(certificate.Certificate, certificate.Configure);
            client.Configure<MessagingOptions>(o => o.ResponseTimeout = FailureDetection.ResponseTimeout);
        });
    }

    static bool Listening(int port)
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            var connect = socket.ConnectAsync(System.Net.IPAddress.Loopback, port);
            return connect.Wait(TimeSpan.FromSeconds(1)) && socket.Connected;
        }
        catch (AggregateException) { return false; }
        catch (System.Net.Sockets.SocketException) { return false; }
    }
}
