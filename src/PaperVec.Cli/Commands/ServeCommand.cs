using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PaperVec.Api.Hosting;
using PaperVec.Cli.Hosting;
using PaperVec.Cli.Common;
using PaperVec.Api;

namespace PaperVec.Cli.Commands;

/// <summary>
/// `papervec serve`: the HTTP API and search page over the data directory (or, with --cluster, over
/// a cluster's silos as their client), on loopback unless told otherwise. Runs until SIGTERM or Ctrl+C, then finishes the requests in flight, checkpoints and exits 0.
/// </summary>
static class ServeCommand
{
    /// <param name="storage">Settings the database is opened with (<see cref="Program.RunAsync"/>).</param>
    public static Command Create(PaperVec.Storage.PaperDatabaseOptions storage)
    {
        var data = DataOptions.Data();
        var urls = new Option<string[]>("--urls")
        {
            Description = $"Where to listen (default {ServerOptions.DefaultUrl}); any address other than loopback needs ${ServerOptions.ApiKeyVariable}",
            DefaultValueFactory = _ => [ServerOptions.DefaultUrl],
            AllowMultipleArgumentsPerToken = true,
        };
        var batch = CommonOptions.AtLeast(new Option<int>("--query-batch") { Description = "Search queries embedded together at most (1: no batching)", DefaultValueFactory = _ => new ServerOptions().MaxQueryBatch }, 1);
        var checkpoint = DataOptions.CheckpointMegabytes();
        var precision = CommonOptions.Precision();
        var cluster = new Option<bool>("--cluster") { Description = "Serve a cluster's papers as its client (silos started with `papervec silo`) instead of a data directory" };
        var silos = CommonOptions.AtLeast(new Option<int>("--silos") { Description = "With --cluster: silos in the cluster (to find their gateways)", DefaultValueFactory = _ => 3 }, 1);
        var gateways = new Option<int>("--gateway-port-base") { Description = "With --cluster: silo i takes clients on this port + i", DefaultValueFactory = _ => new PaperVec.Cluster.Hosting.ClusterEndpoints().GatewayPortBase };
        var membership = CommonOptions.Membership();
        var tlsCert = CommonOptions.TlsCert();
        var command = new Command("serve", "Serve the HTTP API and the search page (of a data directory, or of a cluster with --cluster)") { data, urls, batch, checkpoint, precision, cluster, silos, gateways, membership, tlsCert };
        command.SetAction(async parse =>
        {
            bool starting = true, startFailed = false;
            var held = new List<string>();
            if (parse.GetValue(cluster) && parse.GetValue(data) != null)
                throw new UsageException("--data names one node's data directory; with --cluster the silos hold the data");
            if (!parse.GetValue(cluster) && parse.GetValue(tlsCert) != null)
                throw new UsageException("--tls-cert is the cluster's certificate: it goes with --cluster");
            var connection = parse.GetValue(cluster)
                ? new ClusterConnection(new PaperVec.Cluster.Hosting.ClusterEndpoints(GatewayPortBase: parse.GetValue(gateways)), parse.GetValue(silos),
                    CommonOptions.MembershipOf(parse, membership), CommonOptions.CertificateOf(parse, tlsCert))
                : null;
            var options = new ServerOptions
            {
                DataPath = parse.GetValue(data),
                Urls = parse.GetValue(urls)!.SelectMany(u => u.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList(),
                MaxQueryBatch = parse.GetValue(batch),
                Precision = parse.GetValue(precision),
                CheckpointAfterWalMegabytes = parse.GetValue(checkpoint),
                Storage = storage,
                // Held back until listening, and dropped if the start fails: "model loaded; ready" next to a
                // port-in-use error would contradict it.
                Log = message =>
                {
                    lock (held)
                    {
                        if (startFailed) return;
                        if (starting) held.Add(message);
                        else Console.Out.WriteLine($"papervec: {message}");
                    }
                },
            };
            // While starting, the host's and Kestrel's own error logs (a stack trace for a port in use) are left
            // out: the start's exception is reported as one line below.
            void Quiet(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder)
            {
                foreach (var category in new[] { "Microsoft.Extensions.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Hosting" })
                    builder.Logging.AddFilter(category, level => level >= LogLevel.Warning && !(starting && level >= LogLevel.Error));
            }
            // The HTTP host knows only the engine's collection interface: with --cluster this host hands it the cluster's.
            await using var app = connection != null ? await ClusterServer.CreateAsync(options, connection, Quiet) : await PaperVecServer.CreateAsync(options, Quiet);
            var library = connection == null ? app.Services.GetService(typeof(ServedPapers)) as ServedPapers : null;
            try { await app.StartAsync(); }
            catch (IOException e) when (connection == null)
            {
                lock (held) startFailed = true;
                // Kestrel: "Failed to bind to address http://127.0.0.1:5000: address already in use."
                throw new CliException($"{e.Message.Split('\n')[0].Trim().TrimEnd('.')} (is another server running? choose another port with --urls)");
            }
            catch (Exception e) when (connection != null && e is not ServerStartException)
            {
                lock (held) startFailed = true;
                throw new CliException(PaperVec.Cluster.Hosting.ClusterClientHost.StartFailure(e, connection.Certificate));
            }
            // Configuration (appsettings.json, Kestrel__Endpoints__*) can bind more than --urls: check what was bound.
            lock (held)
            {
                starting = false;
                foreach (var message in held) Console.Out.WriteLine($"papervec: {message}");
            }
            try { PaperVecServer.CheckBoundAddresses(app); }
            catch (ServerStartException)
            {
                await app.StopAsync();
                throw;
            }
            await app.WaitForShutdownAsync(); // returns after SIGTERM or Ctrl+C once the requests in flight are done; disposing the host checkpoints
            if (library?.WhenModelLoaded.IsFaulted == true) throw new CliException(library.NotReadyReason!);
            return 0;
        });
        return command;
    }
}
