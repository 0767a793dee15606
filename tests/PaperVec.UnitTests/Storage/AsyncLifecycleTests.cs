using PaperVec.Engine;
using PaperVec.Storage;

namespace PaperVec.Tests.Storage;

/// <summary>Opening and closing are awaited end to end (issue 27 item 5), and the maintenance entry points use them.</summary>
public class AsyncLifecycleTests
{
    [Fact]
    public async Task DisposeAsyncCheckpointsAndReleasesTheDirectorySoOpenAsyncFindsEveryPaperWithoutReplay()
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(7);
        var papers = Enumerable.Range(0, 20).Select(i => StoreTestData.Paper(i, random)).ToList();
        try
        {
            await using (var db = await PaperDatabase.OpenAsync(dir))
            {
                var batch = new WriteBatch();
                foreach (var p in papers) batch.PutPaper(p).PutAlias(p.SourceId!, p.Key);
                await db.CommitAsync(batch);
            }
            // The closing checkpoint was written (nothing left to replay) and the lock let go (a second open succeeds).
            await using (var db = await PaperDatabase.OpenAsync(dir))
            {
                Assert.True(db.Recovery.FromCheckpoint);
                Assert.Equal(0, db.Recovery.ReplayedBatches);
                Assert.Equal(papers.Count, db.PaperCount);
                Assert.All(papers, p => Assert.Equal(p.Key, db.Catalog.ResolveId(p.SourceId!)));
            }
            await using (var collection = await PaperCollection.OpenAsync(dir))
                Assert.Equal(papers.Count, collection.PaperCount);

            var verified = await DataDirectoryMaintenance.VerifyAsync(dir);
            Assert.True(verified.Report.Sound, string.Join("; ", verified.Report.Problems));
            var repaired = await DataDirectoryMaintenance.RepairAsync(dir);
            Assert.False(repaired.Repaired);
            Assert.Equal(papers.Count, repaired.Papers);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task ARefusedOpenAsyncLeavesTheDirectoryUnlocked()
    {
        string dir = StoreTestData.TempDir();
        try
        {
            await using (var db = await PaperDatabase.OpenAsync(dir))
                await db.CommitAsync(new WriteBatch().PutPaper(StoreTestData.Paper(1, new Random(1))));
            string manifest = Path.Combine(dir, "checkpoint.json");
            byte[] original = await File.ReadAllBytesAsync(manifest);
            await File.WriteAllTextAsync(manifest, "{ not json");
            await Assert.ThrowsAsync<DataDirectoryDamagedException>(() => PaperDatabase.OpenAsync(dir));
            await File.WriteAllBytesAsync(manifest, original);
            await using var reopened = await PaperDatabase.OpenAsync(dir); // the refused open released the lock
            Assert.Equal(1, reopened.PaperCount);
        }
        finally { Directory.Delete(dir, true); }
    }
}
