using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using PaperVec.Api.Hosting;
using PaperVec.Tests.Api;
using Microsoft.Extensions.Hosting;
using PaperVec.Cluster;
using PaperVec.Cluster.Hosting;
using PaperVec.Ingest;
using PaperVec.Engine;
using PaperVec.Search;
using PaperVec.Storage;
using Xunit.Abstractions;
using PaperVec.Cluster.Shards;

namespace PaperVec.Tests.Cluster;

/// <summary>
/// Three silo processes on loopback, 4 shards x 2 replicas: exact answers equal one node's on the
/// same papers; kill -9 of a silo during an ingest and during queries loses no acknowledged paper
/// and leaves every query answered in full; the silo restarted catches up, and serves when the
/// other holder of its shards dies in turn.
/// </summary>
public sealed partial class ClusterFailoverTests(ITestOutputHelper output) : IDisposable
{
    const int Batch = 250;
    readonly string _root = Directory.CreateTempSubdirectory("papervec-cluster-").FullName;
    /// <summary>The running cluster's client, to call one replica directly.</summary>
    IGrainFactory _grains = null!;

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    /// <summary>
    /// The first <paramref name="count"/> papers of the shared arXiv corpus, with their arXiv ids,
    /// embedded once here (the cluster and the single node store the same vectors).
    /// </summary>
    static List<IncomingPaper> CorpusPapers(int count)
    {
        string path = RepoPaths.RequireShared(RepoPaths.SharedCorpus);
        var records = PaperRecordReader.ReadAll(string.Join('\n', File.ReadLines(path).Take(count)), path);
        using var embedder = PaperVec.Embedding.Embedder.Load(new PaperVec.Embedding.EmbedderOptions { ModelDirectory = RepoPaths.ModelDir });
        var vectors = embedder.Embed(records.Select(p => PaperVec.Embedding.PaperText.ForEmbedding(p.Title, p.Abstract)).ToList());
        return records.Select((p, i) => p with { Vector = vectors[i] }).ToList();
    }

    [SkippableFact]
    [Trait("Category", "Cluster")]
    public async Task Three_silos_answer_as_one_node_and_lose_no_acknowledged_paper_when_a_silo_dies()
    {
        var papers = CorpusPapers(5000);
        // Exact search on the single node too (it turns to the graph at 3,000 papers; each shard holds ~1,250).
        await using var single = await PaperCollection.OpenAsync(Path.Combine(_root, "single"), new PaperDatabaseOptions { ExactSearchBelow = int.MaxValue });
        await WithClusterAsync(ClusterMembership.Development, async (silos, cluster, _) =>
        {
            var acked = new List<IncomingPaper>();
            async Task IngestAsync(IReadOnlyList<IncomingPaper> batch)
            {
                var (result, _) = await cluster.IngestAsync(batch);
                Assert.Equal(batch.Count, result.KeysByPosition.Count);
                acked.AddRange(batch); // acknowledged: must never be lost
                await single.IngestEmbeddedAsync(batch, cluster.ModelId);
            }

            for (int b = 0; b < 6; b++) await IngestAsync(papers.Skip(b * Batch).Take(Batch).ToList());
            await AssertSameAnswersAsync(cluster, single, papers, "all silos up");
            await AssertSameRecommendationsAsync(cluster, single);

            // kill -9 silo 2 in the middle of an ingest: later batches are acknowledged by the live replicas.
            for (int b = 6; b < 14; b++)
            {
                var batch = papers.Skip(b * Batch).Take(Batch).ToList();
                var ingest = IngestAsync(batch);
                if (b == 8) silos[2].Kill();
                await ingest;
            }
            await AssertSameAnswersAsync(cluster, single, papers, "silo 2 dead");
            await AssertNothingLostAsync(cluster, acked);

            // Deletes while silo 2 is dead, of papers on shard 1 (replicas on silos 1 and 2): silo 2's copies must not come back.
            var deleted = acked.Where(p => cluster.Layout.ShardOf(PaperIdentity.KeyOfTitle(p.Title)) == 1).Take(3).ToList();
            foreach (var paper in deleted)
            {
                Assert.True(await cluster.DeleteAsync(paper.SourceId!));
                Assert.NotNull(await single.DeleteAsync(paper.SourceId!));
                acked.Remove(paper);
            }

            // Silo 2 comes back, catches up from the live replicas; then silo 1 dies during queries and
            // shard 1, whose replicas are on silos 1 and 2, is served by the one that caught up.
            silos[2].Start();
            await silos[2].WaitForGatewayAsync();
            await WaitAllReadyAsync(cluster); // every replica, silo 2's included
            var queries = AssertSameAnswersAsync(cluster, single, papers, "silo 1 dying");
            silos[1].Kill();
            await queries;
            // Shard 1 is now read from silo 2 alone, which held the deleted papers when it died.
            foreach (var paper in deleted)
                Assert.Null(await cluster.FindAsync(PaperIdentity.Format(PaperIdentity.KeyOfTitle(paper.Title))));
            for (int b = 14; b < 20; b++) await IngestAsync(papers.Skip(b * Batch).Take(Batch).ToList());
            await AssertSameAnswersAsync(cluster, single, papers, "silo 1 dead");
            await AssertNothingLostAsync(cluster, acked);

            var status = await cluster.StatusAsync();
            Assert.All(status.Where(s => s.Silo != "silo-1"), s => Assert.True(s.Ready, $"{s.Shard}/{s.Silo}: {s.Note}"));
            Assert.All(status.Where(s => s.Silo == "silo-1"), s => Assert.False(s.Ready));
        });
    }

