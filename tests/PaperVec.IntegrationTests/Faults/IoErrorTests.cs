using PaperVec.Storage;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Faults;

/// <summary>
/// A disk that fails writes with an I/O error (issue 25, item 4): the write in flight and every later
/// one are refused promptly (never a hang), the fault is reported, and writes resume by themselves once
/// the device works again, with nothing acknowledged lost.
/// </summary>
public class IoErrorTests
{
    // "Answers at all" bound: generous, only there so a hang fails the test instead of blocking it.
    static readonly TimeSpan Answers = TimeSpan.FromSeconds(30);

    static async Task<T> Within<T>(Task<T> task, string what)
    {
        Assert.True(await Task.WhenAny(task, Task.Delay(Answers)) == task, $"{what} did not finish within {Answers.TotalSeconds} s (hangs)");
        return await task;
    }

    static async Task<StorageFaultException> RefusedAsync(PaperDatabase db, WriteBatch batch, string what)
    {
        var commit = Task.Run(async () => await db.CommitAsync(batch));
        Assert.True(await Task.WhenAny(commit, Task.Delay(Answers)) == commit, $"{what} got no answer within {Answers.TotalSeconds} s (hangs)");
        return await Assert.ThrowsAsync<StorageFaultException>(() => commit);
    }

    [Fact]
    public async Task AnIoErrorRefusesTheWriteInFlightAndEveryLaterOneAndWritesResumeOnceTheDeviceHeals()
    {
        string data = StoreTestData.TempDir();
        var device = new PaperVec.CrashHost.FailingDevice.Switch();
        var random = new Random(25);
        var papers = Enumerable.Range(0, 60).Select(i => StoreTestData.Paper(i, random)).ToList();
        var db = await PaperDatabase.OpenAsync(data, new PaperDatabaseOptions { DeviceFactory = device.Factory, CheckpointRetryAfter = TimeSpan.Zero });
        try
        {
            foreach (var p in papers.Take(10)) await db.CommitAsync(new WriteBatch().PutPaper(p).PutAlias(p.SourceId!, p.Key));
            device.Fail();

            var refused = papers.Skip(10).Take(21).ToList();
            foreach (var (p, i) in refused.Select((p, i) => (p, i)))
            {
                var fault = await RefusedAsync(db, new WriteBatch().PutPaper(p).PutAlias(p.SourceId!, p.Key), $"write {i} after the I/O error");
                Assert.False(fault.InsufficientSpace, fault.Message);
                Assert.Contains("I/O error", fault.Message);
                Assert.Contains(data, fault.Message); // names the data directory
                Assert.DoesNotContain("4294967295", fault.Message);
            }
            Assert.True(device.FailedWrites > 0);
            Assert.Contains("I/O error", db.StorageProblem);
            Assert.False(db.StorageProblemIsSpace);
            Assert.Equal(10, db.PaperCount); // nothing refused is visible
            Assert.All(refused, p => Assert.Null(db.GetPaper(p.Key)));
            await RefusedAsync(db, new WriteBatch().DeletePaper(papers[0].Key), "a delete after the I/O error");
            Assert.NotNull(db.GetPaper(papers[0].Key));

            device.Heal();
            // Writes resume by themselves: the first may still meet the fault being cleared, none hangs.
            var resumed = papers.Skip(31).ToList();
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (true)
            {
                try { await Within(Task.Run(async () => { await db.CommitAsync(new WriteBatch().PutPaper(resumed[0])); return 0; }), "the first write after healing"); break; }
                catch (StorageFaultException) when (DateTime.UtcNow < deadline) { await Task.Delay(200); }
            }
            foreach (var p in resumed.Skip(1)) await Within(Task.Run(async () => { await db.CommitAsync(new WriteBatch().PutPaper(p)); return 0; }), "a write after healing");
            Assert.Null(db.StorageProblem);
            Assert.Equal(10 + resumed.Count, db.PaperCount);
            db.Abandon(); // kill -9: what was acknowledged must come back from the log, nothing refused may

            await using var reopened = await PaperDatabase.OpenAsync(data);
            Assert.Equal(10 + resumed.Count, reopened.PaperCount);
            Assert.All(papers.Take(10).Concat(resumed), p => Assert.NotNull(reopened.GetPaper(p.Key)));
            Assert.All(refused, p => Assert.Null(reopened.GetPaper(p.Key)));
            Assert.True(reopened.Verify().Sound);
        }
        finally
        {
            device.Heal();
            await db.DisposeAsync();
            Directory.Delete(data, true);
        }
    }

    [Fact]
    public async Task ClosingWhileTheDeviceFailsEndsPromptlyAndKeepsEveryAcknowledgedWrite()
    {
        string data = StoreTestData.TempDir();
        var device = new PaperVec.CrashHost.FailingDevice.Switch();
        var random = new Random(26);
        var papers = Enumerable.Range(0, 12).Select(i => StoreTestData.Paper(i, random)).ToList();
        try
        {
            var db = await PaperDatabase.OpenAsync(data, new PaperDatabaseOptions { DeviceFactory = device.Factory });
            foreach (var p in papers.Take(10)) await db.CommitAsync(new WriteBatch().PutPaper(p));
            device.Fail();
            await RefusedAsync(db, new WriteBatch().PutPaper(papers[10]), "the write in flight");
            await RefusedAsync(db, new WriteBatch().PutPaper(papers[11]), "the next write");
            // Closing checkpoints, which the failing device refuses: it must give up, not hang.
            await Within(Task.Run(async () => { await db.DisposeAsync(); return 0; }), "closing the database");
            device.Heal();
            await using var reopened = await PaperDatabase.OpenAsync(data);
            Assert.Equal(10, reopened.PaperCount);
            Assert.All(papers.Take(10), p => Assert.NotNull(reopened.GetPaper(p.Key)));
        }
        finally { Directory.Delete(data, true); }
    }
}
