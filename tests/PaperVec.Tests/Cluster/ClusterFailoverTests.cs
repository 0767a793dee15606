using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PaperVec.Cluster;
using PaperVec.Cluster.Hosting;
using PaperVec.Digests;
using PaperVec.Engine;
using PaperVec.Search;
using PaperVec.Storage;
using Xunit.Abstractions;

namespace PaperVec.Tests.Cluster;

/// <summary>
/// Three silo processes on loopback, 4 shards x 2 replicas: exact answers equal one node's on the
/// same papers; kill -9 of a silo during an ingest and during queries loses no acknowledged paper
/// and leaves every query answered in full; the silo restarted catches up, and serves when the
/// other holder of its shards dies in turn.
/// </summary>
public sealed class ClusterFailoverTests(ITestOutputHelper output) : IDisposable
{
    const int Batch = 100;
    readonly string _root = Directory.CreateTempSubdirectory("papervec-cluster-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    /// <summary>Synthetic papers (titles, abstracts, clustered unit vectors): no model needed, so the test stays fast.</summary>
    static List<IncomingPaper> Papers(int count, int seed)
    {
        var random = new Random(seed);
        var centres = Enumerable.Range(0, 40).Select(_ => Unit(Enumerable.Range(0, 384).Select(_ => (float)random.NextDouble() - 0.5f).ToArray())).ToArray();
        return Enumerable.Range(0, count).Select(i =>
        {
            var centre = centres[random.Next(centres.Length)];
            var vector = Unit(centre.Select(c => c + 0.35f * ((float)random.NextDouble() - 0.5f)).ToArray());
            return new IncomingPaper($"Cluster paper {seed}-{i} on topic {i % 40}", $"Abstract of paper {i}: shards, replicas and failover, variant {i % 17}.")
            {
                Vector = vector, Date = new DateOnly(2025, 3, 1 + i % 28),
            };
        }).ToList();
    }

    static float[] Unit(float[] v)
    {
        float norm = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / norm).ToArray();
    }

    [Fact]
    [Trait("Category", "Cluster")]
    public async Task Three_silos_answer_as_one_node_and_lose_no_acknowledged_paper_when_a_silo_dies()
    {
        using var single = PaperCollection.Open(Path.Combine(_root, "single"));
        await WithClusterAsync(embedder: null, async (silos, cluster) =>
        {
            var papers = Papers(2400, seed: 7); // under the exact-search size on one node, so both search exactly
            var acked = new List<IncomingPaper>();
            async Task IngestAsync(IReadOnlyList<IncomingPaper> batch)
            {
                var result = await cluster.IngestAsync(batch);
                Assert.Equal(batch.Count, result.Ids.Count);
                acked.AddRange(batch); // acknowledged: must never be lost
                await single.IngestEmbeddedAsync(batch, cluster.ModelId);
            }

            for (int b = 0; b < 8; b++) await IngestAsync(papers.Skip(b * Batch).Take(Batch).ToList());
            await AssertSameAnswersAsync(cluster, single, papers, "all silos up");

            // kill -9 silo 2 in the middle of an ingest: later batches are acknowledged by the live replicas.
            for (int b = 8; b < 16; b++)
            {
                var batch = papers.Skip(b * Batch).Take(Batch).ToList();
                var ingest = IngestAsync(batch);
                if (b == 10) silos[2].Kill();
                await ingest;
            }
            await AssertSameAnswersAsync(cluster, single, papers, "silo 2 dead");
            await AssertNothingLostAsync(cluster, acked);

            // Silo 2 comes back, catches up from the live replicas; then silo 1 dies during queries and
            // shard 1, whose replicas are on silos 1 and 2, is served by the one that caught up.
            silos[2].Start();
            await silos[2].WaitForGatewayAsync();
            await WaitAllReadyAsync(cluster); // every replica, silo 2's included
            var queries = AssertSameAnswersAsync(cluster, single, papers, "silo 1 dying");
            silos[1].Kill();
            await queries;
            for (int b = 16; b < 20; b++) await IngestAsync(papers.Skip(b * Batch).Take(Batch).ToList());
            await AssertSameAnswersAsync(cluster, single, papers, "silo 1 dead");
            await AssertNothingLostAsync(cluster, acked);

            var status = await cluster.StatusAsync();
            Assert.All(status.Where(s => s.Silo != "silo-1"), s => Assert.True(s.Ready, $"{s.Shard}/{s.Silo}: {s.Note}"));
            Assert.All(status.Where(s => s.Silo == "silo-1"), s => Assert.False(s.Ready));
        });
    }

    [Fact]
    [Trait("Category", "Cluster")]
    public async Task The_sample_digests_through_the_cluster_read_as_on_one_node()
    {
        using var embedder = PaperVec.Embedding.Embedder.Load(new PaperVec.Embedding.EmbedderOptions { ModelDirectory = RepoPaths.ModelDir });
        using var single = PaperCollection.Open(Path.Combine(_root, "single"));
        await single.AttachModelAsync(embedder);
        await WithClusterAsync(embedder, async (_, cluster) =>
        {
            foreach (var path in Directory.GetFiles(RepoPaths.Digests, "*.txt").Order(StringComparer.Ordinal))
            {
                var digest = DigestParser.Parse(DigestParser.DecodeText(File.ReadAllBytes(path), path), new DigestParseOptions { Year = 2025, FileName = path });
                var papers = PaperIngestor.PapersOf(digest);
                var expected = await single.IngestAsync(papers, defaultDate: digest.Date);
                var actual = await cluster.IngestAsync(papers, digest.Date);
                Assert.Equal((expected.New, expected.SeenExact, expected.Revised), (actual.New, actual.SeenExact, actual.Revised));
            }
            Assert.Equal(single.Database.PaperCount, (await cluster.StatusAsync()).GroupBy(s => s.Shard).Sum(g => g.Max(s => s.Papers)));

            foreach (var text in new[] { "visual explanations for deep networks", "graph neural networks", "adversarial examples", "reinforcement learning" })
            {
                var query = new SearchQuery(text, embedder.Embed(text), SearchMode.Semantic);
                var expected = single.Search(query, new SearchScope { K = 10 });
                var actual = await cluster.SearchAsync(query, new SearchScope { K = 10 });
                Assert.Equal(expected.Select(r => (r.Id, r.Score)), actual.Select(r => (r.Id, r.Score)));
            }
            var hybrid = await cluster.SearchAsync(new SearchQuery("visual explanations for deep networks", embedder.Embed("visual explanations for deep networks")), new SearchScope { K = 3 });
            Assert.StartsWith("Grad-CAM", hybrid[0].Title);
        });
    }

