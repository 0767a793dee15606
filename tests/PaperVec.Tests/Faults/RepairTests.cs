using Xunit.Abstractions;
using System.Security.Cryptography;
using PaperVec.Storage;
using PaperVec.Tests.Cli;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Faults;

/// <summary>
/// `papervec repair` gets past every refusal of a normal open and keeps every intact acknowledged
/// entry (issue 25, item 7): 500 checkpointed papers and 100 more, one log entry each, then one
/// kind of damage; after repair the directory opens normally, verifies sound, and holds exactly
/// the papers whose bytes survived, each as written. Nothing is deleted: what was damaged is moved aside whole.
/// </summary>
public class RepairTests(ITestOutputHelper output)
{
    const int Checkpointed = 500, Logged = 100;

    sealed record Crashed(string Dir, List<PaperRecord> Papers, long[] EntryEnds)
    {
        public string Segment => Path.Combine(Dir, "wal", "wal.log.0");
        public string ManifestPath => Path.Combine(Dir, "checkpoint.json");
        public CheckpointManifest Manifest => CheckpointManifest.TryLoad(ManifestPath)!;
        public IEnumerable<PaperRecord> LoggedPapers => Papers.Skip(Checkpointed);
    }

    /// <summary>As after kill -9: a checkpoint of 500 papers, 100 more in the log only; where each logged entry ends.</summary>
    static Crashed CrashedDirectory()
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(25);
        var papers = Enumerable.Range(0, Checkpointed + Logged).Select(i => StoreTestData.Paper(i, random)).ToList();
        var db = PaperDatabase.Open(dir);
        db.Commit(papers.Take(Checkpointed).Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p).PutAlias(p.SourceId!, p.Key)));
        db.Checkpoint();
        var ends = new List<long>();
        foreach (var p in papers.Skip(Checkpointed))
        {
            db.Commit(new WriteBatch().PutPaper(p).PutAlias(p.SourceId!, p.Key));
            ends.Add(db.WalForTests.TailAddress);
        }
        db.AbandonForTests();
        return new Crashed(dir, papers, [.. ends]);
    }

    /// <summary>Runs papervec repair; then the directory opens normally, verifies sound and holds exactly <paramref name="expected"/>, as written.</summary>
    string RepairAndCheck(Crashed crashed, IReadOnlyCollection<PaperRecord> expected)
    {
        var refused = Assert.Throws<DataDirectoryDamagedException>(() => PaperDatabase.Open(crashed.Dir).Dispose()); // serve refuses first
        var (exit, stdout, stderr) = CliRunner.Run("repair", "--data", crashed.Dir);
        output.WriteLine(stdout + stderr);
        Assert.True(exit == 0, $"repair failed after serve refused with '{refused.Message}': {stdout}{stderr}");
        Assert.Contains(": repaired;", stdout); // says it changed something, not "nothing to repair"
        using var db = PaperDatabase.Open(crashed.Dir); // what serve does
        Assert.Empty(db.Recovery.Damage);
        Assert.Equal(expected.Count, db.PaperCount);
        foreach (var paper in expected)
        {
            var stored = db.GetPaper(paper.Key);
            Assert.True(stored != null, $"paper '{paper.Title}' was lost by repair; it printed: {stdout}");
            Assert.Equal(paper.Vector, stored.Vector);
            Assert.Equal(paper.Abstract, stored.Abstract);
            Assert.Equal(paper.Key, db.KeyOfSourceId(paper.SourceId!));
        }
        var report = db.Verify();
        Assert.True(report.Sound, string.Join("; ", report.Problems));
        // The repaired directory takes writes and keeps them across a restart.
        var extra = StoreTestData.Paper(10_000, new Random(1));
        db.Commit(new WriteBatch().PutPaper(extra));
        db.AbandonForTests();
        using (var again = PaperDatabase.Open(crashed.Dir)) Assert.Equal(expected.Count + 1, again.PaperCount);
        return stdout;
    }

    static SortedDictionary<string, string> Files(string dir) =>
        new(Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))), StringComparer.Ordinal);

    /// <summary>The log as it was before repair is in wal.damaged-*, every file byte for byte.</summary>
    static void AssertLogMovedAsideWhole(Crashed crashed, SortedDictionary<string, string> logBefore, string stdout)
    {
        string aside = Assert.Single(Directory.GetDirectories(crashed.Dir, "wal.damaged-*"));
        Assert.Equal(logBefore, Files(aside));
        Assert.Contains(aside, stdout);
    }

    [Fact]
    public void ACutLogSegmentKeepsTheCheckpointAndEveryEntryBeforeTheCut()
    {
        var crashed = CrashedDirectory();
        try
        {
            long cut = crashed.EntryEnds[39] + 100; // inside entry 41 of 100
            using (var file = new FileStream(crashed.Segment, FileMode.Open)) file.SetLength(cut);
            var logBefore = Files(Path.Combine(crashed.Dir, "wal"));
            string stdout = RepairAndCheck(crashed, crashed.Papers.Take(Checkpointed + 40).ToList());
            AssertLogMovedAsideWhole(crashed, logBefore, stdout);
            Assert.Contains("cut", stdout);
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    [Fact]
    public void AMissingLogSegmentKeepsTheCheckpointedPapers()
    {
        var crashed = CrashedDirectory();
        try
        {
            File.Delete(crashed.Segment);
            var logBefore = Files(Path.Combine(crashed.Dir, "wal"));
            string stdout = RepairAndCheck(crashed, crashed.Papers.Take(Checkpointed).ToList());
            AssertLogMovedAsideWhole(crashed, logBefore, stdout);
            Assert.Contains("is missing", stdout);
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    [Fact]
    public void AMissingCommitRecordKeepsEveryIntactEntry()
    {
        var crashed = CrashedDirectory();
        try
        {
            foreach (var f in VerifyReadOnlyTests.Glob(crashed.Dir, "wal/commits/log-commits/commit.*")) File.Delete(f);
            var logBefore = Files(Path.Combine(crashed.Dir, "wal"));
            string stdout = RepairAndCheck(crashed, crashed.Papers);
            AssertLogMovedAsideWhole(crashed, logBefore, stdout);
            Assert.Contains($"kept: log entries", stdout);
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    public static TheoryData<string> DamagedManifests => ["WalAddress + 12", "garbage", "empty", "missing"];

    [Theory]
    [MemberData(nameof(DamagedManifests))]
    public void ADamagedOrMissingCheckpointJsonKeepsTheNewestStoreCheckpointAndTheWholeLog(string damage)
    {
        var crashed = CrashedDirectory();
        try
        {
            string original = File.ReadAllText(crashed.ManifestPath);
            long address = crashed.Manifest.WalAddress;
            switch (damage)
            {
                case "WalAddress + 12": File.WriteAllText(crashed.ManifestPath, original.Replace($"\"WalAddress\":{address}", $"\"WalAddress\":{address + 12}")); break;
                case "garbage": File.WriteAllBytes(crashed.ManifestPath, RandomNumberGenerator.GetBytes(400)); break;
                case "empty": File.WriteAllBytes(crashed.ManifestPath, []); break;
                case "missing": File.Delete(crashed.ManifestPath); break;
            }
            byte[]? damaged = File.Exists(crashed.ManifestPath) ? File.ReadAllBytes(crashed.ManifestPath) : null;
            string stdout = RepairAndCheck(crashed, crashed.Papers);
            Assert.Contains("kept: store checkpoint", stdout);
            if (damaged != null && damage != "WalAddress + 12")
                Assert.Equal(damaged, File.ReadAllBytes(Assert.Single(Directory.GetFiles(crashed.Dir, "checkpoint.json.damaged-*")))); // copied aside, not lost
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    [Fact]
    public void ADamagedEntryLosesOnlyItselfAndTheIntactEntriesAfterItAreKept()
    {
        var crashed = CrashedDirectory();
        try
        {
            // 16 bytes in the middle of logged entry 11 of 100 (index 10).
            long start = crashed.EntryEnds[9], end = crashed.EntryEnds[10];
            var bytes = File.ReadAllBytes(crashed.Segment);
            for (long i = 0; i < 16; i++) bytes[(start + end) / 2 + i] ^= 0x5A;
            File.WriteAllBytes(crashed.Segment, bytes);
            var logBefore = Files(Path.Combine(crashed.Dir, "wal"));
            var lostPaper = crashed.LoggedPapers.ElementAt(10);
            string stdout = RepairAndCheck(crashed, crashed.Papers.Where(p => p.Key != lostPaper.Key).ToList());
            AssertLogMovedAsideWhole(crashed, logBefore, stdout);
            Assert.Contains("lost: log entries", stdout);
            Assert.Contains($"unreadable: log addresses {start}..", stdout);
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    public static TheoryData<string> LostStoreFiles => ["store/checkpoints/index-checkpoints/*/ht.dat.0", "store/hlog.log.0"];

    /// <summary>The store's own files gone with no older intact checkpoint: repair cannot make the papers up, so it refuses in one line and changes nothing.</summary>
    [Theory]
    [MemberData(nameof(LostStoreFiles))]
    public void AStoreWithoutAnIntactCheckpointIsRefusedInOneLineAndLeftAsItWas(string pattern)
    {
        var crashed = CrashedDirectory();
        try
        {
            foreach (var f in VerifyReadOnlyTests.Glob(crashed.Dir, pattern)) File.Delete(f);
            var before = VerifyReadOnlyTests.Fingerprint(crashed.Dir);
            before.Remove("papervec.lock");
            var (exit, stdout, stderr) = CliRunner.Run("repair", "--data", crashed.Dir);
            Assert.NotEqual(0, exit);
            Assert.Contains("no intact store checkpoint", stderr);
            Assert.DoesNotContain("   at ", stderr);
            var after = VerifyReadOnlyTests.Fingerprint(crashed.Dir);
            after.Remove("papervec.lock");
            VerifyReadOnlyTests.AssertSame(before, after, pattern);
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    [Fact]
    public void RepairOfASoundDirectoryChangesNoPaperAndMovesNothing()
    {
        var crashed = CrashedDirectory();
        try
        {
            var (exit, stdout, _) = CliRunner.Run("repair", "--data", crashed.Dir);
            Assert.Equal(0, exit);
            Assert.Contains("nothing to repair", stdout);
            Assert.Empty(Directory.GetDirectories(crashed.Dir, "wal.damaged-*"));
            using var db = PaperDatabase.Open(crashed.Dir);
            Assert.Equal(Checkpointed + Logged, db.PaperCount);
            Assert.True(db.Verify().Sound);
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }
}