    /// <summary>
    /// `serve --cluster` (in this process, on a TestServer) over 3 silo processes answers the sample
    /// digests' routes as one node's server does: ingest counts and lists, digests with "seen
    /// before" across shards, exact search, similar, papers; /ready and /metrics show every replica,
    /// and after a silo dies /ready names its replicas while every answer stays complete.
    /// </summary>
    [Fact]
    [Trait("Category", "Cluster")]
    public async Task Serve_cluster_answers_the_sample_digests_as_one_node_and_shows_replica_health()
    {
        await using var single = await ApiServer.StartAsync();
        // Membership in a Garnet server (a Redis-compatible store) in this process, as a deployment on many machines would keep it.
        var ports = FreeEndpoints(); // ten ports: silos on base..base+2, gateways on base+5..base+7, Garnet on base+9
        int storePort = ports.SiloPortBase + 9;
        using var store = new Garnet.GarnetServer(["--bind", "127.0.0.1", "--port", $"{storePort}", "--lua"]); // Orleans' Redis membership runs Lua scripts
        store.Start();
        var membership = ClusterMembership.Parse($"redis:127.0.0.1:{storePort}");
        await WithClusterAsync(membership, async (silos, _, endpoints) =>
        {
            var app = await PaperVec.Cli.Hosting.ClusterServer.CreateAsync(new ServerOptions { ModelDirectory = RepoPaths.ModelDir }, new PaperVec.Cli.Hosting.ClusterConnection(endpoints, 3, membership),
                builder => builder.WebHost.UseTestServer());
            await app.StartAsync();
            try
            {
                await app.Services.GetRequiredService<ServedPapers>().WhenModelLoaded;
                var http = app.GetTestClient();
                var digestIds = new List<string>();
                foreach (var file in new[] { "daily-papers-mar-11.txt", "daily-papers-mar-12.txt" })
                {
                    var expected = await single.PostSampleDigestAsync(file);
                    var response = await http.PostAsync($"/digests?year=2025&name={Path.GetFileNameWithoutExtension(file)}",
                        new ByteArrayContent(File.ReadAllBytes(Path.Combine(RepoPaths.Digests, file))));
                    Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                    var actual = await response.Content.ReadFromJsonAsync<JsonElement>();
                    Assert.Equal(expected.GetRawText(), actual.GetRawText()); // counts, new papers, duplicates, problems
                    digestIds.Add(actual.GetProperty("digest").GetString()!);
                }
                Assert.Equal(3, (await GetAsync(http, $"/digests/{digestIds[1]}")).GetProperty("seenBefore").GetInt32());

                // A record retitled under its source id, the new title hashing to another shard: still one paper, found by either title.
                var layoutOfCluster = ((ClusterCollection)app.Services.GetRequiredService<ServedPapers>().Collection).Layout;
                const string firstTitle = "Sparse Mixtures of Experts for Retrieval";
                string newTitle = Enumerable.Range(1, 100).Select(i => $"Sparse Expert Mixtures for Dense Retrieval, Revision {i}")
                    .First(t => layoutOfCluster.ShardOf(PaperIdentity.KeyOfTitle(t)) != layoutOfCluster.ShardOf(PaperIdentity.KeyOfTitle(firstTitle)));
                const string body = "We route queries to sparse experts. Retrieval quality improves on BEIR while compute stays flat across model sizes.";
                foreach (var (title, date) in new[] { (firstTitle, "2025-03-10"), (newTitle, "2025-03-12") })
                {
                    string record = JsonSerializer.Serialize(new[] { new { id = "2503.99999", title, @abstract = body, date } });
                    var expected = await (await single.Client.PostAsync("/papers", new StringContent(record))).Content.ReadAsStringAsync();
                    Assert.Equal(expected, await (await http.PostAsync("/papers", new StringContent(record))).Content.ReadAsStringAsync());
                }
                Assert.Equal((await GetAsync(single.Client, "/papers/2503.99999")).GetRawText(), (await GetAsync(http, "/papers/2503.99999")).GetRawText());
                var listed = $"2025-03-13\n\n{newTitle}\n\n{body}\n";
                Assert.Equal(await (await single.Client.PostAsync("/digests?name=retitled", new StringContent(listed))).Content.ReadAsStringAsync(),
                    await (await http.PostAsync("/digests?name=retitled", new StringContent(listed))).Content.ReadAsStringAsync());

                // A paper listed again under a reworded title that puts it on another shard: retitled at ingest, in the view and in /duplicates.
                var (original, reworded) = ("Deep Gradient Compression for Distributed Training", "Compressing Gradients: Communication-Efficient Distributed Training");
                var layout = ((ClusterCollection)app.Services.GetRequiredService<ServedPapers>().Collection).Layout;
                Assert.NotEqual(layout.ShardOf(PaperIdentity.KeyOfTitle(original)), layout.ShardOf(PaperIdentity.KeyOfTitle(reworded)));
                foreach (var (name, date, title) in new[] { ("monday", "2025-03-10", original), ("tuesday", "2025-03-11", reworded) })
                {
                    var expected = await (await single.Client.PostAsync($"/digests?name={name}", RetitledDigestTests.Digest(date, title))).Content.ReadAsStringAsync();
                    var actual = await (await http.PostAsync($"/digests?name={name}", RetitledDigestTests.Digest(date, title))).Content.ReadAsStringAsync();
                    Assert.Equal(expected, actual);
                    if (name == "tuesday") Assert.Contains("\"retitled\":1", actual);
                    digestIds.Add($"{date}/{name}");
                }

                string Digests(JsonElement list) => string.Join(";", list.EnumerateArray().Select(d => $"{d.GetProperty("id")}|{d.GetProperty("date")}|{d.GetProperty("papers")}"));
                Assert.Equal(Digests(await GetAsync(single.Client, "/digests")), Digests(await GetAsync(http, "/digests")));
                foreach (var id in digestIds)
                {
                    var (expected, actual) = (await GetAsync(single.Client, $"/digests/{id}"), await GetAsync(http, $"/digests/{id}"));
                    Assert.Equal(expected.GetProperty("papers").GetRawText(), actual.GetProperty("papers").GetRawText());
                    Assert.Equal(expected.GetProperty("seenBefore").GetInt32(), actual.GetProperty("seenBefore").GetInt32());
                }
                await AssertSameRoutesAsync(single.Client, http, "all silos up");
                var hybrid = await GetAsync(http, "/search?q=visual+explanations+for+deep+networks&k=3");
                Assert.StartsWith("Grad-CAM", hybrid.GetProperty("results")[0].GetProperty("title").GetString());

                // /ready and /metrics read the replicas' health as last polled (every 2 s).
                var deadline = DateTime.UtcNow.AddSeconds(30);
                var ready = await GetAsync(http, "/ready");
                while (ready.GetProperty("papers").GetInt32() != single.Library.PaperCount && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(500);
                    ready = await GetAsync(http, "/ready");
                }
                Assert.Equal(4, ready.GetProperty("shards").GetArrayLength());
                Assert.All(ready.GetProperty("shards").EnumerateArray(), s => Assert.Equal(2, s.GetProperty("replicas").EnumerateArray().Count(r => r.GetProperty("ready").GetBoolean())));
                Assert.Equal(single.Library.PaperCount, ready.GetProperty("papers").GetInt32());
                string metrics = await http.GetStringAsync("/metrics");
                Assert.Contains("papervec_cluster_replica_ready{", metrics);
                Assert.Contains("papervec_cluster_replica_papers{", metrics);
                var liked = (await GetAsync(http, "/search?q=neural+networks&mode=semantic&k=3")).GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToArray();
                var recommended = await http.PostAsync("/recommend", JsonContent.Create(new { liked, k = 5 }));
                Assert.Equal(HttpStatusCode.OK, recommended.StatusCode);
                var results = (await recommended.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results");
                Assert.Equal(5, results.GetArrayLength());
                Assert.All(results.EnumerateArray(), r => Assert.NotEqual(0, r.GetProperty("because").GetArrayLength()));
                // A reader's library lives on its own shard; recommendations and a digest ranked by it read every shard.
                foreach (var server in new[] { single.Client, http })
                    Assert.Equal(HttpStatusCode.OK, (await server.PutAsync("/libraries/mine", JsonContent.Create(new { liked, disliked = Array.Empty<string>() }))).StatusCode);
                var library = await GetAsync(http, "/libraries/mine");
                Assert.Equal((await GetAsync(single.Client, "/libraries/mine")).GetProperty("liked").GetRawText(), library.GetProperty("liked").GetRawText());
                Assert.Equal(HttpStatusCode.OK, (await http.PatchAsync("/libraries/mine", JsonContent.Create(new { dislike = new[] { results[0].GetProperty("id").GetString() } }))).StatusCode);
                Assert.Equal(1, (await GetAsync(http, "/libraries/mine")).GetProperty("disliked").GetArrayLength());
                // One paper under two spellings of its id, both liked and disliked: 400 naming both, on the cluster as on one node.
                string shouted = liked[0]!.ToUpperInvariant();
                foreach (var client in new[] { http, single.Client })
                {
                    var put = await client.PutAsync("/libraries/conflict", JsonContent.Create(new { liked = new[] { liked[0] }, disliked = new[] { shouted } }));
                    Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
                    Assert.Contains(shouted, await put.Content.ReadAsStringAsync());
                    var recommend = await client.PostAsync("/recommend", JsonContent.Create(new { liked = new[] { liked[0] }, disliked = new[] { shouted } }));
                    Assert.Equal(HttpStatusCode.BadRequest, recommend.StatusCode);
                    Assert.Contains(shouted, await recommend.Content.ReadAsStringAsync());
                }
                var forLibrary = await http.PostAsync("/recommend", JsonContent.Create(new { library = "mine", k = 5 }));
                Assert.Equal(HttpStatusCode.OK, forLibrary.StatusCode);
                Assert.DoesNotContain(results[0].GetProperty("id").GetString()!, await forLibrary.Content.ReadAsStringAsync()); // disliked: never recommended
                var ranked = await GetAsync(http, $"/digests/{digestIds[1]}?library=mine");
                Assert.Equal(44, ranked.GetProperty("papers").GetArrayLength());
                Assert.Single((await GetAsync(http, "/libraries")).EnumerateArray());
                // A delete: gone from both, every id it had stops resolving.
                foreach (var server in new[] { single.Client, http })
                {
                    Assert.Equal(HttpStatusCode.NoContent, (await server.DeleteAsync("/papers/2503.99999")).StatusCode);
                    Assert.Equal(HttpStatusCode.NotFound, (await server.GetAsync("/papers/2503.99999")).StatusCode);
                    Assert.Equal(HttpStatusCode.NotFound, (await server.DeleteAsync("/papers/2503.99999")).StatusCode);
                }

                // A silo dies: /ready names its replicas as not ready, stays 200 (every shard has another), and answers stay whole.
                silos[2].Kill();
                deadline = DateTime.UtcNow.AddSeconds(60);
                JsonElement after;
                do
                {
                    await Task.Delay(500);
                    after = await GetAsync(http, "/ready");
                } while (!after.GetProperty("shards").EnumerateArray().SelectMany(s => s.GetProperty("replicas").EnumerateArray())
                    .Any(r => r.GetProperty("silo").GetString() == "silo-2" && !r.GetProperty("ready").GetBoolean()) && DateTime.UtcNow < deadline);
                var dead = after.GetProperty("shards").EnumerateArray().SelectMany(s => s.GetProperty("replicas").EnumerateArray())
                    .Where(r => r.GetProperty("silo").GetString() == "silo-2").ToList();
                Assert.NotEmpty(dead);
                Assert.All(dead, r => Assert.False(r.GetProperty("ready").GetBoolean()));
                await AssertSameRoutesAsync(single.Client, http, "silo 2 dead");
                Assert.Equal(1, (await GetAsync(http, "/libraries/mine")).GetProperty("disliked").GetArrayLength());
                Assert.Equal(3, (await GetAsync(http, $"/digests/{digestIds[1]}")).GetProperty("seenBefore").GetInt32());
            }
            finally
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }, ports);
    }

    static async Task<JsonElement> GetAsync(HttpClient http, string url)
    {
        var response = await http.GetAsync(url);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {url}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Exact semantic search, similar and paper lookups answer the same through both servers (ids, order, scores, fields).</summary>
    static async Task AssertSameRoutesAsync(HttpClient single, HttpClient cluster, string when)
    {
        foreach (var q in new[] { "visual+explanations+for+deep+networks", "graph+neural+networks", "adversarial+examples", "reinforcement+learning" })
        {
            string url = $"/search?q={q}&mode=semantic&k=10";
            Assert.Equal((await GetAsync(single, url)).GetProperty("results").GetRawText(), (await GetAsync(cluster, url)).GetProperty("results").GetRawText());
        }
        var duplicates = (await GetAsync(cluster, "/duplicates")).GetRawText();
        Assert.Equal((await GetAsync(single, "/duplicates")).GetRawText(), duplicates);
        Assert.Contains("\"kind\":\"exact\"", duplicates); // the 3 papers listed on both days
        var papers = (await GetAsync(single, "/search?q=neural+networks&mode=semantic&k=5")).GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToList();
        foreach (var id in papers)
        {
            Assert.True((await GetAsync(single, $"/papers/{id}")).GetRawText() == (await GetAsync(cluster, $"/papers/{id}")).GetRawText(), $"{when}: /papers/{id}");
            // With diversity too: the cluster reads one node's pool depth and picks by the node's MMR (it answered 400 before).
            foreach (var similar in new[] { $"/papers/{id}/similar?k=5", $"/papers/{id}/similar?k=5&diversity=0.5", $"/papers/{id}/similar?k=8&diversity=1" })
            {
                var (expected, actual) = ((await GetAsync(single, similar)).GetProperty("results").GetRawText(), (await GetAsync(cluster, similar)).GetProperty("results").GetRawText());
                Assert.True(expected == actual, $"{when}: {similar}: expected {expected}, got {actual}");
            }
        }
    }

    /// <summary>
    /// Starts 3 silo processes (4 shards x 2 replicas) and a client, waits until every replica is
    /// ready, runs <paramref name="body"/>; on failure the silos' output goes to the test log.
    /// </summary>
    async Task WithClusterAsync(ClusterMembership membership, Func<SiloProcess[], ClusterCollection, ClusterEndpoints, Task> body, ClusterEndpoints? ports = null,
        ClusterLayout? layout = null)
    {
        layout ??= ClusterLayout.Create(shards: 4, replicas: 2, silos: 3);
        var endpoints = ports ?? FreeEndpoints();
        var silos = Enumerable.Range(0, 3).Select(i => new SiloProcess(Path.Combine(_root, "cluster"), i, layout, endpoints, membership)).ToArray();
        try
        {
            silos[0].Start();
            await silos[0].WaitForGatewayAsync();
            silos[1].Start(); silos[2].Start();
            await Task.WhenAll(silos[1].WaitForGatewayAsync(), silos[2].WaitForGatewayAsync());
            using var client = ClusterClientHost.Build(endpoints, layout.Silos, membership);
            await client.StartAsync();
            _grains = client.Services.GetRequiredService<IClusterClient>();
            var cluster = await ClusterCollection.ConnectAsync(_grains);
            Assert.Equal(layout, cluster.Layout);
            await WaitAllReadyAsync(cluster);
            await body(silos, cluster, endpoints);
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

    /// <summary>Ten consecutive free ports: silos on base..base+2, gateways on base+5..base+7, Garnet on base+9.</summary>
    static ClusterEndpoints FreeEndpoints()
    {
        int basePort = FreePorts.Block();
        return new ClusterEndpoints(basePort, basePort + 5);
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
            // Every third query with diversity: maximal marginal relevance over the merged pool.
            var scope = new SearchScope { K = 10, Diversity = q % 3 == 2 ? 0.5 : 0 };
            var expected = await single.SearchAsync(new SearchQuery("", vector, SearchMode.Semantic), scope);
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
            var diverse = single.Similar(paper.Key, scope with { Diversity = 0.5 })!;
            var diverseActual = await cluster.SimilarAsync(paper.Id, new SearchScope { K = 10, Diversity = 0.5 });
            Assert.True(diverse.Select(r => (r.Id, r.Score)).SequenceEqual(diverseActual!.Select(r => (r.Id, r.Score))), $"{when}: similar to {paper.Id} with diversity");
        }
    }

    /// <summary>
    /// Recommendations by the semantic, term and fused (default) strategies equal one node's (ids, order,
    /// scores, the liked papers each is closest to, shared terms); the hybrid answers in full (its BM25 half uses each shard's statistics).
    /// </summary>
    static async Task AssertSameRecommendationsAsync(ClusterCollection cluster, PaperCollection single)
    {
        var stored = single.Database.Papers().Select(p => p.Id).Order(StringComparer.Ordinal).ToList();
        var random = new Random(5);
        for (int reader = 0; reader < 3; reader++)
        {
            var liked = Enumerable.Range(0, 8).Select(_ => stored[random.Next(stored.Count)]).Distinct().ToList();
            var disliked = Enumerable.Range(0, 3).Select(_ => stored[random.Next(stored.Count)]).Except(liked).ToList();
            var scope = new SearchScope { K = 10 };
            foreach (var (strategy, diversity) in new[] { (PaperVec.Recommend.RecommendStrategy.Classifier, 0.0), (PaperVec.Recommend.RecommendStrategy.Centroid, 0.0),
                (PaperVec.Recommend.RecommendStrategy.Classifier, 0.5), (PaperVec.Recommend.RecommendStrategy.Fused, 0.0), (PaperVec.Recommend.RecommendStrategy.TermClassifier, 0.0),
                (PaperVec.Recommend.RecommendStrategy.TermCentroid, 0.0) })
            {
                var expected = await single.RecommendAsync(liked, disliked, scope with { Diversity = diversity }, strategy: strategy);
                var actual = await cluster.RecommendAsync(liked, disliked, scope with { Diversity = diversity }, strategy: strategy);
                Assert.Equal(Show(expected), Show(actual));
            }
            // Asked again, both answer from their warm models (trained once on the coordinator, serving every shard's ranking) and still agree.
            long nodeTrainings = single.LibraryModels.Trainings, clusterTrainings = cluster.LibraryModels.Trainings;
            var warmExpected = await single.RecommendAsync(liked, disliked, scope);
            var warmActual = await cluster.RecommendAsync(liked, disliked, scope);
            Assert.Equal(Show(warmExpected), Show(warmActual));
            Assert.Equal((nodeTrainings, clusterTrainings), (single.LibraryModels.Trainings, cluster.LibraryModels.Trainings));
            var hybrid = await cluster.RecommendAsync(liked, disliked, scope, strategy: PaperVec.Recommend.RecommendStrategy.Hybrid);
            Assert.Equal(10, hybrid.Count);
            Assert.DoesNotContain(hybrid, r => liked.Contains(r.Id) || disliked.Contains(r.Id));
        }
        await Assert.ThrowsAsync<UnknownPapersException>(() => cluster.RecommendAsync(["no-such-paper"], [], new SearchScope { K = 5 }));

        static string Show(List<SearchResult> results) => string.Join("; ", results.Select(r => $"{r.Id} {r.Score} [{string.Join(",", r.Because!.Select(b => $"{b.Id}:{b.Similarity}"))}] {string.Join(",", r.SharedTerms ?? [])}"));
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