    /// <summary>
    /// Starts 3 silo processes (4 shards x 2 replicas) and a client, waits until every replica is
    /// ready, runs <paramref name="body"/>; on failure the silos' output goes to the test log.
    /// </summary>
    async Task WithClusterAsync(PaperVec.Embedding.Embedder? embedder, Func<SiloProcess[], ClusterCollection, Task> body)
    {
        var layout = ClusterLayout.Create(shards: 4, replicas: 2, silos: 3);
        var endpoints = FreeEndpoints();
        var silos = Enumerable.Range(0, 3).Select(i => new SiloProcess(Path.Combine(_root, "cluster"), i, layout, endpoints)).ToArray();
        try
        {
            silos[0].Start();
            await silos[0].WaitForGatewayAsync();
            silos[1].Start(); silos[2].Start();
            await Task.WhenAll(silos[1].WaitForGatewayAsync(), silos[2].WaitForGatewayAsync());
            using var client = ClusterClientHost.Build(endpoints, layout.Silos);
            await client.StartAsync();
            var cluster = await ClusterCollection.ConnectAsync(client.Services.GetRequiredService<IClusterClient>(), embedder);
            Assert.Equal(layout, cluster.Layout);
            await WaitAllReadyAsync(cluster);
            await body(silos, cluster);
            await client.StopAsync();
        }
        catch
        {
            foreach (var silo in silos) output.WriteLine(silo.Output);
            throw;
        }
        finally
        {
            foreach (var silo in silos) silo.Dispose();
        }
    }

    /// <summary>
    /// Ten consecutive ports that are free now, below Linux's ephemeral range (32768 and up), so no
    /// outgoing connection of a test running alongside takes one of them between here and the
    /// silos' start.
    /// </summary>
    static ClusterEndpoints FreeEndpoints()
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            int basePort = 10000 + Random.Shared.Next(0, 2200) * 10;
            var listeners = new List<System.Net.Sockets.TcpListener>();
            try
            {
                for (int port = basePort; port < basePort + 10; port++)
                {
                    var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
                    listener.Start();
                    listeners.Add(listener);
                }
                return new ClusterEndpoints(basePort, basePort + 5);
            }
            catch (System.Net.Sockets.SocketException) { }
            finally { foreach (var listener in listeners) listener.Stop(); }
        }
        throw new InvalidOperationException("no ten free consecutive ports below 32000");
    }

    static async Task WaitAllReadyAsync(ClusterCollection cluster, int exceptSilo = -1)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var status = await cluster.StatusAsync();
            if (status.Where(s => s.Silo != ClusterLayout.SiloName(exceptSilo)).All(s => s.Ready)) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("replicas not ready: " + string.Join("; ", status.Where(s => !s.Ready).Select(s => $"{s.Shard}/{s.Silo} {s.Note}")));
            await Task.Delay(500);
        }
    }

    /// <summary>Exact semantic search and "similar" on the cluster equal one node's (ids, order and scores).</summary>
    static async Task AssertSameAnswersAsync(ClusterCollection cluster, PaperCollection single, List<IncomingPaper> papers, string when)
    {
        var random = new Random(11);
        for (int q = 0; q < 12; q++)
        {
            var vector = papers[random.Next(papers.Count)].Vector!;
            var scope = new SearchScope { K = 10 };
            var expected = single.Search(new SearchQuery("", vector, SearchMode.Semantic), scope);
            var actual = await cluster.SearchAsync(new SearchQuery("", vector, SearchMode.Semantic), scope);
            Assert.True(expected.Select(r => (r.Id, r.Score)).SequenceEqual(actual.Select(r => (r.Id, r.Score))),
                $"{when}: search {q}: expected {string.Join(',', expected.Select(r => r.Id))}, got {string.Join(',', actual.Select(r => r.Id))}");
        }
        foreach (var paper in single.Database.Papers().Take(6))
        {
            var scope = new SearchScope { K = 10, Exclude = new HashSet<long> { paper.Key } };
            var expected = single.Similar(paper.Key, scope)!;
            var actual = await cluster.SimilarAsync(paper.Id, new SearchScope { K = 10 });
            Assert.NotNull(actual);
            Assert.True(expected.Select(r => (r.Id, r.Score)).SequenceEqual(actual!.Select(r => (r.Id, r.Score))), $"{when}: similar to {paper.Id}");
        }
    }

    static async Task AssertNothingLostAsync(ClusterCollection cluster, List<IncomingPaper> acked)
    {
        foreach (var paper in acked)
        {
            string id = PaperIdentity.Format(PaperIdentity.KeyOfTitle(paper.Title));
            Assert.True(await cluster.FindAsync(id) != null, $"acknowledged paper {id} ('{paper.Title}') is missing");
        }
    }
}
