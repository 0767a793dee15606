using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PaperVec.Api.Hosting;
using PaperVec.Cluster;
using PaperVec.Cluster.Hosting;
using PaperVec.Cluster.Shards;
using PaperVec.Ingest;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Tests.Cluster;

// Honest replicas (issue 25, items 8 and 9): a replica never serves while a peer that may hold
// newer writes is out of reach, and catching up copies papers of any size before it serves.
public sealed partial class ClusterFailoverTests
{
    /// <summary>
    /// The kill order that made a replica serve stale data: ingest; kill -9 silo 1; ingest more and
    /// delete a paper (shard 1 now only on silo 2); kill -9 silo 2; restart silo 1 alone. Its replica
    /// of shard 1 must not be ready, and every read of shard 1 answers "unavailable" naming the shard,
    /// never a stale answer. Silo 2, which took the last writes while silo 1 was dead, restarts alone
    /// and serves (silo 1 cannot be ahead of it); then all are back: every acknowledged paper is
    /// there and the delete stays.
    /// </summary>
    [Fact]
    [Trait("Category", "Cluster")]
    public async Task A_replica_that_cannot_reach_a_peer_holding_newer_writes_is_not_ready_and_never_answers_stale()
    {
        var papers = SyntheticPapers(600, abstractChars: 400);
        await WithClusterAsync(ClusterMembership.Development, async (silos, cluster, _) =>
        {
            var acked = new List<IncomingPaper>();
            async Task IngestAsync(IEnumerable<IncomingPaper> batch)
            {
                var list = batch.ToList();
                await cluster.IngestAsync(list);
                acked.AddRange(list); // acknowledged: must never be lost or served stale
            }
            string IdOf(IncomingPaper p) => PaperIdentity.Format(PaperIdentity.KeyOfTitle(p.Title));
            int ShardOf(IncomingPaper p) => cluster.Layout.ShardOf(PaperIdentity.KeyOfTitle(p.Title));

            foreach (var batch in papers.Take(300).Chunk(100)) await IngestAsync(batch);
            silos[1].Kill();
            foreach (var batch in papers.Skip(300).Chunk(100)) await IngestAsync(batch);
            // Deleted while silo 1 is dead: silo 1 still holds it.
            var deleted = acked.Take(300).First(p => ShardOf(p) == 1);
            Assert.True(await cluster.DeleteAsync(IdOf(deleted)));
            acked.Remove(deleted);
            var newer = papers.Skip(300).Where(p => ShardOf(p) == 1).Take(2).ToList(); // only on silo 2
            Assert.Equal(2, newer.Count);
            // Silo 2 served shard 1 while silo 1 was declared dead: it records that silo 1 cannot be ahead of it.
            await WaitForAsync(cluster, status => Replica(status, 1, "silo-2").InSync.SequenceEqual(["silo-2"]), "silo 2 to record silo 1 as behind");

            silos[2].Kill();
            silos[1].Start();
            await silos[1].WaitForGatewayAsync();
            // Silo 1's replica of shard 0 catches up from silo 0 and serves; its replica of shard 1 must wait for silo 2.
            var status = await WaitForAsync(cluster, status =>
            {
                var waiting = Replica(status, 1, "silo-1");
                Assert.False(waiting.Ready, $"1/silo-1 is ready without silo 2, which holds newer writes: {waiting.Note}");
                return Replica(status, 0, "silo-1").Ready && waiting.Note?.Contains("silo-2 is unreachable") == true;
            }, "silo 1's replica of shard 0 to catch up, and its replica of shard 1 to say it waits for silo 2");
            var problem = ClusterHealth.Of(cluster.Layout, status).Problem; // what /ready answers with
            Assert.NotNull(problem);
            Assert.Contains("shard 1", problem);
            Assert.Contains("silo-2", problem);
            // Reads of shard 1: unavailable, never stale (the newer papers missing, the deleted one back).
            foreach (var paper in newer.Append(deleted))
            {
                var refused = await Assert.ThrowsAsync<ShardUnavailableException>(() => cluster.FindAsync(IdOf(paper)));
                Assert.Contains("shard 1", refused.Message); // the 503's problem detail: the shard, and why
                Assert.Contains("may hold writes this replica lacks", refused.Message);
            }
            await Assert.ThrowsAsync<ShardUnavailableException>(() => cluster.SearchAsync(new SearchQuery("", papers[0].Vector, SearchMode.Semantic), new SearchScope { K = 10 }));
            // It keeps trying (and stays not ready) while silo 2 is away.
            await WaitForAsync(cluster, status =>
            {
                var waiting = Replica(status, 1, "silo-1");
                Assert.False(waiting.Ready, waiting.Note);
                return System.Text.RegularExpressions.Regex.IsMatch(waiting.Note ?? "", @"attempt ([3-9]|\d\d+),");
            }, "silo 1's replica of shard 1 to try again");

            // Silo 1 dies again; silo 2 restarts alone and serves shard 1: silo 1 took no write it lacks.
            silos[1].Kill();
            silos[2].Start();
            await silos[2].WaitForGatewayAsync();
            await WaitForAsync(cluster, status => Replica(status, 1, "silo-2").Ready && Replica(status, 2, "silo-2").Ready, "silo 2 to serve alone");
            await AssertNothingLostAsync(cluster, acked);
            Assert.Null(await cluster.FindAsync(IdOf(deleted)));

            // Everyone back: both replicas of every shard ready, nothing acknowledged missing, the delete not undone.
            silos[1].Start();
            await silos[1].WaitForGatewayAsync();
            await WaitAllReadyAsync(cluster);
            await AssertNothingLostAsync(cluster, acked);
            Assert.Null(await cluster.FindAsync(IdOf(deleted)));
            foreach (var paper in newer.Append(deleted))
            {
                var held = await _grains.GetGrain<IShardReplica>(ClusterLayout.ReplicaKey(1, 1)).ReadAsync([PaperIdentity.KeyOfTitle(paper.Title)]);
                Assert.Equal(paper == deleted ? 0 : 1, held.Length);
            }
        });
    }

