using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PaperVec.Bench.Commands;
using PaperVec.Cluster;
using PaperVec.Cluster.Hosting;
using PaperVec.Cluster.Shards;
using PaperVec.Ingest;
using PaperVec.Embedding;
using PaperVec.Search;
using PaperVec.Cli.Common;

namespace PaperVec.Cli.Commands;

/// <summary>
/// `papervec silo` (one silo process) and `papervec cluster local|status|ingest|search|similar`:
/// PaperVec sharded and replicated on Orleans (docs/cluster.md).
/// </summary>
static class ClusterCommands
{
    sealed class Endpoints
    {
        public readonly Option<int> SiloPortBase = new("--silo-port-base") { Description = "Silo i listens for silos on this port + i", DefaultValueFactory = _ => 11111 };
        public readonly Option<int> GatewayPortBase = new("--gateway-port-base") { Description = "Silo i listens for clients on this port + i", DefaultValueFactory = _ => 30000 };
        public readonly Option<string> Membership = CommonOptions.Membership();
        public readonly Option<string> TlsCert = CommonOptions.TlsCert();
        public void AddTo(Command command) { command.Options.Add(SiloPortBase); command.Options.Add(GatewayPortBase); command.Options.Add(Membership); command.Options.Add(TlsCert); }
        public ClusterEndpoints Of(ParseResult parse) => new(parse.GetValue(SiloPortBase), parse.GetValue(GatewayPortBase));
        public ClusterMembership MembershipOf(ParseResult parse) => CommonOptions.MembershipOf(parse, Membership);
        public ClusterCertificate? CertificateOf(ParseResult parse) => CommonOptions.CertificateOf(parse, TlsCert);
    }

    static Option<int> Count(string name, string description, int fallback) =>
        CommonOptions.AtLeast(new Option<int>(name) { Description = description, DefaultValueFactory = _ => fallback }, 1);

