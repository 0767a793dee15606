using PaperVec.Storage;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Faults;

/// <summary>
/// A disk that fills during log commits and during checkpoints, and a read-only data directory
/// (issue 14, defects 5, 6 and 9): refused writes leave no trace, the failure is reported until it
/// passes, the database recovers by itself once space is back, and nothing hangs.
/// </summary>
public class DiskFullTests
{
    [Fact]
    public async Task ACommitOnAFullDiskIsRefusedLeavesNoTraceAndWritesResumeOnceSpaceIsBack()
    {
        using var disk = Tmpfs.Mount(48);
        var random = new Random(6);
        var papers = Enumerable.Range(0, 60).Select(i => StoreTestData.Paper(i, random)).ToList();
        var db = await PaperDatabase.OpenAsync(disk.Path);
        try
        {
            foreach (var p in papers.Take(20)) await db.CommitAsync(new WriteBatch().PutPaper(p).PutAlias(p.SourceId!, p.Key));
            disk.Fill();

            var refused = papers.Skip(20).Take(10).ToList();
            foreach (var p in refused)
            {
                var fault = await Assert.ThrowsAsync<StorageFaultException>(async () => await db.CommitAsync(new WriteBatch().PutPaper(p).PutAlias(p.SourceId!, p.Key)));
                Assert.True(fault.InsufficientSpace, fault.Message);
            }
            Assert.Equal(20, db.PaperCount); // nothing refused is visible
            Assert.All(refused, p => Assert.Null(db.GetPaper(p.Key)));
            Assert.All(refused, p => Assert.Null(db.FindPaper(p.SourceId!)));
            Assert.NotNull(db.StorageProblem);
            Assert.True(db.StorageProblemIsSpace);
            var lastKnown = papers[0];
            await Assert.ThrowsAsync<StorageFaultException>(async () => await db.DeletePaperAsync(lastKnown.Key));
            Assert.NotNull(db.GetPaper(lastKnown.Key)); // a refused delete hides nothing

            disk.Free();
            foreach (var p in papers.Skip(30)) await db.CommitAsync(new WriteBatch().PutPaper(p));
            Assert.Null(db.StorageProblem);
            Assert.Equal(50, db.PaperCount);
            db.Abandon(); // kill -9: the refused writes must not come back from the log either

            await using var reopened = await PaperDatabase.OpenAsync(disk.Path);
            Assert.Equal(50, reopened.PaperCount);
            Assert.All(refused, p => Assert.Null(reopened.GetPaper(p.Key)));
            Assert.All(papers.Take(20).Concat(papers.Skip(30)), p => Assert.NotNull(reopened.GetPaper(p.Key)));
            Assert.True(reopened.Verify().Sound);
        }
        finally { await db.DisposeAsync(); }
    }

    [Fact]
    public async Task ACheckpointOnAFullDiskFailsWithoutHangingIsReportedAndSucceedsLater()
    {
        using var disk = Tmpfs.Mount(48);
        var random = new Random(7);
        var db = await PaperDatabase.OpenAsync(disk.Path, new PaperDatabaseOptions { CheckpointRetryAfter = TimeSpan.Zero });
        try
        {
            for (int i = 0; i < 30; i++) await db.CommitAsync(new WriteBatch().PutPaper(StoreTestData.Paper(i, random)));
            disk.Fill();
            var checkpoint = db.CheckpointAsync();
            Assert.Same(checkpoint, await Task.WhenAny(checkpoint, Task.Delay(TimeSpan.FromSeconds(60)))); // never hangs
            var fault = await Assert.ThrowsAsync<StorageFaultException>(() => checkpoint);
            Assert.True(fault.InsufficientSpace, fault.Message);
            Assert.Contains("checkpoint", db.StorageProblem);

            disk.Free();
            await db.CheckpointAsync();
            Assert.Null(db.StorageProblem);
            await db.CommitAsync(new WriteBatch().PutPaper(StoreTestData.Paper(99, random)));
            db.Abandon();
            await using var reopened = await PaperDatabase.OpenAsync(disk.Path);
            Assert.Equal(31, reopened.PaperCount);
            Assert.Equal(1, reopened.Recovery.ReplayedBatches); // the later checkpoint covered the first 30
        }
        finally { await db.DisposeAsync(); }
    }

    [Fact]
    public async Task ACheckpointThatFailedOnAFullDiskIsRetriedByItselfOnceSpaceIsBack()
    {
        using var disk = Tmpfs.Mount(48);
        var random = new Random(8);
        var db = await PaperDatabase.OpenAsync(disk.Path, new PaperDatabaseOptions { CheckpointRetryAfter = TimeSpan.Zero });
        try
        {
            for (int i = 0; i < 30; i++) await db.CommitAsync(new WriteBatch().PutPaper(StoreTestData.Paper(i, random)));
            disk.Fill();
            await Assert.ThrowsAsync<StorageFaultException>(() => db.CheckpointAsync());
            Assert.Contains("checkpoint", db.StorageProblem);

            // No write and no checkpoint from here: the database retries the checkpoint itself, and /ready's problem clears.
            disk.Free();
            for (int i = 0; i < 600 && db.StorageProblem != null; i++) await Task.Delay(100);
            Assert.Null(db.StorageProblem);
            await db.WaitForBackgroundCheckpointAsync();
            db.Abandon();
            await using var reopened = await PaperDatabase.OpenAsync(disk.Path);
            Assert.Equal(30, reopened.PaperCount);
            Assert.Equal(0, reopened.Recovery.ReplayedBatches); // the retried checkpoint covered all 30
        }
        finally { await db.DisposeAsync(); }
    }

    [Fact]
    public async Task AReadOnlyDataDirectoryIsNamedAsSuchNotAsInUse()
    {
        using var disk = Tmpfs.Mount(32);
        await using (var db = await PaperDatabase.OpenAsync(disk.Path)) db.Commit(new WriteBatch().PutPaper(StoreTestData.Paper(1, new Random(1))));
        disk.RemountReadOnly(true);
        try
        {
            var e = await Assert.ThrowsAnyAsync<IOException>(async () => await (await PaperDatabase.OpenAsync(disk.Path)).DisposeAsync());
            Assert.IsNotType<DataDirectoryInUseException>(e);
            Assert.Contains("not writable", e.Message);
        }
        finally { disk.RemountReadOnly(false); }
    }
}
