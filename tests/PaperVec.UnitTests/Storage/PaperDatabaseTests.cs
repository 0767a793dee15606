using PaperVec.Storage;
using PaperVec.Bench.Datasets;

namespace PaperVec.Tests.Storage;

public class PaperDatabaseTests
{
    [Fact]
    public async Task SearchSideTablesInMemoryFollowWritesDeletesAndReopening()
    {
        // Summaries, aliases and first-seen dates serve searches without store reads; they must
        // agree with the stored records after commits, deletes, and a reopen (replay or checkpoint).
        string dir = StoreTestData.TempDir();
        var random = new Random(4);
        var papers = Enumerable.Range(0, 50).Select(i => StoreTestData.Paper(i, random) with { Abstract = new string('w', 300) + $" paper {i}" }).ToList();
        try
        {
            void Check(PaperDatabase db)
            {
                foreach (var p in papers.Where(p => p.Key != papers[9].Key))
                {
                    var summary = db.Catalog.Summary(p.Key)!;
                    Assert.Equal(p.Title, summary.Title);
                    Assert.Equal(p.FirstSeen, summary.FirstSeen);
                    Assert.Equal(PaperSummary.SnippetOf(p.Abstract), summary.Snippet);
                    Assert.Equal(p.Key, db.Catalog.ResolveId(p.SourceId!));
                    Assert.Equal(p.Key, db.Catalog.ResolveId(p.Id));
                    var vector = new float[384];
                    Assert.True(db.TryReadVector(p.Key, vector));
                    Assert.Equal(p.Vector, vector);
                }
                Assert.Null(db.Catalog.Summary(papers[9].Key));
                Assert.Null(db.Catalog.ResolveId(papers[9].SourceId!));
                Assert.Null(db.Catalog.FirstSeen(papers[9].Key));
            }
            await using (var db = await PaperDatabase.OpenAsync(dir))
            {
                var batch = new WriteBatch();
                foreach (var p in papers) batch.PutPaper(p).PutAlias(p.SourceId!, p.Key);
                db.Commit(batch);
                papers[3] = papers[3] with { Title = "Synthetic paper number 3, retitled", FirstSeen = new DateOnly(2024, 1, 2) };
                db.Commit(new WriteBatch().PutPaper(papers[3]));
                db.Commit(new WriteBatch().DeletePaper(papers[9].Key).DeleteAlias(papers[9].SourceId!));
                Check(db);
                db.Abandon(); // reopen by replaying the log
            }
            await using (var db = await PaperDatabase.OpenAsync(dir)) Check(db); // closes with a checkpoint
            await using (var db = await PaperDatabase.OpenAsync(dir)) Check(db); // opens from it
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task WriteReadUpdateDeleteIterateAndReopen()
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(1);
        var papers = Enumerable.Range(0, 200).Select(i => StoreTestData.Paper(i, random, "2025-03-11/test")).ToList();
        try
        {
            await using (var db = await PaperDatabase.OpenAsync(dir))
            {
                var batch = new WriteBatch();
                foreach (var p in papers) batch.PutPaper(p).PutAlias(p.SourceId!, p.Key);
                batch.PutDigest(new DigestRecord("2025-03-11/test", new DateOnly(2025, 3, 11), "test", papers.Select(p => p.Key).ToList(), DateTimeOffset.UtcNow));
                db.Commit(batch);
                Assert.Equal(200, db.PaperCount);
                Assert.Equal(papers[7].Title, db.GetPaper(papers[7].Key)!.Title);
                Assert.Equal(papers[7].Key, db.FindPaper("2503.00007")!.Key);
                Assert.Equal(papers[7].Key, db.FindPaper(papers[7].Id)!.Key);

                // Update: a changed abstract and vector reach the index.
                var revised = papers[3] with { Abstract = "A revised abstract.", Vector = StoreTestData.UnitVector(random) };
                db.Commit(new WriteBatch().PutPaper(revised));
                Assert.Equal("A revised abstract.", db.GetPaper(revised.Key)!.Abstract);
                Assert.Equal(revised.Key, db.Vectors.Search(revised.Vector, 1)[0].Id);

                db.Commit(new WriteBatch().DeletePaper(papers[5].Key).DeleteAlias(papers[5].SourceId!));
                Assert.Null(db.GetPaper(papers[5].Key));
                Assert.Null(db.FindPaper("2503.00005"));
                Assert.DoesNotContain(db.Vectors.Search(papers[5].Vector, 10), h => h.Id == papers[5].Key);
                Assert.Equal(199, db.Papers().Count);
                Assert.True(db.IndexMatchesStore(out var problem), problem);
            }
            await using (var db = await PaperDatabase.OpenAsync(dir))
            {
                Assert.True(db.Recovery.FromCheckpoint);
                Assert.False(db.Recovery.IndexRebuilt);
                Assert.Equal(199, db.PaperCount);
                Assert.Equal("A revised abstract.", db.GetPaper(papers[3].Key)!.Abstract);
                Assert.Null(db.GetPaper(papers[5].Key));
                Assert.Single(db.Catalog.Digests());
                foreach (var p in papers.Where((_, i) => i is not (3 or 5)))
                    Assert.Equal(p.Key, db.Vectors.Search(p.Vector, 1)[0].Id);
                Assert.True(db.IndexMatchesStore(out var problem), problem);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task ADeleteIsReplayedFromTheLogAfterACrash()
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(3);
        var papers = Enumerable.Range(0, 30).Select(i => StoreTestData.Paper(i, random)).ToList();
        try
        {
            await using (var db = await PaperDatabase.OpenAsync(dir))
            {
                var batch = new WriteBatch();
                foreach (var p in papers) batch.PutPaper(p).PutAlias(p.SourceId!, p.Key);
                await db.CommitAsync(batch);
                db.Checkpoint(); // the delete below lives only in the write-ahead log
                Assert.Equal(papers[4].Key, (await db.DeletePaperAsync(papers[4].Key))?.Key);
                Assert.Null(await db.DeletePaperAsync(papers[4].Key));
                Assert.Null(db.FindPaper("2503.00004"));
                db.Abandon(); // dies without the closing checkpoint
            }
            await using (var db = await PaperDatabase.OpenAsync(dir))
            {
                Assert.Equal(1, db.Recovery.ReplayedBatches);
                Assert.False(db.Recovery.IndexRebuilt);
                Assert.Equal(29, db.PaperCount);
                Assert.Null(db.GetPaper(papers[4].Key));
                Assert.Null(db.FindPaper("2503.00004"));
                Assert.DoesNotContain(db.Vectors.Search(papers[4].Vector, 5), h => h.Id == papers[4].Key);
                Assert.True(db.IndexMatchesStore(out var problem), problem);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task SecondOpenOfTheSameDirectoryFailsClearly()
    {
        string dir = StoreTestData.TempDir();
        try
        {
            await using var first = await PaperDatabase.OpenAsync(dir);
            var error = await Assert.ThrowsAsync<DataDirectoryInUseException>(() => PaperDatabase.OpenAsync(dir));
            Assert.Contains("in use by another papervec process", error.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task CorruptIndexSnapshotMeansARebuildNotARefusal()
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(2);
        var papers = Enumerable.Range(0, 300).Select(i => StoreTestData.Paper(i, random)).ToList();
        try
        {
            await using (var db = await PaperDatabase.OpenAsync(dir))
            {
                var batch = new WriteBatch();
                foreach (var p in papers) batch.PutPaper(p);
                db.Commit(batch);
            }
            string snapshot = Directory.GetFiles(Path.Combine(dir, "index")).Single();
            var bytes = File.ReadAllBytes(snapshot);
            bytes[bytes.Length / 2] ^= 0x5A;
            File.WriteAllBytes(snapshot, bytes);

            long progressCalls = 0;
            await using (var db = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions { RebuildProgress = (_, _) => progressCalls++ }))
            {
                Assert.True(db.Recovery.IndexRebuilt);
                Assert.Contains("index snapshot unusable", db.Recovery.IndexRebuildReason);
                Assert.True(progressCalls > 0);
                Assert.Equal(300, db.PaperCount);
                foreach (var p in papers) Assert.Equal(p.Key, db.Vectors.Search(p.Vector, 1)[0].Id);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task MissingSnapshotIsRebuiltFromTheStore()
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(3);
        try
        {
            await using (var db = await PaperDatabase.OpenAsync(dir))
                db.Commit(new WriteBatch().PutPaper(StoreTestData.Paper(1, random)).PutPaper(StoreTestData.Paper(2, random)));
            foreach (var f in Directory.GetFiles(Path.Combine(dir, "index"))) File.Delete(f);
            await using var reopened = await PaperDatabase.OpenAsync(dir);
            Assert.True(reopened.Recovery.IndexRebuilt);
            Assert.Equal(2, reopened.Index.LiveCount);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task WritesAfterTheLastCheckpointAreReplayedFromTheLog()
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(4);
        var papers = Enumerable.Range(0, 50).Select(i => StoreTestData.Paper(i, random)).ToList();
        try
        {
            // A child would be killed here; in-process, skipping Dispose (no final checkpoint) and
            // releasing only the lock leaves the same files a kill -9 leaves.
            var db = await PaperDatabase.OpenAsync(dir);
            db.Checkpoint();
            foreach (var p in papers) db.Commit(new WriteBatch().PutPaper(p));
            AbandonWithoutCheckpoint(db);

            await using var reopened = await PaperDatabase.OpenAsync(dir);
            Assert.Equal(50, reopened.Recovery.ReplayedBatches);
            Assert.Equal(50, reopened.PaperCount);
            foreach (var p in papers) Assert.Equal(p.Key, reopened.Vectors.Search(p.Vector, 1)[0].Id);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task BytesOnDiskShrinkAfterCompaction()
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(5);
        try
        {
            await using var db = await PaperDatabase.OpenAsync(dir);
            var papers = Enumerable.Range(0, 400).Select(i => StoreTestData.Paper(i, random)).ToList();
            for (int round = 0; round < 4; round++)
            {
                var batch = new WriteBatch();
                foreach (var p in papers) batch.PutPaper(p with { Abstract = p.Abstract + $" round {round}" });
                db.Commit(batch);
                db.Checkpoint();
            }
            long logBefore = db.Stats().StoreLogBytes;
            long reclaimed = db.Compact();
            Assert.True(reclaimed > 0, $"log {logBefore} bytes, reclaimed {reclaimed}");
            Assert.Equal(400, db.PaperCount);
            Assert.EndsWith("round 3", db.GetPaper(papers[10].Key)!.Abstract);
        }
        finally { Directory.Delete(dir, true); }
    }

    internal static void AbandonWithoutCheckpoint(PaperDatabase db)
    {
        // Release file handles the way process death does, without the closing checkpoint.
        db.Abandon();
    }
}

public class ReadAllocationTests
{
    /// <summary>
    /// Reading a paper by id allocates its strings, its vector and the record objects, nothing
    /// more: the value is read into a pooled buffer and decoded from the span.
    /// </summary>
    [Fact]
    public async Task ReadingAPaperAllocatesOnlyWhatItReturns()
    {
        string dir = StoreTestData.TempDir();
        try
        {
            await using var db = await PaperDatabase.OpenAsync(dir);
            var paper = SyntheticPapers.Create(7);
            db.Commit(new WriteBatch().PutPaper(paper));
            for (int i = 0; i < 5; i++) db.GetPaper(paper.Key); // warm pools and sessions
            long before = GC.GetAllocatedBytesForCurrentThread();
            var read = db.GetPaper(paper.Key)!;
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            static long StringBytes(string? s) => s == null ? 0 : 22 + 2L * s.Length;
            long strings = StringBytes(read.Title) + StringBytes(read.Abstract) + StringBytes(read.SourceId) + StringBytes(read.Url)
                + StringBytes(read.Authors) + StringBytes(read.Categories) + StringBytes(read.ModelId) + read.Digests.Sum(StringBytes);
            long vector = 24 + 4L * read.Vector.Length;
            const long recordObjects = 256; // the PaperRecord and its digest array
            Assert.True(allocated <= strings + vector + recordObjects, $"allocated {allocated} bytes; strings {strings}, vector {vector}");
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// The checkpoint steps the crash tests die at (<see cref="PaperDatabaseOptions.AtCheckpointStep"/>) come in order,
    /// each with the file it wrote; a checkpoint that fails after its index snapshot drops that snapshot and keeps
    /// the previous checkpoint named, and the log brings back everything written since.
    /// </summary>
    [Fact]
    public async Task CheckpointStepsComeInOrderAndAFailureAfterTheSnapshotKeepsThePreviousCheckpoint()
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(8);
        var papers = Enumerable.Range(0, 20).Select(i => StoreTestData.Paper(i, random)).ToList();
        var steps = new List<(CheckpointStep Step, string Path)>();
        bool refuseSnapshot = false;
        var options = new PaperDatabaseOptions
        {
            AtCheckpointStep = (step, path) =>
            {
                lock (steps) steps.Add((step, path));
                if (refuseSnapshot && step == CheckpointStep.IndexSnapshotWritten) throw new IOException("refused by the test");
            },
        };
        try
        {
            await using (var db = await PaperDatabase.OpenAsync(dir, options))
            {
                steps.Clear(); // a new directory is checkpointed at open
                db.Commit(papers.Take(10).Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p)));
                db.Checkpoint();
                Assert.Equal([CheckpointStep.StoreCheckpointed, CheckpointStep.IndexSnapshotWritten], steps.Select(s => s.Step));
                string named = steps[1].Path;
                string manifest = Path.Combine(db.Root, "checkpoint.json");
                Assert.True(File.Exists(named));
                Assert.Contains(Path.GetFileName(named), File.ReadAllText(manifest));

                refuseSnapshot = true;
                steps.Clear();
                db.Commit(papers.Skip(10).Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p)));
                Assert.ThrowsAny<Exception>(() => db.Checkpoint());
                string refused = steps.Single(s => s.Step == CheckpointStep.IndexSnapshotWritten).Path;
                Assert.NotEqual(named, refused);
                Assert.False(File.Exists(refused));
                Assert.True(File.Exists(named));
                Assert.Contains(Path.GetFileName(named), File.ReadAllText(manifest));
                Assert.NotNull(db.StorageProblem);
                db.Abandon();
            }
            await using (var db = await PaperDatabase.OpenAsync(dir))
            {
                Assert.Equal(papers.Count, db.PaperCount);
                foreach (var p in papers) Assert.Equal(p.Title, db.GetPaper(p.Key)?.Title);
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