    public static Command Silo()
    {
        var data = new Option<string>("--data") { Description = "This silo's data directory (its replicas live in shard-N folders)", Required = true };
        var index = new Option<int>("--silo") { Description = "This silo's index, 0..silos-1 (silo 0 holds the development membership table)", Required = true };
        var silos = Count("--silos", "Silos in the cluster (recorded at creation)", 3);
        var shards = Count("--shards", "Shards (recorded at creation)", 4);
        var replicas = Count("--replicas", "Replicas per shard, each on a different silo (recorded at creation)", 2);
        var endpoints = new Endpoints();
        var address = new Option<string>("--address") { Description = "With a membership store: the address other machines reach this silo at (it then listens on every interface, and needs --tls-cert)", DefaultValueFactory = _ => "127.0.0.1" };
        var command = new Command("silo", "Run one silo of a PaperVec cluster: holds its shard replicas until SIGTERM") { data, index, silos, shards, replicas, address };
        endpoints.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            // Every refusal before anything is written.
            var membership = endpoints.MembershipOf(parse);
            if (!System.Net.IPAddress.TryParse(parse.GetValue(address), out var ip)) throw new UsageException($"--address '{parse.GetValue(address)}' is not an IP address");
            if (membership.IsDevelopment && !System.Net.IPAddress.IsLoopback(ip)) throw new UsageException("--address other than loopback needs a membership store (--membership redis:HOST:PORT)");
            var certificate = endpoints.CertificateOf(parse);
            // Orleans' silo and gateway ports take writes from whoever connects: beyond loopback only with the cluster's key.
            if (!System.Net.IPAddress.IsLoopback(ip) && certificate == null)
                throw new UsageException($"--address {ip} listens beyond loopback: the silo and gateway ports need the cluster's certificate, --tls-cert FILE (make one with `papervec cluster cert --out FILE`)");
            string root = Path.GetFullPath(parse.GetValue(data)!);
            Directory.CreateDirectory(root);
            var asked = ClusterLayout.Create(parse.GetValue(shards), parse.GetValue(replicas), parse.GetValue(silos));
            string configuration = Path.Combine(root, ClusterLayout.FileName);
            var layout = File.Exists(configuration) ? ClusterLayout.Load(configuration) : asked;
            if (layout != asked) throw new UsageException($"{configuration} records {layout.Shards} shards, {layout.Replicas} replicas, {layout.Silos} silos; the layout is fixed at creation");
            if (!File.Exists(configuration)) layout.Save(configuration);
            int silo = parse.GetValue(index);
            if (silo < 0 || silo >= layout.Silos) throw new UsageException($"--silo must be within 0..{layout.Silos - 1}");
            var ports = endpoints.Of(parse);
            using var host = SiloHost.Build(new ClusterSiloOptions { DataRoot = root, Layout = layout, SiloIndex = silo, Address = ip }, ports, membership, certificate: certificate);
            await host.StartAsync(cancellation);
            Console.WriteLine($"{ClusterLayout.SiloName(silo)} pid {Environment.ProcessId} silo port {ports.SiloPort(silo)} gateway port {ports.GatewayPort(silo)}: shards {string.Join(',', layout.ShardsOn(silo))}"
                + (certificate != null ? $"; TLS with certificate {certificate.Thumbprint[..16]}..." : ""));
            await host.WaitForShutdownAsync(CancellationToken.None);
            return 0;
        });
        return command;
    }

    public static Command Cluster() => new("cluster", "A sharded, replicated PaperVec on Orleans: run one locally, or talk to one")
    {
        Local(), Status(), Ingest(), SearchText(), Similar(), Bench(), Cert(), MembershipStore(),
    };

    static Command Bench()
    {
        var endpoints = new Endpoints();
        return ClusterBenchCommand.Create(Count("--silos", "Silos in the cluster (to find their gateways)", 3), endpoints.AddTo, endpoints.Of, endpoints.MembershipOf, endpoints.CertificateOf);
    }

    static Command Cert()
    {
        var output = new Option<string>("--out") { Description = "The file to write: .pfx or .p12 (PKCS#12) or .pem (certificate and key); never overwritten", Required = true };
        var days = Count("--days", "Days it is valid", 3650);
        var command = new Command("cert", $"Make a cluster certificate (self-signed, ECDSA P-256): give it to every silo and client with --tls-cert; encrypted with ${ClusterCertificate.PasswordVariable} when set") { output, days };
        command.SetAction(parse =>
        {
            string path = Path.GetFullPath(parse.GetValue(output)!);
            if (File.Exists(path)) throw new UsageException($"{path} exists; a cluster certificate is never overwritten (every silo and client holds a copy)");
            System.Security.Cryptography.X509Certificates.X509Certificate2 certificate;
            try { certificate = ClusterCertificate.Create(path, Environment.GetEnvironmentVariable(ClusterCertificate.PasswordVariable), parse.GetValue(days)); }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
            Console.WriteLine($"wrote {path}: cluster certificate SHA-256 {certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256)}, valid until {certificate.NotAfter:yyyy-MM-dd}. "
                + "It is the cluster's key: copy it (owner-only) to every silo and client and pass --tls-cert.");
            return 0;
        });
        return command;
    }

    /// <summary>The variable whose value protects a membership store listening beyond loopback.</summary>
    const string MembershipPasswordVariable = "PAPERVEC_MEMBERSHIP_PASSWORD";

    /// <summary>
    /// `papervec cluster membership-store`: Microsoft Garnet (a Redis-compatible store, in this process)
    /// holding Orleans' membership table, for machines without a Redis. `cluster local --membership garnet` starts one.
    /// </summary>
    static Command MembershipStore()
    {
        var port = new Option<int>("--port") { Description = "Port to listen on", DefaultValueFactory = _ => 6379 };
        var address = new Option<string>("--address") { Description = $"Address to listen on; beyond loopback it needs ${MembershipPasswordVariable} (clients then use redis:HOST:PORT,password=...)", DefaultValueFactory = _ => "127.0.0.1" };
        var command = new Command("membership-store", "Run a Garnet store for the cluster's membership table (silos and clients: --membership redis:ADDRESS:PORT) until SIGTERM") { port, address };
        command.SetAction(async (parse, cancellation) =>
        {
            if (!System.Net.IPAddress.TryParse(parse.GetValue(address), out var ip)) throw new UsageException($"--address '{parse.GetValue(address)}' is not an IP address");
            string? password = Environment.GetEnvironmentVariable(MembershipPasswordVariable);
            // Whoever writes the table can declare silos dead: beyond loopback, only with a password.
            if (!System.Net.IPAddress.IsLoopback(ip) && string.IsNullOrEmpty(password))
                throw new UsageException($"--address {ip} listens beyond loopback: set ${MembershipPasswordVariable} (clients and silos then use --membership redis:{ip}:{parse.GetValue(port)},password=...)");
            List<string> arguments = ["--bind", $"{ip}", "--port", $"{parse.GetValue(port)}", "--lua"]; // Orleans' Redis membership runs Lua scripts
            if (!string.IsNullOrEmpty(password)) arguments.AddRange(["--auth", "Password", "--password", password]);
            Garnet.GarnetServer server;
            try
            {
                server = new Garnet.GarnetServer(arguments.ToArray());
                server.Start();
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or InvalidOperationException or IOException)
            {
                throw new CliException($"cannot start the membership store on {ip}:{parse.GetValue(port)}: {e.GetBaseException().Message}");
            }
            using (server)
            {
                Console.WriteLine($"membership store (Garnet) pid {Environment.ProcessId} on {ip}:{parse.GetValue(port)}; silos and clients: --membership redis:{ip}:{parse.GetValue(port)}{(string.IsNullOrEmpty(password) ? "" : ",password=...")}");
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                using var onInterrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
                using var onTerminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
                try { await Task.Delay(Timeout.Infinite, stop.Token); }
                catch (OperationCanceledException) { }
            }
            return 0;
        });
        return command;
    }

    static Command Local()
    {
        var data = new Option<string>("--data") { Description = "Where the silos keep their data (silo-N folders)", DefaultValueFactory = _ => "papervec-cluster" };
        var silos = Count("--silos", "Silo processes", 3);
        var shards = Count("--shards", "Shards", 4);
        var replicas = Count("--replicas", "Replicas per shard", 2);
        var endpoints = new Endpoints();
        var port = new Option<int>("--port") { Description = "HTTP port of the server (`serve --cluster`) on 127.0.0.1; 0: start no server", DefaultValueFactory = _ => 5080 };
        var command = new Command("local", "Start a cluster's silos and one HTTP server as processes on loopback, one line each; Ctrl+C stops them all. "
            + "--membership garnet[:PORT] also starts a Garnet membership store (port 6379), so the cluster survives the loss of any silo") { data, silos, shards, replicas, port };
        endpoints.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            var layout = ClusterLayout.Create(parse.GetValue(shards), parse.GetValue(replicas), parse.GetValue(silos));
            string root = Path.GetFullPath(parse.GetValue(data)!);
            var ports = endpoints.Of(parse);
            int? storePort = GarnetPort(parse.GetValue(endpoints.Membership));
            var membership = storePort is { } p ? ClusterMembership.Parse($"redis:127.0.0.1:{p}") : endpoints.MembershipOf(parse);
            var certificate = endpoints.CertificateOf(parse); // checked here, once, before any child starts
            string[] tls = certificate != null ? ["--tls-cert", certificate.Path] : [];
            var children = new List<Process>();
            Process? store = null;
            // SIGINT/SIGTERM stop every silo (each checkpoints on its own SIGTERM) before this exits.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            using var onInterrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            using var onTerminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            cancellation = stop.Token;
            try
            {
                if (storePort is { } garnetPort)
                {
                    store = StartSelf(["cluster", "membership-store", "--port", $"{garnetPort}"], quiet: true);
                    store.OutputDataReceived += (_, _) => { }; // drained, never shown
                    store.BeginOutputReadLine();
                    var storeUp = DateTime.UtcNow.AddSeconds(60);
                    while (!Listening(garnetPort) && DateTime.UtcNow < storeUp && !store.HasExited) await Task.Delay(200, cancellation);
                    if (!Listening(garnetPort)) throw new CliException($"the Garnet membership store did not open port {garnetPort} (is the port taken? pick another with --membership garnet:PORT)");
                    Console.WriteLine($"membership: a Garnet store, pid {store.Id}, port {garnetPort}: silos join and leave in any order and the cluster survives the loss of any silo. "
                        + $"Other verbs: --membership {membership}");
                }
                else if (membership.IsDevelopment)
                    Console.WriteLine("membership: development (Orleans' localhost clustering). Silo 0 is the primary and holds the membership table in memory: "
                        + "if it dies, the cluster stops answering, and restarting silo 0 alone does not bring the others back. For a cluster that survives the loss of any silo: "
                        + "--membership garnet here, --membership redis:HOST:PORT on real machines.");
                else
                    Console.WriteLine($"membership: {membership}");
                for (int i = 0; i < layout.Silos; i++)
                {
                    var child = StartSelf(["silo", "--data", Path.Combine(root, ClusterLayout.SiloName(i)), "--silo", $"{i}", "--silos", $"{layout.Silos}",
                        "--shards", $"{layout.Shards}", "--replicas", $"{layout.Replicas}",
                        "--silo-port-base", $"{ports.SiloPortBase}", "--gateway-port-base", $"{ports.GatewayPortBase}", "--membership", $"{membership}", .. tls]);
                    children.Add(child);
                    Console.WriteLine($"silo   {ClusterLayout.SiloName(i)}  pid {child.Id}  silo port {ports.SiloPort(i)}  gateway port {ports.GatewayPort(i)}  data {Path.Combine(root, ClusterLayout.SiloName(i))}");
                    if (i == 0 && membership.IsDevelopment) await Task.Delay(TimeSpan.FromSeconds(2), cancellation); // the others join silo 0
                }
                if (parse.GetValue(port) is > 0 and var http)
                {
                    // The server's client needs the gateways up: wait for them (each silo opens its replicas first).
                    var deadline = DateTime.UtcNow.AddSeconds(120);
                    while (!ports.GatewayPorts(layout.Silos).All(Listening) && DateTime.UtcNow < deadline) await Task.Delay(500, cancellation);
                    var server = StartSelf(["serve", "--cluster", "--silos", $"{layout.Silos}", "--gateway-port-base", $"{ports.GatewayPortBase}",
                        "--membership", $"{membership}", "--urls", $"http://127.0.0.1:{http}", .. tls]);
                    children.Add(server);
                    Console.WriteLine($"server        pid {server.Id}  http://127.0.0.1:{http}  (serve --cluster: API, search page, /ready, /metrics)");
                }
                Console.WriteLine($"cluster: {layout.Shards} shards x {layout.Replicas} replicas on {layout.Silos} silos; try `papervec cluster status --silos {layout.Silos}"
                    + $"{(membership.IsDevelopment ? "" : $" --membership {membership}")}{(certificate != null ? $" --tls-cert {certificate.Path}" : "")}`");
                // A silo that dies is reported, not restarted: the others go on serving (start it again with the `silo` line printed above).
                var watchers = children.Select((child, i) => child.WaitForExitAsync(cancellation).ContinueWith(t =>
                {
                    string name = i < layout.Silos ? $"silo   {ClusterLayout.SiloName(i)}" : "server";
                    if (t.IsCompletedSuccessfully) Console.WriteLine($"{name}  pid {child.Id} exited with code {child.ExitCode}");
                }, TaskScheduler.Default)).ToList();
                try { await Task.Delay(Timeout.Infinite, cancellation); }
                catch (OperationCanceledException) { }
            }
            finally
            {
                foreach (var child in children)
                    if (!child.HasExited) { try { Process.Start("kill", ["-TERM", $"{child.Id}"])?.WaitForExit(); } catch (Exception) { } }
                foreach (var child in children)
                    if (!child.WaitForExit(TimeSpan.FromSeconds(30))) { try { child.Kill(); } catch (InvalidOperationException) { } }
                // The store goes last: silos leaving update the membership table.
                if (store is { HasExited: false })
                {
                    try { Process.Start("kill", ["-TERM", $"{store.Id}"])?.WaitForExit(); } catch (Exception) { }
                    if (!store.WaitForExit(TimeSpan.FromSeconds(10))) { try { store.Kill(); } catch (InvalidOperationException) { } }
                }
            }
            return 0;
        });
        return command;
    }

    /// <summary>"garnet" or "garnet:PORT" (what `cluster local` starts itself): the port; null for any other membership.</summary>
    static int? GarnetPort(string? membership)
    {
        if (membership == null || !membership.Trim().StartsWith("garnet", StringComparison.OrdinalIgnoreCase)) return null;
        string text = membership.Trim();
        if (text.Equals("garnet", StringComparison.OrdinalIgnoreCase)) return 6379;
        if (text.StartsWith("garnet:", StringComparison.OrdinalIgnoreCase) && int.TryParse(text["garnet:".Length..], out int port) && port is > 0 and < 65536) return port;
        throw new UsageException($"--membership '{membership}': write garnet or garnet:PORT");
    }

    static bool Listening(int port)
    {
        using var client = new System.Net.Sockets.TcpClient();
        try { client.Connect(System.Net.IPAddress.Loopback, port); return true; }
        catch (System.Net.Sockets.SocketException) { return false; }
    }

    /// <summary>Starts this CLI again with <paramref name="arguments"/> (through dotnet when it runs as a .dll).</summary>
    static Process StartSelf(string[] arguments, bool quiet = false)
    {
        string host = Environment.ProcessPath ?? "dotnet";
        // quiet: a child whose own log (Garnet's banner) would drown the lines this prints.
        var start = new ProcessStartInfo(host) { UseShellExecute = false, RedirectStandardOutput = quiet };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(typeof(ClusterCommands).Assembly.Location);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        return Process.Start(start) ?? throw new CliException($"could not start {host}");
    }

    /// <summary>Runs <paramref name="body"/> against the cluster behind the gateways.</summary>
    static async Task<int> WithClusterAsync(ParseResult parse, Endpoints endpoints, Option<int> silos, Embedder? embedder, Func<ClusterCollection, Task> body)
    {
        var certificate = endpoints.CertificateOf(parse);
        using var host = ClusterClientHost.Build(endpoints.Of(parse), parse.GetValue(silos), endpoints.MembershipOf(parse), certificate: certificate);
        try { await ClusterClientHost.StartAsync(host, certificate); }
        catch (Exception e) { throw new CliException(ClusterClientHost.StartFailure(e, certificate)); }
        var collection = await ClusterCollection.ConnectAsync(host.Services.GetRequiredService<IClusterClient>(), embedder);
        await body(collection);
        await host.StopAsync();
        return 0;
    }

    static Command Status()
    {
        var silos = Count("--silos", "Silos in the cluster (to find their gateways)", 3);
        var endpoints = new Endpoints();
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("status", "Every shard replica: ready or not, papers, model") { silos, json };
        endpoints.AddTo(command);
        command.SetAction(async parse => await WithClusterAsync(parse, endpoints, silos, null, async cluster =>
        {
            var replicas = await cluster.StatusAsync();
            if (parse.GetValue(json)) { Console.WriteLine(JsonSerializer.Serialize(replicas, JsonSerializerOptions.Web)); return; }
            Console.WriteLine($"{cluster.Layout.Shards} shards x {cluster.Layout.Replicas} replicas on {cluster.Layout.Silos} silos");
            foreach (var r in replicas.OrderBy(r => r.Shard).ThenBy(r => r.Silo, StringComparer.Ordinal))
                Console.WriteLine($"  shard {r.Shard,-3} {r.Silo,-8} {(r.Ready ? "ready" : "NOT READY"),-9} {r.Papers,8} papers  {r.Note}");
        }));
        return command;
    }

    static Command Ingest()
    {
        var files = new Argument<string[]>("FILES") { Description = "Digests (.txt) or records (.json, .jsonl)", Arity = ArgumentArity.OneOrMore };
        var silos = Count("--silos", "Silos in the cluster (to find their gateways)", 3);
        var year = new Option<int?>("--year") { Description = "Year of a bare date line such as 'Mar 11'" };
        var precision = CommonOptions.Precision();
        var endpoints = new Endpoints();
        var command = new Command("ingest", "Ingest papers into the cluster: embedded here, each written to its shard's live replicas") { files, silos, year, precision };
        endpoints.AddTo(command);
        command.SetAction(async parse =>
        {
            var paths = parse.GetValue(files)!;
            var batches = new List<(string Path, List<IncomingPaper> Papers, DateOnly? Date, PaperIngestor.DigestInfo? Digest)>();
            foreach (var path in paths)
            {
                if (!File.Exists(path)) throw new CliException($"no such file: {path}");
                var text = DigestParser.DecodeText(File.ReadAllBytes(path), path);
                if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
                    batches.Add((path, PaperRecordReader.ReadAll(text, path), null, null));
                else
                {
                    IReadOnlyList<ParsedDigest> days;
                    try { days = DigestParser.ParseDays(text, new DigestParseOptions { Year = parse.GetValue(year), FileName = path, DateHint = "a date line such as '2025-03-11' above the papers" }); }
                    catch (DigestRefusedException e) { throw new CliException($"{path}: refused: {e.Message}"); }
                    foreach (var digest in days)
                        batches.Add((path, PaperIngestor.PapersOf(digest).ToList(), digest.Date, PaperIngestor.DigestInfo.Of(digest, Path.GetFileNameWithoutExtension(path))));
                }
            }
            using var embedder = batches.Any(b => b.Papers.Any(p => p.Vector == null))
                ? Embedder.Load(new EmbedderOptions { Precision = parse.GetValue(precision) }) : null;
            return await WithClusterAsync(parse, endpoints, silos, embedder, async cluster =>
            {
                foreach (var (path, papers, date, digest) in batches)
                    // A digest is one write (its record lists every paper); record files go in chunks.
                    foreach (var chunk in digest != null ? [papers.ToArray()] : papers.Chunk(1000))
                    {
                        var (result, replicaWrites) = await cluster.IngestAsync(chunk, date, digest);
                        Console.WriteLine($"{Path.GetFileName(path)}: {result.Summary}; {result.New} new; {replicaWrites} replica writes");
                    }
            });
        });
        return command;
    }

    static Command SearchText()
    {
        var query = new Argument<string>("TEXT") { Description = "What to look for" };
        var silos = Count("--silos", "Silos in the cluster (to find their gateways)", 3);
        var mode = new Option<string>("--mode") { Description = "hybrid, semantic or lexical", DefaultValueFactory = _ => "hybrid" };
        var k = new Option<int>("--k") { Description = "How many results", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var precision = CommonOptions.Precision();
        var endpoints = new Endpoints();
        var command = new Command("search", "Free-text search over every shard") { query, silos, mode, k, json, precision };
        endpoints.AddTo(command);
        command.SetAction(async parse =>
        {
            string text = parse.GetValue(query)!;
            if (string.IsNullOrWhiteSpace(text)) throw new UsageException("the search text is empty");
            SearchMode searchMode;
            try { searchMode = SearchQuery.ParseMode(parse.GetValue(mode)); }
            catch (InvalidDataException e) { throw new UsageException(e.Message); }
            using var embedder = searchMode == SearchMode.Lexical ? null : Embedder.Load(new EmbedderOptions { Precision = parse.GetValue(precision) });
            var vector = embedder?.Embed(text);
            return await WithClusterAsync(parse, endpoints, silos, embedder, async cluster =>
                Print(await cluster.SearchAsync(new SearchQuery(text, vector, searchMode), new SearchScope { K = parse.GetValue(k) }), parse.GetValue(json)));
        });
        return command;
    }

    static Command Similar()
    {
        var id = new Argument<string>("ID") { Description = "A paper id, or a record's own id" };
        var silos = Count("--silos", "Silos in the cluster (to find their gateways)", 3);
        var k = new Option<int>("--k") { Description = "How many results", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var endpoints = new Endpoints();
        var command = new Command("similar", "Papers like a stored one, over every shard") { id, silos, k, json };
        endpoints.AddTo(command);
        command.SetAction(async parse => await WithClusterAsync(parse, endpoints, silos, null, async cluster =>
            Print(await cluster.SimilarAsync(parse.GetValue(id)!, new SearchScope { K = parse.GetValue(k) })
                ?? throw new CliException(Engine.NotFoundHints.Paper(parse.GetValue(id)!)), parse.GetValue(json))));
        return command;
    }

    static void Print(List<SearchResult> results, bool json)
    {
        if (json) { Console.WriteLine(JsonSerializer.Serialize(new { results }, JsonSerializerOptions.Web)); return; }
        foreach (var r in results) Console.WriteLine($"  {r.Score:0.000}  {r.Date}  {r.Id}  {r.Title}");
    }
}
