using PaperVec.Cluster;
using PaperVec.Cluster.Hosting;
using PaperVec.Cluster.Shards;
using PaperVec.Engine;
using PaperVec.Ingest;
using PaperVec.Storage;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Cluster;

// E-mail subscriptions on a cluster (issue 29 item 4): kept with the library by every replica of its home shard.
public sealed partial class ClusterFailoverTests
{
    /// <summary>
    /// A subscription and its sent marks are written to both replicas of the library's home shard; one written while a
    /// replica's silo is dead reaches that replica when it catches up, so it still holds them once the other dies.
    /// </summary>
    [Fact]
    [Trait("Category", "Cluster")]
    public async Task A_subscription_and_its_sent_marks_survive_on_a_cluster_when_each_replica_dies_in_turn()
    {
        var random = new Random(4029);
        var papers = Enumerable.Range(0, 6).Select(n => new IncomingPaper($"Subscribed paper {n}", $"Abstract {n} about subject{n}.") { Vector = StoreTestData.UnitVector(random) }).ToList();
        await WithClusterAsync(ClusterMembership.Development, async (silos, cluster, _) =>
        {
            // A library whose home shard lives on silos 1 and 2 (silo 0 stays up: it is the development membership's primary).
            string name = Enumerable.Range(0, 100).Select(i => $"reader-{i}").First(n => !cluster.Layout.SilosOf(cluster.Layout.LibraryShardOf(n)).Contains(0));
            int home = cluster.Layout.LibraryShardOf(name);
            int[] holders = cluster.Layout.SilosOf(home);
            await cluster.IngestAsync(papers);
            await cluster.ChangeLibraryAsync(name, [PaperIdentity.Format(PaperIdentity.KeyOfTitle(papers[0].Title))], [], [], replace: false);

            Assert.Null(await cluster.SubscribeAsync("no-such-library", "a@example.org", 5));
            await Assert.ThrowsAsync<InvalidDataException>(() => cluster.SubscribeAsync(name, "not an address", 5));
            var subscribed = (await cluster.SubscribeAsync(name, "reader@example.org", 5))!;
            await cluster.MarkMailedAsync(name, "day-1");
            await cluster.MarkMailedAsync(name, "day-1"); // once
            foreach (int silo in holders)
            {
                var held = RecordCodec.ReadLibrary((await _grains.GetGrain<IShardReplica>(ClusterLayout.ReplicaKey(home, silo)).LibraryAsync(name))!);
                Assert.Equal(subscribed.Subscription, held.Subscription);
                Assert.Equal(["day-1"], held.Mailed);
            }

            // Written while one holder is dead: the other acknowledges; the dead one copies it when it catches up.
            silos[holders[0]].Kill();
            await cluster.SubscribeAsync(name, "reader+new@example.org", 9);
            await cluster.MarkMailedAsync(name, "day-2");
            silos[holders[0]].Start();
            await silos[holders[0]].WaitForGatewayAsync();
            await WaitAllReadyAsync(cluster);
            silos[holders[1]].Kill();
            var library = (await cluster.LibraryAsync(name))!;
            Assert.Equal(new LibrarySubscription("reader+new@example.org", 9, subscribed.Subscription!.Since), library.Subscription);
            Assert.Equal(["day-1", "day-2"], library.Mailed);
        });
    }
}
