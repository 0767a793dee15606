using PaperVec.Cluster;
using PaperVec.Cluster.Hosting;
using PaperVec.Engine;
using PaperVec.Ingest;
using PaperVec.Storage;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Cluster;

// Undoing a digest on a cluster (issue 29 item 2): the manifest on the home shard and every shard's part go.
public sealed partial class ClusterFailoverTests
{
    /// <summary>
    /// The same papers on one node and on 3 silos (4 shards x 2 replicas): deleting a digest deletes and keeps
    /// the same papers for the same reasons (a library on one shard keeps a paper on another), every replica
    /// of every shard takes it, and afterwards digests, views, papers and duplicates answer as the node's.
    /// </summary>
    [Fact]
    [Trait("Category", "Cluster")]
    public async Task Deleting_a_digest_on_a_cluster_deletes_every_shards_part_and_answers_as_one_node()
    {
        var random = new Random(2911);
        var papers = Enumerable.Range(0, 40).Select(n => new IncomingPaper($"Cluster digest paper {n}",
            $"Abstract {n}: " + string.Join(" ", Enumerable.Repeat($"subject{n} experiments and findings", 10))) { Vector = StoreTestData.UnitVector(random) }).ToList();
        var earlier = new PaperIngestor.DigestInfo("2025-03-10/monday", new DateOnly(2025, 3, 10), "monday");
        var mistaken = new PaperIngestor.DigestInfo("2026-03-11/digest", new DateOnly(2026, 3, 11), "digest");
        string nodeDir = Directory.CreateTempSubdirectory("pv-node-").FullName;
        await using var node = await PaperCollection.OpenAsync(nodeDir);
        await WithClusterAsync(ClusterMembership.Development, async (_, cluster, _) =>
        {
            var liked = PaperIdentity.Format(PaperIdentity.KeyOfTitle(papers[30].Title));
            foreach (IPaperCollection collection in new IPaperCollection[] { node, cluster })
            {
                await collection.IngestAsync(papers[..10], earlier);
                await collection.IngestAsync(papers[10..15].Select((p, i) => p with { SourceId = $"2503.{10 + i:00000}" }).ToList());
                await collection.IngestAsync([.. papers[5..35].Select(p => new IncomingPaper(p.Title, p.Abstract) { Vector = p.Vector })], mistaken);
                await collection.ChangeLibraryAsync("alice", [liked], [], [], replace: false);
            }
            Assert.Null(await cluster.DeleteDigestAsync("2026-03-12/digest"));

            var expected = (await node.DeleteDigestAsync(mistaken.Id))!;
            var actual = (await cluster.DeleteDigestAsync(mistaken.Id))!;
            Assert.Equal(19, expected.Deleted.Count); // 30 listed: 5 monday's, 5 records and 1 liked are kept
            Assert.Equal(expected.Deleted.Select(p => p.Id).Order(), actual.Deleted.Select(p => p.Id).Order());
            Assert.Equal(expected.Kept.Select(p => $"{p.Id} {p.Reason} {p.Detail}").Order(), actual.Kept.Select(p => $"{p.Id} {p.Reason} {p.Detail}").Order());
            Assert.Equal(expected.Summary, actual.Summary);

            Assert.Equal([earlier.Id], (await cluster.DigestsAsync()).Select(d => d.Id));
            Assert.Null(await cluster.DigestAsync(mistaken.Id));
            var (nodeView, clusterView) = ((await node.DigestAsync(earlier.Id))!.Value, (await cluster.DigestAsync(earlier.Id))!.Value);
            Assert.Equal(nodeView.Listings.Select(l => $"{l.Id} {l.SeenBefore}"), clusterView.Listings.Select(l => $"{l.Id} {l.SeenBefore}"));
            foreach (var paper in papers)
            {
                string id = PaperIdentity.Format(PaperIdentity.KeyOfTitle(paper.Title));
                var (one, many) = (await node.FindPaperAsync(id), await cluster.FindPaperAsync(id));
                Assert.Equal(one == null, many == null);
                if (one != null) Assert.Equal(one.Digests, many!.Digests);
            }
            Assert.Equal((await node.DuplicatesAsync(new PaperVec.Duplicates.DuplicateScope(null, null, null))).Count,
                (await cluster.DuplicatesAsync(new PaperVec.Duplicates.DuplicateScope(null, null, null))).Count);
            // Every replica took its shard's part: both replicas of each shard hold the same papers, 16 in all.
            var status = await cluster.StatusAsync();
            Assert.All(status.GroupBy(s => s.Shard), shard => Assert.Single(shard.Select(r => r.Papers).Distinct()));
            Assert.Equal(node.PaperCount, status.GroupBy(s => s.Shard).Sum(shard => shard.First().Papers));
            Assert.Equal(16, node.PaperCount);
        });
        Directory.Delete(nodeDir, true);
    }
}
