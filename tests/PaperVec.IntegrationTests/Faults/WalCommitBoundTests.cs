using PaperVec.CrashHost;
using PaperVec.Storage;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Faults;

/// <summary>
/// The write-ahead log's commit bound measures the disk, not the process (issue 25, item 4): a healthy
/// disk whose commit finishes late because every thread-pool thread is busy is not an I/O error, a
/// write the device never finishes still is, within the bound; and after an I/O error the database
/// takes writes again by itself once the device heals, with no client write to set it off.
/// </summary>
[Collection("starves the thread pool")]
public class WalCommitBoundTests
{
    // "Answers at all": generous, only there so a hang fails the test instead of blocking it.
    static readonly TimeSpan Answers = TimeSpan.FromSeconds(60);
    // The bound under test, short so the tests are quick (the server's is 30 s).
    static readonly TimeSpan Bound = TimeSpan.FromSeconds(2);

    static byte[] Payload(int n) => [.. Enumerable.Range(0, 200).Select(i => (byte)(i + n))];

    /// <summary>
    /// Keeps every thread-pool thread blocked until disposed: work items that wait on a gate, more of
    /// them than the pool has threads (and spare ones for the threads it adds while starved).
    /// </summary>
    sealed class StarvedPool : IDisposable
    {
        readonly ManualResetEventSlim _gate = new();
        int _blocked;

        public StarvedPool()
        {
            int items = ThreadPool.ThreadCount + 256;
            for (int i = 0; i < items; i++)
                ThreadPool.UnsafeQueueUserWorkItem(_ =>
                {
                    Interlocked.Increment(ref _blocked);
                    _gate.Wait();
                }, null);
            // Starved: the pool's threads hold them (or other work) and more are queued behind them, which an idle thread would take.
            while (Volatile.Read(ref _blocked) == 0) Thread.Sleep(1);
            Thread.Sleep(50);
            Assert.True(ThreadPool.PendingWorkItemCount > 0, "the thread pool could not be filled");
            Assert.True(Volatile.Read(ref _blocked) < items, "the thread pool took every blocking item at once");
        }

        public void Dispose() => _gate.Set();
    }

    // Blocks its own thread on purpose: no await may need the pool it starves.
#pragma warning disable xUnit1031
    [Fact]
    public void AHealthyDiskIsNotAnIoErrorWhileTheThreadPoolIsStarvedDuringACommit()
    {
        string dir = StoreTestData.TempDir();
        var device = new FailingDevice.Switch();
        var wal = new WriteAheadLog(dir, device.FactoryOver(path => new WalFileDevice(path)), options: new WriteAheadLogOptions { CommitTimeout = Bound });
        try
        {
            Assert.True(wal.AppendAsync(Payload(0)).Wait(Answers));

            // A commit in flight: its log write waits in the device until the pool is starved.
            device.Hold();
            var append = wal.AppendAsync(Payload(1));
            var deadline = DateTime.UtcNow + Answers;
            while (device.HeldWrites == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the commit issued no write");
                Thread.Sleep(1);
            }
            using (new StarvedPool())
            {
                // The disk takes the write at once; what the commit still needs (FASTER's commit record and the
                // continuations) waits for pool threads, for several times the bound.
                device.Release();
                Thread.Sleep(Bound * 4);
                Assert.Null(wal.Failure);
            }
            Assert.True(append.Wait(Answers), "the commit did not finish once the pool had threads again");
            Assert.Equal(1, append.Result.Sequence);
            Assert.Null(wal.Failure);
            Assert.True(wal.AppendAsync(Payload(2)).Wait(Answers));
        }
        finally
        {
            device.Release();
            wal.Dispose();
            Directory.Delete(dir, true);
        }
    }

#pragma warning restore xUnit1031

    [Fact]
    public async Task AWriteTheDeviceNeverFinishesIsRefusedAsAnIoErrorWithinTheBound()
    {
        string dir = StoreTestData.TempDir();
        var device = new FailingDevice.Switch();
        var wal = new WriteAheadLog(dir, device.FactoryOver(path => new WalFileDevice(path)), options: new WriteAheadLogOptions { CommitTimeout = Bound });
        try
        {
            await wal.AppendAsync(Payload(0)).WaitAsync(Answers);
            device.Hold(); // never released while the write waits: a disk that stopped answering
            var append = wal.AppendAsync(Payload(1));
            Assert.True(await Task.WhenAny(append, Task.Delay(Answers)) == append, "a write the device never finishes hangs its writer");
            var fault = await Assert.ThrowsAsync<StorageFaultException>(() => append);
            Assert.Contains("did not finish a write to the write-ahead log", fault.Message);
            Assert.IsAssignableFrom<IOException>(wal.Failure);
        }
        finally
        {
            device.Release();
            wal.Dispose();
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task AfterAnIoErrorTheDatabaseTakesWritesAgainByItselfOnceTheDeviceHeals()
    {
        string data = StoreTestData.TempDir();
        var device = new FailingDevice.Switch();
        var random = new Random(27);
        var papers = Enumerable.Range(0, 8).Select(i => StoreTestData.Paper(i, random)).ToList();
        string? recovered = null;
        var db = await PaperDatabase.OpenAsync(data, new PaperDatabaseOptions
        {
            DeviceFactory = device.Factory,
            WalRetryAfter = TimeSpan.FromMilliseconds(50),
            Log = line => { if (line.Contains("write-ahead log was reopened")) recovered = line; },
        });
        try
        {
            foreach (var p in papers.Take(5)) await db.CommitAsync(new WriteBatch().PutPaper(p));
            device.Fail();
            await Assert.ThrowsAsync<StorageFaultException>(() => db.CommitAsync(new WriteBatch().PutPaper(papers[5])).AsTask().WaitAsync(Answers));
            Assert.Contains("I/O error", db.StorageProblem);

            // While the device fails, the background retries keep meeting it (each a refused probe write) and the problem stays.
            int failed = device.FailedWrites;
            var deadline = DateTime.UtcNow + Answers;
            while (device.FailedWrites < failed + 3)
            {
                Assert.True(DateTime.UtcNow < deadline, "no background retry reached the device");
                await Task.Delay(20);
            }
            Assert.Contains("I/O error", db.StorageProblem);
            Assert.Null(recovered);

            device.Heal(); // no write from here on until the problem has cleared by itself
            while (db.StorageProblem != null)
            {
                Assert.True(DateTime.UtcNow < deadline, $"still not healthy after the device healed: {db.StorageProblem}");
                await Task.Delay(20);
            }
            Assert.NotNull(recovered);
            Assert.Contains(data, recovered);

            foreach (var p in papers.Skip(6)) await db.CommitAsync(new WriteBatch().PutPaper(p)).AsTask().WaitAsync(Answers);
            db.Abandon(); // kill -9: what was acknowledged comes back from the log, the refused write does not
            await using var reopened = await PaperDatabase.OpenAsync(data);
            Assert.Equal(7, reopened.PaperCount);
            Assert.Null(reopened.GetPaper(papers[5].Key));
        }
        finally
        {
            device.Heal();
            await db.DisposeAsync();
            Directory.Delete(data, true);
        }
    }
}

/// <summary>One test here blocks every thread-pool thread for seconds: it runs alone, so no other test's work waits behind it.</summary>
[CollectionDefinition("starves the thread pool", DisableParallelization = true)]
public sealed class StarvesThreadPoolCollection;
