using System.Security.Cryptography;
using PaperVec.Storage;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Faults;

/// <summary>
/// Damaged and missing files in a data directory: each is named when the directory is opened, and
/// nothing is changed until what was opened is verified (issue 14, defects 1-3 and 9).
/// </summary>
public class DataDirectoryFaultTests
{
    /// <summary>A directory with a checkpoint of 40 papers and 20 more in the log only (as after a kill -9).</summary>
    internal static async Task<(string Dir, List<PaperRecord> Papers)> CrashedDirectoryAsync(int checkpointed = 40, int logged = 20, int seed = 14)
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(seed);
        var papers = Enumerable.Range(0, checkpointed + logged).Select(i => StoreTestData.Paper(i, random)).ToList();
        var db = await PaperDatabase.OpenAsync(dir);
        db.Commit(papers.Take(checkpointed).Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p).PutAlias(p.SourceId!, p.Key)));
        db.Checkpoint();
        foreach (var p in papers.Skip(checkpointed)) db.Commit(new WriteBatch().PutPaper(p).PutAlias(p.SourceId!, p.Key));
        db.Abandon();
        return (dir, papers);
    }

    internal static Dictionary<string, string> Fingerprint(string dir) =>
        // Empty files are left out: FASTER creates the files it opens (a segment, a checkpoint's delta log) empty.
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith("papervec.lock") && new FileInfo(f).Length > 0)
            .ToDictionary(f => Path.GetRelativePath(dir, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    internal static void AssertUnchanged(Dictionary<string, string> before, string dir)
    {
        var after = Fingerprint(dir);
        var changed = before.Keys.Union(after.Keys).Where(k => !before.TryGetValue(k, out var b) || !after.TryGetValue(k, out var a) || a != b).ToList();
        Assert.True(changed.Count == 0, "changed: " + string.Join(", ", changed));
    }

    internal static Task<DataDirectoryDamagedException> RefusedAsync(string dir) => Assert.ThrowsAsync<DataDirectoryDamagedException>(async () => await (await PaperDatabase.OpenAsync(dir)).DisposeAsync());

    [Fact]
    public async Task FlippedBytesInACommittedLogEntryRefuseToOpenAndChangeNothing()
    {
        var (dir, papers) = await CrashedDirectoryAsync();
        try
        {
            // 16 bytes inside the 10th logged entry's vector, the way the probe corrupted one.
            string segment = Path.Combine(dir, "wal", "wal.log.0");
            var manifest = CheckpointManifest.TryLoad(Path.Combine(dir, "checkpoint.json"))!;
            var bytes = File.ReadAllBytes(segment);
            long entryBytes = (new FileInfo(segment).Length - manifest.WalAddress) / 20;
            int at = (int)(manifest.WalAddress + 10 * entryBytes + entryBytes / 2);
            for (int i = 0; i < 16; i++) bytes[at + i] ^= 0x5A;
            File.WriteAllBytes(segment, bytes);
            var before = Fingerprint(dir);

            var refused = await RefusedAsync(dir);
            Assert.Contains("write-ahead log", refused.Message);
            Assert.Contains("papervec repair", refused.Message);
            AssertUnchanged(before, dir); // nothing truncated, purged or rewritten

            await using (var verify = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions { Mode = OpenMode.Verify }))
            {
                var report = verify.Verify();
                Assert.False(report.Sound);
                Assert.Contains(report.Problems, p => p.Contains("write-ahead log"));
            }
            AssertUnchanged(before, dir);

            // repair keeps every entry before the damage and sets the damaged log aside, not deleted.
            await using (var repaired = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions { Mode = OpenMode.AcceptLoss }))
            {
                Assert.InRange(repaired.PaperCount, 41, 59);
                Assert.All(papers.Take(40), p => Assert.NotNull(repaired.GetPaper(p.Key)));
                Assert.All(repaired.Papers(), p => Assert.Equal(papers.First(q => q.Key == p.Key).Vector, p.Vector)); // no corrupted vector
                repaired.Commit(new WriteBatch().PutPaper(StoreTestData.Paper(999, new Random(1))));
            }
            Assert.Single(Directory.GetDirectories(dir, "wal.damaged-*"));
            await using (var again = await PaperDatabase.OpenAsync(dir))
            {
                Assert.Empty(again.Recovery.Damage);
                Assert.NotNull(again.GetPaper(PaperIdentity.KeyOfTitle("Synthetic paper number 999")));
                Assert.True(again.Verify().Sound);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task ATruncatedLogIsRefusedNotCut()
    {
        var (dir, _) = await CrashedDirectoryAsync();
        try
        {
            string segment = Path.Combine(dir, "wal", "wal.log.0");
            var manifest = CheckpointManifest.TryLoad(Path.Combine(dir, "checkpoint.json"))!;
            using (var file = new FileStream(segment, FileMode.Open)) file.SetLength(manifest.WalAddress + (file.Length - manifest.WalAddress) / 2);
            var before = Fingerprint(dir);
            var refused = await RefusedAsync(dir);
            Assert.Contains("write-ahead log", refused.Message);
            Assert.DoesNotContain("unknown write batch change kind", refused.Message);
            AssertUnchanged(before, dir);
        }
        finally { Directory.Delete(dir, true); }
    }

    public static TheoryData<string, string> FilesPaperVecWrote => new()
    {
        { "checkpoint.json", "checkpoint.json is missing, but the data directory holds acknowledged writes" },
        { "wal/commits/log-commits/commit.*", "holds no commit record" },
        { "wal/wal.log.0", "wal.log.0 is missing" },
        { "store/checkpoints/index-checkpoints/*/ht.dat.0", "ht.dat.0 is missing" },
        { "store/checkpoints/index-checkpoints/*/info.dat.0", "info.dat.0 is missing" },
        { "store/checkpoints/cpr-checkpoints/*/info.dat.0", "info.dat.0 is missing" },
        { "store/hlog.log.0", "hlog.log.0 is missing" },
    };

    [Theory]
    [MemberData(nameof(FilesPaperVecWrote))]
    public async Task EachFileTheDirectoryNeedsIsNamedWhenMissing(string pattern, string expected)
    {
        var (dir, _) = await CrashedDirectoryAsync();
        try
        {
            foreach (var file in Glob(dir, pattern)) File.Delete(file);
            var before = Fingerprint(dir);
            var refused = await RefusedAsync(dir);
            Assert.Contains(expected, refused.Message);
            AssertUnchanged(before, dir); // no empty store checkpointed over what was there, no log deleted
        }
        finally { Directory.Delete(dir, true); }
    }

    static IEnumerable<string> Glob(string dir, string pattern)
    {
        var found = Directory.GetFiles(dir, Path.GetFileName(pattern), SearchOption.AllDirectories)
            .Where(f => System.IO.Enumeration.FileSystemName.MatchesSimpleExpression(pattern, Path.GetRelativePath(dir, f))).ToList();
        Assert.NotEmpty(found);
        return found;
    }

    [Fact]
    public async Task DamagedMetadataGivesAClearMessage()
    {
        var (dir, _) = await CrashedDirectoryAsync();
        try
        {
            string manifestPath = Path.Combine(dir, "checkpoint.json");
            string manifest = File.ReadAllText(manifestPath);
            var token = CheckpointManifest.TryLoad(manifestPath)!.StoreToken.ToString();

            File.WriteAllText(manifestPath, manifest.Replace(token, "not-a-token"));
            Assert.Contains("checkpoint.json is damaged", (await RefusedAsync(dir)).Message);
            File.WriteAllText(manifestPath, manifest.Replace("\"IndexFile\":\"", "\"IndexFile\":\"../"));
            Assert.Contains("checkpoint.json is damaged", (await RefusedAsync(dir)).Message);
            File.WriteAllText(manifestPath, manifest);

            // FASTER's own checkpoint metadata with flipped bytes: named, not a FormatException with garbage.
            string info = Glob(dir, "store/checkpoints/cpr-checkpoints/*/info.dat.0").Single();
            var original = File.ReadAllBytes(info);
            var flipped = original.ToArray();
            for (int i = 4; i < 40; i++) flipped[i] ^= 0xFF;
            File.WriteAllBytes(info, flipped);
            var refused = await RefusedAsync(dir);
            Assert.Contains("store checkpoint", refused.Message);
            Assert.Contains(token, refused.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task ARecordNoStorePageHoldsIsRefusedBeforeTheLogAndTheDirectoryStaysSound()
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(3);
        try
        {
            var db = await PaperDatabase.OpenAsync(dir);
            var huge = StoreTestData.Paper(1, random) with { Authors = new string('a', 5 << 20) };
            Assert.Throws<RecordTooLargeException>(() => db.Commit(new WriteBatch().PutPaper(huge)));
            Assert.Equal(0, db.PaperCount);
            Assert.Null(db.StorageProblem);
            var small = StoreTestData.Paper(2, random);
            db.Commit(new WriteBatch().PutPaper(small));
            db.Abandon(); // kill -9

            await using var reopened = await PaperDatabase.OpenAsync(dir);
            Assert.Equal(1, reopened.PaperCount);
            Assert.NotNull(reopened.GetPaper(small.Key));
            Assert.Null(reopened.GetPaper(huge.Key));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task AnUnstorableEntryLoggedByAnOlderPaperVecIsSkippedWithAReport()
    {
        // Directories bricked before the limits hold such an entry; they open again, with the skip reported.
        string dir = StoreTestData.TempDir();
        var random = new Random(4);
        try
        {
            var db = await PaperDatabase.OpenAsync(dir);
            var kept = StoreTestData.Paper(1, random);
            db.Commit(new WriteBatch().PutPaper(kept));
            db.Abandon();
            var huge = StoreTestData.Paper(2, random) with { Authors = new string('a', 5 << 20) };
            var after = StoreTestData.Paper(3, random);
            using (var wal = new WriteAheadLog(Path.Combine(dir, "wal")))
            {
                wal.ResumeAt(1);
                await wal.AppendAsync(new WriteBatch().PutPaper(huge).PutAlias("huge.1", huge.Key).Encode());
                await wal.AppendAsync(new WriteBatch().PutPaper(after).Encode());
            }
            var notes = new List<string>();
            await using (var reopened = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions { Log = notes.Add }))
            {
                Assert.Single(reopened.Recovery.Skipped);
                Assert.Contains(notes, n => n.Contains("skipped") && n.Contains(huge.Id));
                Assert.NotNull(reopened.GetPaper(kept.Key));
                Assert.NotNull(reopened.GetPaper(after.Key));
                Assert.Null(reopened.GetPaper(huge.Key));
            }
            await using (var again = await PaperDatabase.OpenAsync(dir)) Assert.Equal(2, again.PaperCount); // the checkpoint after the skip holds
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task AnAcknowledgedWriteIsVisibleOnlyOnceDurableAndConcurrentWritersApplyInLogOrder()
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(5);
        try
        {
            var papers = Enumerable.Range(0, 200).Select(i => StoreTestData.Paper(i, random)).ToList();
            var db = await PaperDatabase.OpenAsync(dir);
            {
                // 16 writers revising the same paper and adding their own: the store ends with the log's last version.
                // Awaited, not blocked on: 16 threads parked in Commit starved the 2-core pool past the WAL's commit bound.
                await Parallel.ForAsync(0, papers.Count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
                    await db.CommitAsync(new WriteBatch().PutPaper(papers[i]).PutPaper(papers[0] with { Abstract = $"version {i}" })));
                Assert.Equal(papers.Count, db.PaperCount);
                string last = db.GetPaper(papers[0].Key)!.Abstract;
                db.Abandon();
                await using var reopened = await PaperDatabase.OpenAsync(dir);
                Assert.Equal(papers.Count, reopened.PaperCount);
                Assert.Equal(last, reopened.GetPaper(papers[0].Key)!.Abstract); // replay in log order gives what memory showed
                Assert.True(reopened.Verify().Sound);
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