    /// <summary>
    /// Papers within the field caps but about 400 KB stored each, written while one replica is dead:
    /// catching up copies them in batches bounded by bytes, and the replica is ready only once it
    /// holds every one (before, 256 papers made one write too large for the log, the failure was
    /// logged as "peer unreachable" and the replica served with papers missing).
    /// </summary>
    [Fact]
    [Trait("Category", "Cluster")]
    public async Task Catching_up_copies_big_papers_in_batches_bounded_by_bytes_and_serves_only_when_complete()
    {
        var layout = ClusterLayout.Create(shards: 1, replicas: 2, silos: 3); // shard 0 on silos 0 and 1
        var papers = SyntheticPapers(100, abstractChars: PaperLimits.MaxAbstractChars, authorsChars: PaperLimits.MaxAuthorsChars);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(papers[0].Abstract + papers[0].Authors) > 390_000);
        await WithClusterAsync(ClusterMembership.Development, async (silos, cluster, _) =>
        {
            silos[1].Kill();
            foreach (var batch in papers.Chunk(20)) await cluster.IngestAsync(batch); // 8 MB writes
            silos[1].Start();
            await silos[1].WaitForGatewayAsync();
            // Ready only with every paper: never ready with fewer than the peer holds.
            await WaitForAsync(cluster, status =>
            {
                var (peer, back) = (Replica(status, 0, "silo-0"), Replica(status, 0, "silo-1"));
                Assert.Equal(papers.Count, peer.Papers);
                Assert.False(back.Ready && back.Papers != papers.Count, $"0/silo-1 is ready with {back.Papers} of {papers.Count} papers: {back.Note}");
                return back.Ready;
            }, "silo 1's replica to catch up", TimeSpan.FromMinutes(3));
            var held = await _grains.GetGrain<IShardReplica>(ClusterLayout.ReplicaKey(0, 1)).ReadAsync(papers.Select(p => PaperIdentity.KeyOfTitle(p.Title)).ToArray());
            Assert.Equal(papers.Count, held.Length);
            var byTitle = papers.ToDictionary(p => p.Title);
            foreach (var record in held.Select(e => RecordCodec.ReadPaper(e)))
                Assert.Equal(byTitle[record.Title].Abstract, record.Abstract);
        }, layout: layout);
    }

    /// <summary>
    /// A replica alive in membership but unresponsive misses a write its peer takes: silo 0 (which
    /// holds development membership's table, so nobody can declare it dead) is paused with SIGSTOP;
    /// a client whose gateways are silos 1 and 2 ingests papers of shard 0 (replicas on silos 0
    /// and 1; each write is ~16 MB, more than the kernel buffers between silos hold); silos 1 and 2
    /// are killed with SIGKILL; silo 0 is resumed with SIGCONT. Every acknowledged paper must then be
    /// found through silo 0, or its shard answer 503: never 404 through a ready replica. Before,
    /// the write was acknowledged with a one-way "catch up" notice to silo 0 that died in silo 1's
    /// send queue, and silo 0 served shard 0 as ready without it. Now the write waits for silo 0 to
    /// record that it is behind (it cannot, paused) or to be declared dead (it cannot be, holding
    /// the table), and is refused with a 503 naming the replica.
    /// </summary>
    [Fact]
    [Trait("Category", "Cluster")]
    public async Task A_write_a_live_replica_missed_is_not_acknowledged_until_that_replica_records_it()
    {
        var layout = ClusterLayout.Create(shards: 1, replicas: 2, silos: 3); // shard 0 on silos 0 and 1; silo 2 a gateway
        var small = SyntheticPapers(20, abstractChars: 400);
        var big = SyntheticPapers(60, abstractChars: PaperLimits.MaxAbstractChars, authorsChars: PaperLimits.MaxAuthorsChars).Skip(20).Take(40).ToList();
        await WithClusterAsync(ClusterMembership.Development, async (silos, _, endpoints) =>
        {
            // A client that never talks to silo 0's gateway: its writes reach silo 0 only through silos 1 and 2.
            var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
            builder.UseOrleansClient(client =>
            {
                client.UseLocalhostClustering([endpoints.GatewayPort(1), endpoints.GatewayPort(2)], ClusterEndpoints.ServiceId, ClusterEndpoints.ClusterId);
                client.Configure<Orleans.Configuration.MessagingOptions>(o => o.ResponseTimeout = FailureDetection.ResponseTimeout);
            });
            using var writer = builder.Build();
            await writer.StartAsync();
            var cluster = await ClusterCollection.ConnectAsync(writer.Services.GetRequiredService<IClusterClient>());
            var acked = new List<IncomingPaper>();
            await cluster.IngestAsync(small);
            acked.AddRange(small);
            await AssertNothingLostAsync(cluster, acked); // every replica's address known to silos 1 and 2

            silos[0].Pause();
            ShardUnavailableException? refused = null;
            try
            {
                await cluster.IngestAsync(big);
                acked.AddRange(big); // acknowledged: must never be 404 through a ready replica
            }
            catch (ShardUnavailableException e) { refused = e; }
            silos[1].Kill();
            silos[2].Kill();
            silos[0].Resume();

            // Silo 0 alone now: read every acknowledged paper through it.
            using var reader = ClusterClientHost.Build(endpoints, layout.Silos, ClusterMembership.Development);
            await reader.StartAsync();
            // The layout's grain may have lived on a killed silo: asked again once membership has declared it dead.
            ClusterCollection? survivor = null;
            for (var giveUpAt = DateTime.UtcNow.AddSeconds(90); survivor == null; await Task.Delay(500))
            {
                try { survivor = await ClusterCollection.ConnectAsync(reader.Services.GetRequiredService<IClusterClient>()); }
                catch (Exception) when (DateTime.UtcNow < giveUpAt) { }
            }
            int missing = 0, unavailable = 0;
            foreach (var paper in acked)
            {
                try { if (await survivor.FindAsync(PaperIdentity.Format(PaperIdentity.KeyOfTitle(paper.Title))) == null) missing++; }
                catch (ShardUnavailableException) { unavailable++; }
            }
            var status = Replica(await survivor.StatusAsync(), 0, "silo-0");
            Assert.True(missing == 0, $"{missing} of {acked.Count} acknowledged papers are 404 through silo 0 (ready={status.Ready}, {status.Papers} papers: {status.Note})");
            Assert.True(status.Ready || unavailable == acked.Count, $"{unavailable} reads unavailable while 0/silo-0 is ready");
            // The write silo 0 missed was refused, naming it, not acknowledged.
            Assert.NotNull(refused);
            Assert.Contains("not acknowledged", refused!.Message);
            Assert.Contains("0/silo-0", refused.Message);
            await reader.StopAsync();
        }, layout: layout);
    }

    static ReplicaStatus Replica(IReadOnlyList<ReplicaStatus> status, int shard, string silo) => status.Single(s => s.Shard == shard && s.Silo == silo);

    /// <summary>Polls every replica's status until <paramref name="done"/>; the last status on success.</summary>
    static async Task<List<ReplicaStatus>> WaitForAsync(ClusterCollection cluster, Func<List<ReplicaStatus>, bool> done, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            var status = await cluster.StatusAsync();
            if (done(status)) return status;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited for {what}: " + string.Join("; ", status.Select(s => $"{s.Shard}/{s.Silo} ready={s.Ready} papers={s.Papers} in-sync=[{string.Join(",", s.InSync)}] {s.Note}")));
            await Task.Delay(500);
        }
    }

    /// <summary>
    /// Papers with their own unit vectors (no model needed). With the caps given, the abstract and
    /// authors are filled with Greek words between no-break spaces (two bytes a character in UTF-8),
    /// so a paper is about 400 KB stored.
    /// </summary>
    static List<IncomingPaper> SyntheticPapers(int count, int abstractChars, int authorsChars = 0)
    {
        string[] words = ["αλφα", "βητα", "γαμμα", "δελτα", "εψιλον", "ζητα", "ητα", "θητα", "ιωτα", "καππα", "λαμδα", "μυ", "νυ", "ξι", "ομικρον", "πι", "ρω", "σιγμα"];
        string Text(int seed, int chars)
        {
            var text = new System.Text.StringBuilder(chars);
            for (int j = 0; text.Length < chars - 12; j++) text.Append(words[(seed * 7 + j * (seed % 5 + 1)) % words.Length]).Append('\u00A0');
            return text.ToString().Trim();
        }
        var random = new Random(25);
        return Enumerable.Range(0, count).Select(i =>
        {
            var vector = new float[384];
            for (int d = 0; d < vector.Length; d++) vector[d] = (float)(random.NextDouble() - 0.5);
            float norm = MathF.Sqrt(vector.Sum(x => x * x));
            for (int d = 0; d < vector.Length; d++) vector[d] /= norm;
            return new IncomingPaper($"Synthetic study {i} of honest replicas", $"Paper {i}. " + Text(i, abstractChars - 20))
            {
                SourceId = $"2599.{i:D5}", Authors = authorsChars > 0 ? Text(i + 1, authorsChars) : $"Author {i}", Date = new DateOnly(2025, 3, 1), Vector = vector,
            };
        }).ToList();
    }
}
