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
/// Store-side damage (store log bytes, a record's own checksum, missing store files) is salvaged the
/// same way: every intact record is kept, the damaged store moved aside, and each loss named.
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
    /// <param name="revise">A checkpointed paper revised (new abstract) in the log after the checkpoint; <see cref="Crashed.Papers"/> holds the revision.</param>
    static async Task<Crashed> CrashedDirectoryAsync(int? revise = null)
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(25);
        var papers = Enumerable.Range(0, Checkpointed + Logged).Select(i => StoreTestData.Paper(i, random)).ToList();
        var db = await PaperDatabase.OpenAsync(dir);
        db.Commit(papers.Take(Checkpointed).Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p).PutAlias(p.SourceId!, p.Key)));
        db.Checkpoint();
        if (revise is int r)
        {
            papers[r] = papers[r] with { Abstract = "Revised after the checkpoint: " + papers[r].Abstract };
            db.Commit(new WriteBatch().PutPaper(papers[r]));
        }
        var ends = new List<long>();
        foreach (var p in papers.Skip(Checkpointed))
        {
            db.Commit(new WriteBatch().PutPaper(p).PutAlias(p.SourceId!, p.Key));
            ends.Add(db.LogTailAddress);
        }
        db.Abandon();
        return new Crashed(dir, papers, [.. ends]);
    }

    /// <summary>Runs papervec repair; then the directory opens normally, verifies sound and holds exactly <paramref name="expected"/>, as written.</summary>
    async Task<string> RepairAndCheckAsync(Crashed crashed, IReadOnlyCollection<PaperRecord> expected) => await CheckRepairedAsync(crashed, expected, await RepairAsync(crashed));

    /// <summary>Runs papervec repair on a directory serve refuses; returns what it printed.</summary>
    async Task<string> RepairAsync(Crashed crashed)
    {
        var refused = await Assert.ThrowsAsync<DataDirectoryDamagedException>(async () => await (await PaperDatabase.OpenAsync(crashed.Dir)).DisposeAsync()); // serve refuses first
        var (exit, stdout, stderr) = CliRunner.Run("repair", "--data", crashed.Dir);
        output.WriteLine(stdout + stderr);
        Assert.True(exit == 0, $"repair failed after serve refused with '{refused.Message}': {stdout}{stderr}");
        Assert.Contains(": repaired;", stdout); // says it changed something, not "nothing to repair"
        return stdout;
    }

    /// <summary>The repaired directory opens as serve opens it, holds exactly <paramref name="expected"/> as written, verifies sound and keeps new writes.</summary>
    static async Task<string> CheckRepairedAsync(Crashed crashed, IReadOnlyCollection<PaperRecord> expected, string stdout)
    {
        await using var db = await PaperDatabase.OpenAsync(crashed.Dir); // what serve does
        Assert.Empty(db.Recovery.Damage);
        Assert.Equal(expected.Count, db.PaperCount);
        foreach (var paper in expected)
        {
            var stored = db.GetPaper(paper.Key);
            Assert.True(stored != null, $"paper '{paper.Title}' was lost by repair; it printed: {stdout}");
            Assert.Equal(paper.Title, stored.Title);
            Assert.Equal(paper.Vector, stored.Vector);
            Assert.Equal(paper.Abstract, stored.Abstract);
            Assert.Equal(paper.Key, db.Catalog.KeyOfSourceId(paper.SourceId!));
        }
        var report = db.Verify();
        Assert.True(report.Sound, string.Join("; ", report.Problems));
        // The repaired directory takes writes and keeps them across a restart.
        var extra = StoreTestData.Paper(10_000, new Random(1));
        db.Commit(new WriteBatch().PutPaper(extra));
        db.Abandon();
        await using (var again = await PaperDatabase.OpenAsync(crashed.Dir)) Assert.Equal(expected.Count + 1, again.PaperCount);
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
    public async Task ACutLogSegmentKeepsTheCheckpointAndEveryEntryBeforeTheCut()
    {
        var crashed = await CrashedDirectoryAsync();
        try
        {
            long cut = crashed.EntryEnds[39] + 100; // inside entry 41 of 100
            using (var file = new FileStream(crashed.Segment, FileMode.Open)) file.SetLength(cut);
            var logBefore = Files(Path.Combine(crashed.Dir, "wal"));
            string stdout = await RepairAndCheckAsync(crashed, crashed.Papers.Take(Checkpointed + 40).ToList());
            AssertLogMovedAsideWhole(crashed, logBefore, stdout);
            Assert.Contains("cut", stdout);
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    [Fact]
    public async Task AMissingLogSegmentKeepsTheCheckpointedPapers()
    {
        var crashed = await CrashedDirectoryAsync();
        try
        {
            File.Delete(crashed.Segment);
            var logBefore = Files(Path.Combine(crashed.Dir, "wal"));
            string stdout = await RepairAndCheckAsync(crashed, crashed.Papers.Take(Checkpointed).ToList());
            AssertLogMovedAsideWhole(crashed, logBefore, stdout);
            Assert.Contains("is missing", stdout);
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    [Fact]
    public async Task AMissingCommitRecordKeepsEveryIntactEntry()
    {
        var crashed = await CrashedDirectoryAsync();
        try
        {
            foreach (var f in VerifyReadOnlyTests.Glob(crashed.Dir, "wal/commits/log-commits/commit.*")) File.Delete(f);
            var logBefore = Files(Path.Combine(crashed.Dir, "wal"));
            string stdout = await RepairAndCheckAsync(crashed, crashed.Papers);
            AssertLogMovedAsideWhole(crashed, logBefore, stdout);
            Assert.Contains($"kept: log entries", stdout);
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    public static TheoryData<string> DamagedManifests => ["WalAddress + 12", "garbage", "empty", "missing"];

    [Theory]
    [MemberData(nameof(DamagedManifests))]
    public async Task ADamagedOrMissingCheckpointJsonKeepsTheNewestStoreCheckpointAndTheWholeLog(string damage)
    {
        var crashed = await CrashedDirectoryAsync();
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
            string stdout = await RepairAndCheckAsync(crashed, crashed.Papers);
            Assert.Contains("kept: store checkpoint", stdout);
            if (damaged != null && damage != "WalAddress + 12")
                Assert.Equal(damaged, File.ReadAllBytes(Assert.Single(Directory.GetFiles(crashed.Dir, "checkpoint.json.damaged-*")))); // copied aside, not lost
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    [Fact]
    public async Task ADamagedEntryLosesOnlyItselfAndTheIntactEntriesAfterItAreKept()
    {
        var crashed = await CrashedDirectoryAsync();
        try
        {
            // 16 bytes in the middle of logged entry 11 of 100 (index 10).
            long start = crashed.EntryEnds[9], end = crashed.EntryEnds[10];
            var bytes = File.ReadAllBytes(crashed.Segment);
            for (long i = 0; i < 16; i++) bytes[(start + end) / 2 + i] ^= 0x5A;
            File.WriteAllBytes(crashed.Segment, bytes);
            var logBefore = Files(Path.Combine(crashed.Dir, "wal"));
            var lostPaper = crashed.LoggedPapers.ElementAt(10);
            string stdout = await RepairAndCheckAsync(crashed, crashed.Papers.Where(p => p.Key != lostPaper.Key).ToList());
            AssertLogMovedAsideWhole(crashed, logBefore, stdout);
            Assert.Contains("lost: log entries", stdout);
            Assert.Contains($"unreadable: log addresses {start}..", stdout);
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    public static TheoryData<string> LostStoreCheckpointFiles =>
        ["store/checkpoints/index-checkpoints/*/ht.dat.0", "store/checkpoints/index-checkpoints/*/info.dat.0", "store/checkpoints/cpr-checkpoints/*/info.dat.0"];

    /// <summary>A store checkpoint's own files gone: the store log is intact (its chunk checksums verify), so repair rebuilds the store from it and keeps every paper.</summary>
    [Theory]
    [MemberData(nameof(LostStoreCheckpointFiles))]
    public async Task AMissingStoreCheckpointFileKeepsEveryPaper(string pattern)
    {
        var crashed = await CrashedDirectoryAsync();
        try
        {
            foreach (var f in VerifyReadOnlyTests.Glob(crashed.Dir, pattern)) File.Delete(f);
            string stdout = await RepairAndCheckAsync(crashed, crashed.Papers);
            AssertStoreMovedAside(crashed, stdout);
            Assert.DoesNotContain("lost:", stdout);
            Assert.Contains($"kept: {Checkpointed * 2} records", stdout); // every paper and its id
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    [Fact]
    public async Task DamagedStoreCheckpointMetadataKeepsEveryPaper()
    {
        var crashed = await CrashedDirectoryAsync();
        try
        {
            // FASTER's info.dat with flipped bytes: FASTER cannot recover the checkpoint; its log is intact.
            StoreIntegrityTests.Flip(VerifyReadOnlyTests.Glob(crashed.Dir, "store/checkpoints/cpr-checkpoints/*/info.dat.0").Single(), 4, 36);
            Assert.Contains("papervec repair", (await DataDirectoryFaultTests.RefusedAsync(crashed.Dir)).Message);
            string stdout = await RepairAndCheckAsync(crashed, crashed.Papers);
            Assert.DoesNotContain("lost:", stdout);
            AssertStoreMovedAside(crashed, stdout);
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    /// <summary>The store moved aside whole (its log byte for byte) and named; a second repair finds nothing to do and moves nothing more.</summary>
    static void AssertStoreMovedAside(Crashed crashed, string stdout, SortedDictionary<string, string>? storeBefore = null)
    {
        string aside = Assert.Single(Directory.GetDirectories(crashed.Dir, "store.damaged-*"));
        Assert.Contains($"moved aside: the damaged store {Path.Combine(crashed.Dir, "store")} to {aside}", stdout);
        if (storeBefore != null) Assert.Equal(storeBefore, Files(aside));
        var (exit, again, _) = CliRunner.Run("repair", "--data", crashed.Dir);
        Assert.Equal(0, exit);
        Assert.Contains("nothing to repair", again);
        Assert.Single(Directory.GetDirectories(crashed.Dir, "store.damaged-*"));
        Assert.Empty(Directory.GetDirectories(crashed.Dir, "wal.damaged-*"));
    }

    /// <summary>"number 37" -> "number 97" in paper 37's stored record in hlog.log.0 (its first digit becomes 9).</summary>
    static void TitleNumberToNinety(Crashed crashed, int paper)
    {
        string hlog = StoreIntegrityTests.Hlog(crashed.Dir);
        var log = File.ReadAllBytes(hlog);
        log[StoreIntegrityTests.TitleOffset(log, paper) + "Synthetic paper number ".Length] = (byte)'9';
        File.WriteAllBytes(hlog, log);
    }

    static string Aside(Crashed crashed) => Assert.Single(Directory.GetDirectories(crashed.Dir, "store.damaged-*"));

    /// <summary>A repair that died after moving the damaged store aside (an empty store/ begun): the next one salvages from the folder aside.</summary>
    [Fact]
    public async Task ARepairInterruptedAfterMovingTheStoreAsideIsDoneAgainFromIt()
    {
        var crashed = await CrashedDirectoryAsync();
        try
        {
            TitleNumberToNinety(crashed, 37);
            string store = Path.Combine(crashed.Dir, "store");
            Directory.Move(store, store + ".damaged-20260101-000000");
            Directory.CreateDirectory(store);

            string stdout = await RepairAndCheckAsync(crashed, crashed.Papers.Where(p => p.Key != crashed.Papers[37].Key).ToList());
            Assert.Contains("an earlier repair was interrupted", stdout);
            Assert.Contains($"lost: paper {crashed.Papers[37].Id}", stdout);
            Assert.Single(Directory.GetDirectories(crashed.Dir, "store.partial-*"));
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    [Fact]
    public async Task AChangedTitleByteInTheStoreLogLosesOnlyThatPaperAndNamesIt()
    {
        var crashed = await CrashedDirectoryAsync();
        try
        {
            // "number 37" -> "number 97" in the checkpointed record: its chunk checksum and its own checksum fail.
            TitleNumberToNinety(crashed, 37);
            var storeBefore = Files(Path.Combine(crashed.Dir, "store"));
            Assert.Contains("papervec repair", (await DataDirectoryFaultTests.RefusedAsync(crashed.Dir)).Message); // serve's one line says what to do

            var lost = crashed.Papers[37];
            string stdout = await RepairAndCheckAsync(crashed, crashed.Papers.Where(p => p.Key != lost.Key).ToList());
            Assert.Contains($"lost: paper {lost.Id}", stdout);
            Assert.Contains($"unreadable: {Aside(crashed)}/hlog.log.0 bytes", stdout);
            Assert.Contains($"dropped: id alias '{lost.SourceId}'", stdout); // no id left naming a paper that is gone
            AssertStoreMovedAside(crashed, stdout, storeBefore);
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    [Fact]
    public async Task ARecordFailingItsOwnChecksumWhereNoStoreLogChecksumCoversItIsLostAloneAndNamed()
    {
        var crashed = await CrashedDirectoryAsync();
        try
        {
            // checkpoint.json without its store-log checksums: only the record's own checksum tells.
            (crashed.Manifest with { StoreLogChunks = [] }).Save(crashed.ManifestPath);
            TitleNumberToNinety(crashed, 37);
            var lost = crashed.Papers[37];
            var refused = await DataDirectoryFaultTests.RefusedAsync(crashed.Dir);
            Assert.Contains($"paper {lost.Id}", refused.Message);
            Assert.Contains("papervec repair", refused.Message);

            string stdout = await RepairAndCheckAsync(crashed, crashed.Papers.Where(p => p.Key != lost.Key).ToList());
            Assert.Contains($"lost: paper {lost.Id}", stdout);
            Assert.Contains("0 of 1 log pages verified whole", stdout); // every record was checked on its own
            AssertStoreMovedAside(crashed, stdout);
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    [Fact]
    public async Task ADamagedStoredRecordTheLogWroteAgainIsRestoredFromTheLog()
    {
        var crashed = await CrashedDirectoryAsync(revise: 37);
        try
        {
            TitleNumberToNinety(crashed, 37);

            string stdout = await RepairAndCheckAsync(crashed, crashed.Papers);
            Assert.Contains($"restored: paper {crashed.Papers[37].Id}", stdout);
            Assert.DoesNotContain($"lost: paper {crashed.Papers[37].Id}", stdout);
            AssertStoreMovedAside(crashed, stdout);
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    [Fact]
    public async Task DamageNearTheEndOfTheStoreLogLosesOnlyTheRecordsItHitAndNamesThem()
    {
        var crashed = await CrashedDirectoryAsync();
        try
        {
            // The probe's damage: 64 flipped bytes 3,000 bytes before the end of hlog.log.0 (an AccessViolation in every verb before).
            string hlog = StoreIntegrityTests.Hlog(crashed.Dir);
            StoreIntegrityTests.Flip(hlog, (int)new FileInfo(hlog).Length - 3000, 64);
            string stdout = await RepairAsync(crashed);
            var named = crashed.Papers.Where(p => stdout.Contains($"lost: paper {p.Id}")).ToList();
            Assert.InRange(named.Count, 1, 2); // a record or two of ~2.6 KB
            Assert.Contains($"unreadable: {Aside(crashed)}/hlog.log.0 bytes", stdout);
            await CheckRepairedAsync(crashed, crashed.Papers.Except(named).ToList(), stdout);
            AssertStoreMovedAside(crashed, stdout);
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    [Fact]
    public async Task AMissingStoreLogSegmentKeepsWhatTheWriteAheadLogHoldsAndNamesTheLoss()
    {
        var crashed = await CrashedDirectoryAsync();
        try
        {
            string hlog = StoreIntegrityTests.Hlog(crashed.Dir);
            File.Delete(hlog);
            string stdout = await RepairAndCheckAsync(crashed, crashed.LoggedPapers.ToList()); // the 500 checkpointed papers were only in that file
            Assert.Contains($"unreadable: {Aside(crashed)}/hlog.log.0 bytes 64..", stdout);
            Assert.Contains("the file is missing", stdout);
            Assert.Contains($"lost: {Checkpointed} of the {Checkpointed} papers", stdout);
            AssertStoreMovedAside(crashed, stdout);
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    /// <summary>Without checkpoint.json and without any store checkpoint's info.dat nothing says where the store's log ends: refused in one line, nothing changed.</summary>
    [Fact]
    public async Task AStoreWhoseLogEndNothingRecordsIsRefusedInOneLineAndLeftAsItWas()
    {
        var crashed = await CrashedDirectoryAsync();
        try
        {
            File.Delete(crashed.ManifestPath);
            foreach (var f in VerifyReadOnlyTests.Glob(crashed.Dir, "store/checkpoints/cpr-checkpoints/*/info.dat.0")) File.Delete(f);
            var before = VerifyReadOnlyTests.Fingerprint(crashed.Dir);
            before.Remove("papervec.lock");
            var (exit, stdout, stderr) = CliRunner.Run("repair", "--data", crashed.Dir);
            Assert.NotEqual(0, exit);
            Assert.Contains("cannot tell where the store's log begins and ends", stderr);
            Assert.DoesNotContain("   at ", stderr);
            var after = VerifyReadOnlyTests.Fingerprint(crashed.Dir);
            after.Remove("papervec.lock");
            VerifyReadOnlyTests.AssertSame(before, after, "checkpoint.json and info.dat");
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }

    [Fact]
    public async Task RepairOfASoundDirectoryChangesNoPaperAndMovesNothing()
    {
        var crashed = await CrashedDirectoryAsync();
        try
        {
            var (exit, stdout, _) = CliRunner.Run("repair", "--data", crashed.Dir);
            Assert.Equal(0, exit);
            Assert.Contains("nothing to repair", stdout);
            Assert.Empty(Directory.GetDirectories(crashed.Dir, "wal.damaged-*"));
            Assert.Empty(Directory.GetDirectories(crashed.Dir, "store.damaged-*"));
            await using var db = await PaperDatabase.OpenAsync(crashed.Dir);
            Assert.Equal(Checkpointed + Logged, db.PaperCount);
            Assert.True(db.Verify().Sound);
        }
        finally { Directory.Delete(crashed.Dir, true); }
    }
}
