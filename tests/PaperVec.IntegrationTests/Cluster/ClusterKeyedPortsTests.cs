using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PaperVec.Cluster;
using PaperVec.Cluster.Hosting;
using PaperVec.Ingest;
using PaperVec.Tests.Cli;
using Xunit.Abstractions;

namespace PaperVec.Tests.Cluster;

/// <summary>
/// Keyed cluster ports (mutual TLS with the cluster's certificate), probed from another network
/// namespace; and membership that survives the loss of silo 0 (`cluster local --membership garnet`).
/// </summary>
public sealed class ClusterKeyedPortsTests(ITestOutputHelper output) : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("papervec-keyed-").FullName;
    readonly List<CliProcess> _processes = [];
    NetworkNamespaces? _net;

    public void Dispose()
    {
        foreach (var process in _processes) process.Dispose();
        _net?.Dispose(); // after the processes in it have ended
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "PaperVec.Cli.dll");

    /// <summary>
    /// Two network namespaces made here, joined by a veth pair (10.213.0.1 for the silo, .2 for the
    /// clients) and reaching nothing else. The silo listens on its veth address with TLS; a client
    /// without the certificate, or with another self-signed one, can neither ingest nor search
    /// (nothing is written); one with the certificate can. A silo given that address and no
    /// certificate refuses to start.
    /// </summary>
    [SkippableFact]
    [Trait("Category", "Cluster")]
    public async Task A_silo_beyond_loopback_serves_only_clients_holding_the_cluster_certificate()
    {
        Skip.IfNot(Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root", "making network namespaces needs root (CI runs as root)");
        Skip.If(FindOnPath("ip") == null, "the ip tool (iproute2) is not installed");
        var net = _net = NetworkNamespaces.Create();

        string certificate = Path.Combine(_root, "cluster.pem"), stranger = Path.Combine(_root, "stranger.pfx");
        Assert.Equal(0, CliRunner.Run("cluster", "cert", "--out", certificate).Exit);
        Assert.Equal(0, CliRunner.Run("cluster", "cert", "--out", stranger).Exit);
        string password = Convert.ToHexString(Guid.NewGuid().ToByteArray());
        string membership = $"redis:{NetworkNamespaces.SiloAddress}:16379,password={password}";
        string[] layout = ["--silos", "1", "--silo-port-base", "21111", "--gateway-port-base", "23000", "--membership", membership];

        // No certificate: refused at start with one line, nothing written.
        var refused = Start(net.SiloSide, ["silo", "--data", Path.Combine(_root, "refused"), "--silo", "0", "--shards", "1", "--replicas", "1",
            "--address", NetworkNamespaces.SiloAddress, .. layout]);
        Assert.Equal(2, await refused.ExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("--tls-cert", refused.Error);
        Assert.Single(refused.Error.Trim().Split('\n'));
        Assert.False(Directory.Exists(Path.Combine(_root, "refused")));

        var store = Start(net.SiloSide, ["cluster", "membership-store", "--address", NetworkNamespaces.SiloAddress, "--port", "16379"],
            ("PAPERVEC_MEMBERSHIP_PASSWORD", password));
        await store.WaitForLineAsync("membership store");
        var silo = Start(net.SiloSide, ["silo", "--data", Path.Combine(_root, "silo"), "--silo", "0", "--shards", "1", "--replicas", "1",
            "--address", NetworkNamespaces.SiloAddress, "--tls-cert", certificate, .. layout]);
        await silo.WaitForLineAsync("TLS with certificate");

        string papers = Path.Combine(_root, "papers.json");
        File.WriteAllText(papers, JsonSerializer.Serialize(Enumerable.Range(0, 3).Select(i => new
        {
            id = $"2599.{i:00000}", title = $"Keyed port probe {i}: zebra lattices under quorum", @abstract = "Zebra lattices hold quorum keys. We measure them.",
            date = "2025-03-11", vector = RandomVector(i),
        })));
        // The clients run in the other namespace: the only way to the silo is over the veth pair.
        var strangers = new[]
        {
            Start(net.ClientSide, ["cluster", "ingest", papers, .. layout]),
            Start(net.ClientSide, ["cluster", "ingest", papers, "--tls-cert", stranger, .. layout]),
            Start(net.ClientSide, ["cluster", "search", "zebra lattices", "--mode", "lexical", "--json", .. layout]),
            Start(net.ClientSide, ["cluster", "search", "zebra lattices", "--mode", "lexical", "--json", "--tls-cert", stranger, .. layout]),
        };
        for (int i = 0; i < strangers.Length; i++)
        {
            var client = strangers[i];
            Assert.Equal(1, await client.ExitAsync(TimeSpan.FromSeconds(150)));
            Assert.DoesNotContain("results", client.Output);
            if (i % 2 == 0) { Assert.Contains("cannot reach the cluster's gateways", client.Error); continue; }
            // Another certificate: the handshake fails on authentication, and that is said at once in
            // one line, not after a minute of retries as "cannot reach the cluster's gateways".
            Assert.Single(client.Error.Trim().Split('\n'));
            Assert.Contains("refused our certificate, or we refused its", client.Error);
            Assert.Contains($"--tls-cert {stranger}", client.Error);
            Assert.Contains("must use the same cluster certificate", client.Error);
        }

        // The holder of the certificate: nothing was written by the others; its own write is found.
        var status = Start(net.ClientSide, ["cluster", "status", "--json", "--tls-cert", certificate, .. layout]);
        Assert.Equal(0, await status.ExitAsync(TimeSpan.FromSeconds(90)));
        Assert.Equal(0, JsonDocument.Parse(status.Output).RootElement.EnumerateArray().Sum(r => r.GetProperty("papers").GetInt32()));
        var ingest = Start(net.ClientSide, ["cluster", "ingest", papers, "--tls-cert", certificate, .. layout]);
        Assert.Equal(0, await ingest.ExitAsync(TimeSpan.FromSeconds(90)));
        Assert.Contains("3 new", ingest.Output);
        var search = Start(net.ClientSide, ["cluster", "search", "zebra lattices", "--mode", "lexical", "--json", "--tls-cert", certificate, .. layout]);
        Assert.Equal(0, await search.ExitAsync(TimeSpan.FromSeconds(90)));
        var titles = JsonDocument.Parse(search.Output).RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("title").GetString()).ToList();
        Assert.Equal(3, titles.Count(t => t!.StartsWith("Keyed port probe")));
    }

    /// <summary>
    /// `cluster local --membership garnet`: says so, and after kill -9 of silo 0 writes and reads
    /// go on (with development membership the same kill stops the cluster). Its silos and this
    /// client talk TLS with the cluster's certificate, so failover is also exercised over TLS.
    /// </summary>
    [Fact]
    [Trait("Category", "Cluster")]
    public async Task Cluster_local_with_garnet_membership_survives_kill_9_of_silo_0()
    {
        int basePort = FreePorts.Block();
        var endpoints = new ClusterEndpoints(basePort, basePort + 5);
        int storePort = basePort + 9;
        string certificatePath = Path.Combine(_root, "cluster.pfx");
        ClusterCertificate.Create(certificatePath, null, days: 1);
        var local = Start(null, ["cluster", "local", "--data", Path.Combine(_root, "local"), "--silos", "3", "--shards", "2", "--replicas", "2", "--port", "0",
            "--silo-port-base", $"{endpoints.SiloPortBase}", "--gateway-port-base", $"{endpoints.GatewayPortBase}", "--membership", $"garnet:{storePort}",
            "--tls-cert", certificatePath]);
        await local.WaitForLineAsync("cluster:", TimeSpan.FromSeconds(120));
        Assert.Contains("membership: a Garnet store", local.Output);
        Assert.Contains($"--membership redis:127.0.0.1:{storePort}", local.Output);
        int silo0 = int.Parse(local.Output.Split('\n').Single(l => l.StartsWith("silo   silo-0")).Split("pid ")[1].Split(' ')[0]);

        var membership = ClusterMembership.Parse($"redis:127.0.0.1:{storePort}");
        using var client = ClusterClientHost.Build(endpoints, 3, membership, certificate: ClusterCertificate.Load(certificatePath));
        await client.StartAsync();
        var cluster = await ClusterCollection.ConnectAsync(client.Services.GetRequiredService<IClusterClient>());
        await UntilAsync(async () => (await cluster.StatusAsync()).All(r => r.Ready), "every replica ready");
        var first = Papers(0, 20);
        await cluster.IngestAsync(first);

        using (var victim = Process.GetProcessById(silo0)) { victim.Kill(); victim.WaitForExit(); } // SIGKILL: no goodbye to the membership table
        var second = Papers(20, 20);
        // Orleans needs a few seconds to declare silo 0 dead; after that, writes and reads are answered.
        await UntilAsync(async () => { await cluster.IngestAsync(second); return true; }, "a write after silo 0's death");
        foreach (var paper in first.Concat(second))
            await UntilAsync(async () => await cluster.FindAsync(paper.SourceId!) != null, $"paper {paper.SourceId} found after silo 0's death");
        var hits = await cluster.SearchAsync(new PaperVec.Search.SearchQuery("survivor", null, PaperVec.Search.SearchMode.Lexical), new PaperVec.Search.SearchScope { K = 50 });
        Assert.Equal(40, hits.Count);
        await client.StopAsync();
    }

    /// <summary>
    /// Development membership over TLS (`cluster local --tls-cert`): a client with another
    /// certificate exits 1 with one line saying the certificates differ (its start gave up only
    /// after about 3 minutes before, as "cannot reach the cluster's gateways"); the right one connects.
    /// </summary>
    [Fact]
    [Trait("Category", "Cluster")]
    public async Task A_client_with_another_certificate_is_refused_in_one_line_with_development_membership()
    {
        int basePort = FreePorts.Block();
        string certificate = Path.Combine(_root, "cluster.pfx"), stranger = Path.Combine(_root, "stranger.pem");
        ClusterCertificate.Create(certificate, null, days: 1);
        ClusterCertificate.Create(stranger, null, days: 1);
        string[] ports = ["--silos", "1", "--silo-port-base", $"{basePort}", "--gateway-port-base", $"{basePort + 5}"];
        var local = Start(null, ["cluster", "local", "--data", Path.Combine(_root, "dev-tls"), "--shards", "1", "--replicas", "1", "--port", "0",
            "--tls-cert", certificate, .. ports]);
        await local.WaitForLineAsync("cluster:", TimeSpan.FromSeconds(120));

        var refused = Start(null, ["cluster", "status", "--tls-cert", stranger, .. ports]);
        Assert.Equal(1, await refused.ExitAsync(TimeSpan.FromSeconds(150)));
        Assert.Single(refused.Error.Trim().Split('\n'));
        Assert.Contains($"refused our certificate, or we refused its (--tls-cert {stranger})", refused.Error);
        Assert.Contains("must use the same cluster certificate", refused.Error);

        var status = Start(null, ["cluster", "status", "--json", "--tls-cert", certificate, .. ports]);
        Assert.Equal(0, await status.ExitAsync(TimeSpan.FromSeconds(90)));
    }

    /// <summary>`cluster local` with its default membership says what that means before it starts anything.</summary>
    [Fact]
    [Trait("Category", "Cluster")]
    public async Task Cluster_local_says_development_membership_makes_silo_0_the_primary()
    {
        int basePort = FreePorts.Block();
        var local = Start(null, ["cluster", "local", "--data", Path.Combine(_root, "dev"), "--silos", "1", "--shards", "1", "--replicas", "1", "--port", "0",
            "--silo-port-base", $"{basePort}", "--gateway-port-base", $"{basePort + 5}"]);
        await local.WaitForLineAsync("membership: development");
        string line = local.Output.Split('\n').First(l => l.StartsWith("membership: development"));
        Assert.Contains("Silo 0 is the primary", line);
        Assert.Contains("if it dies, the cluster stops answering", line);
        Assert.Contains("--membership garnet", line);
        Assert.Contains("--membership redis:HOST:PORT on real machines", line);
    }

    static List<IncomingPaper> Papers(int from, int count) => Enumerable.Range(from, count).Select(i =>
        new IncomingPaper($"Survivor paper {i}: membership without a primary", "A survivor abstract about silos that die and clusters that go on.")
        {
            SourceId = $"2598.{i:00000}", Date = new DateOnly(2025, 3, 11), Vector = RandomVector(i),
        }).ToList();

    static float[] RandomVector(int seed)
    {
        var random = new Random(seed);
        var vector = Enumerable.Range(0, 384).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        float norm = MathF.Sqrt(vector.Sum(x => x * x));
        return vector.Select(x => x / norm).ToArray();
    }

    static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try { if (await condition()) return; }
            catch (Exception e) { last = e; }
            await Task.Delay(500);
        }
        throw new TimeoutException($"not within 90 s: {what}{(last != null ? $" (last error: {last.GetBaseException().Message})" : "")}");
    }

    static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    CliProcess Start(string? networkNamespace, string[] arguments, params (string Name, string Value)[] environment)
    {
        var process = CliProcess.Start(networkNamespace, arguments, environment);
        _processes.Add(process);
        return process;
    }

    /// <summary>The command line as a child process (in a network namespace when one is named), its output collected.</summary>
    sealed class CliProcess : IDisposable
    {
        readonly Process _process;
        readonly StringBuilder _out = new(), _err = new();

        CliProcess(Process process) => _process = process;

        public string Output { get { lock (_out) return _out.ToString(); } }
        public string Error { get { lock (_err) return _err.ToString(); } }

        public static CliProcess Start(string? networkNamespace, string[] arguments, (string Name, string Value)[] environment)
        {
            var start = new ProcessStartInfo(networkNamespace != null ? "ip" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            if (networkNamespace != null) foreach (var a in new[] { "netns", "exec", networkNamespace, "dotnet" }) start.ArgumentList.Add(a);
            start.ArgumentList.Add(Cli);
            foreach (var a in arguments) start.ArgumentList.Add(a);
            start.Environment.Remove(ClusterCertificate.PasswordVariable);
            foreach (var (name, value) in environment) start.Environment[name] = value;
            var process = new CliProcess(Process.Start(start)!);
            process._process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (process._out) process._out.AppendLine(e.Data); };
            process._process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (process._err) process._err.AppendLine(e.Data); };
            process._process.BeginOutputReadLine();
            process._process.BeginErrorReadLine();
            return process;
        }

        public async Task<int> ExitAsync(TimeSpan timeout)
        {
            using var cancel = new CancellationTokenSource(timeout);
            try { await _process.WaitForExitAsync(cancel.Token); }
            catch (OperationCanceledException) { throw new TimeoutException($"still running after {timeout.TotalSeconds} s:\n{Output}\n{Error}"); }
            _process.WaitForExit(); // the output's last lines
            return _process.ExitCode;
        }

        public async Task WaitForLineAsync(string start, TimeSpan? timeout = null)
        {
            var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
            while (!Output.Split('\n').Any(l => l.Contains(start)))
            {
                if (_process.HasExited) throw new InvalidOperationException($"exited with {_process.ExitCode} before printing '{start}':\n{Output}\n{Error}");
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"no line '{start}' in time:\n{Output}\n{Error}");
                await Task.Delay(200);
            }
        }

        public void Dispose()
        {
            // SIGTERM first: `cluster local` stops its silos and store itself; then whatever is left goes.
            if (!_process.HasExited)
            {
                try { Process.Start("kill", ["-TERM", $"{_process.Id}"])?.WaitForExit(); } catch (Exception) { }
                if (!_process.WaitForExit(TimeSpan.FromSeconds(40))) { try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }
            }
            _process.Dispose();
        }
    }

    /// <summary>
    /// Two network namespaces made for one test and a veth pair between them, with addresses of its
    /// own (10.213.0.1/30 and .2); nothing else is reachable from either. Deleted on dispose.
    /// </summary>
    sealed class NetworkNamespaces : IDisposable
    {
        public const string SiloAddress = "10.213.0.1", ClientAddress = "10.213.0.2";
        public string SiloSide { get; }
        public string ClientSide { get; }

        NetworkNamespaces(string tag) => (SiloSide, ClientSide) = ($"pvk-silo-{tag}", $"pvk-client-{tag}");

        public static NetworkNamespaces Create()
        {
            string tag = $"{Environment.ProcessId % 100000}{Random.Shared.Next(100, 1000)}";
            var net = new NetworkNamespaces(tag);
            try
            {
                Ip("netns", "add", net.SiloSide);
                Ip("netns", "add", net.ClientSide);
                // Created inside the silo's namespace, its peer moved to the client's: never in the host's.
                Ip("-n", net.SiloSide, "link", "add", "pvks0", "type", "veth", "peer", "name", "pvkc0", "netns", net.ClientSide);
                Ip("-n", net.SiloSide, "addr", "add", $"{SiloAddress}/30", "dev", "pvks0");
                Ip("-n", net.ClientSide, "addr", "add", $"{ClientAddress}/30", "dev", "pvkc0");
                foreach (var (ns, link) in new[] { (net.SiloSide, "pvks0"), (net.ClientSide, "pvkc0"), (net.SiloSide, "lo"), (net.ClientSide, "lo") })
                    Ip("-n", ns, "link", "set", link, "up");
                return net;
            }
            catch
            {
                net.Dispose();
                throw;
            }
        }

        static void Ip(params string[] arguments)
        {
            var start = new ProcessStartInfo("ip", arguments) { RedirectStandardError = true, UseShellExecute = false };
            using var process = Process.Start(start)!;
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException($"ip {string.Join(' ', arguments)}: {error.Trim()}");
        }

        public void Dispose()
        {
            // Deleting a namespace deletes the veth end inside it (and so the pair).
            foreach (var ns in new[] { SiloSide, ClientSide })
                try { Ip("netns", "del", ns); } catch (InvalidOperationException) { }
        }
    }
}
