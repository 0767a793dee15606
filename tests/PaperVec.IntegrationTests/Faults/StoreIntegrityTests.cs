using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using PaperVec.Storage;
using PaperVec.Tests.Storage;
using static PaperVec.Tests.Faults.DataDirectoryFaultTests; // Fingerprint, AssertUnchanged, Refused

namespace PaperVec.Tests.Faults;

/// <summary>
/// Damaged bytes in the store (issue 25, items 1-3): every stored record and checkpoint.json carry a
/// checksum; a record that fails it is never served, the open refuses with one line naming it, and
/// nothing is rebuilt or checkpointed over it; damaged store-log bytes are refused before FASTER reads them.
/// </summary>
public class StoreIntegrityTests
{
    const int PaperCount = 200;

    /// <summary>A cleanly closed directory of 200 papers (with source-id aliases) and its papers.</summary>
    static async Task<(string Dir, List<PaperRecord> Papers)> ClosedDirectoryAsync(PaperDatabaseOptions? options = null, int first = 0)
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(25);
        var papers = Enumerable.Range(first, PaperCount).Select(i => StoreTestData.Paper(i, random)).ToList();
        await using (var db = await PaperDatabase.OpenAsync(dir, options))
            db.Commit(papers.Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p).PutAlias(p.SourceId!, p.Key)));
        return (dir, papers);
    }

    internal static string Hlog(string dir) => Path.Combine(dir, "store", "hlog.log.0");

    static int IndexOf(byte[] haystack, byte[] needle)
    {
        int at = haystack.AsSpan().IndexOf(needle);
        Assert.True(at >= 0, "pattern not found in the store log");
        Assert.True(haystack.AsSpan(at + 1).IndexOf(needle) < 0, "pattern found twice in the store log");
        return at;
    }

    /// <summary>The offset of paper <paramref name="n"/>'s title in the store log (its UTF-8 bytes, then the abstract's length).</summary>
    internal static int TitleOffset(byte[] log, int n)
    {
        var title = Encoding.UTF8.GetBytes($"Synthetic paper number {n}");
        var abstractLength = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(abstractLength, Encoding.UTF8.GetByteCount(StoreTestData.Paper(n, new Random(0)).Abstract));
        return IndexOf(log, [.. title, .. abstractLength]);
    }

    static async Task<VerifyReport> VerifiedAsync(string dir)
    {
        await using var db = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions { Mode = OpenMode.Verify });
        return db.Verify();
    }

    internal static void Flip(string file, int at, int count)
    {
        var bytes = File.ReadAllBytes(file);
        for (int i = 0; i < count; i++) bytes[at + i] ^= 0xFF;
        File.WriteAllBytes(file, bytes);
    }

    [Fact]
    public async Task AChangedByteInAStoredTitleIsRefusedNamingTheFileNotServed()
    {
        var (dir, _) = await ClosedDirectoryAsync();
        try
        {
            // "number 37" -> "number 97", as the probe did: the record still decodes; only a checksum tells.
            var log = File.ReadAllBytes(Hlog(dir));
            int at = TitleOffset(log, 37) + "Synthetic paper number ".Length;
            log[at] = (byte)'9';
            File.WriteAllBytes(Hlog(dir), log);
            var before = Fingerprint(dir);

            var refused = await RefusedAsync(dir);
            Assert.Contains(Hlog(dir), refused.Message);
            Assert.DoesNotContain("\n", refused.Message);
            AssertUnchanged(before, dir);

            var report = await VerifiedAsync(dir);
            Assert.False(report.Sound);
            Assert.Contains(report.Problems, p => p.Contains(Hlog(dir)) && p.Contains("damaged"));
            AssertUnchanged(before, dir);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>checkpoint.json rewritten without its store-log checksums: the records' own checksums must still catch it.</summary>
    static void DropLogChunks(string dir)
    {
        string path = Path.Combine(dir, "checkpoint.json");
        var manifest = CheckpointManifest.TryLoad(path)!;
        (manifest with { StoreLogChunks = [] }).Save(path);
    }

    [Fact]
    public async Task EachRecordsOwnChecksumCatchesAChangedTitleAtOpenNamingThePaper()
    {
        var (dir, papers) = await ClosedDirectoryAsync();
        try
        {
            DropLogChunks(dir);
            var log = File.ReadAllBytes(Hlog(dir));
            log[TitleOffset(log, 37) + "Synthetic paper number ".Length] = (byte)'9';
            File.WriteAllBytes(Hlog(dir), log);
            var before = Fingerprint(dir);

            var refused = await RefusedAsync(dir);
            Assert.Contains($"paper {papers[37].Id}", refused.Message);
            Assert.Contains(Hlog(dir), refused.Message);
            AssertUnchanged(before, dir); // no index rebuild, no checkpoint over the damage

            var report = await VerifiedAsync(dir);
            Assert.Contains(report.Problems, p => p.Contains($"paper {papers[37].Id}") && p.Contains("checksum"));
            AssertUnchanged(before, dir);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task ChangedVectorBytesWithTheIndexSnapshotGoneAreRefusedNotRebuiltIntoOtherScores()
    {
        var (dir, papers) = await ClosedDirectoryAsync();
        try
        {
            var log = File.ReadAllBytes(Hlog(dir));
            var vector = new byte[384 * 4];
            Buffer.BlockCopy(papers[21].Vector, 0, vector, 0, vector.Length);
            int at = IndexOf(log, vector) + 100;
            for (int i = 0; i < 16; i++) log[at + i] ^= 0x21;
            File.WriteAllBytes(Hlog(dir), log);
            foreach (var snapshot in Directory.GetFiles(Path.Combine(dir, "index"), "hnsw-*.bin")) File.Delete(snapshot);
            var before = Fingerprint(dir);

            Assert.Contains(Hlog(dir), (await RefusedAsync(dir)).Message);
            AssertUnchanged(before, dir);
            Assert.False((await VerifiedAsync(dir)).Sound);

            // Without the store-log checksums the record's own checksum refuses it, naming the paper.
            DropLogChunks(dir);
            Assert.Contains($"paper {papers[21].Id}", (await RefusedAsync(dir)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task FlippedKeyBytesAreRefusedAndTheRefusedOpenChangesNothing()
    {
        var (dir, papers) = await ClosedDirectoryAsync();
        try
        {
            // The 8 bytes of paper 50's key after its 'P' prefix, where the record's key is stored.
            var log = File.ReadAllBytes(Hlog(dir));
            var key = new byte[9];
            key[0] = PaperDatabase.PaperPrefix;
            BinaryPrimitives.WriteInt64LittleEndian(key.AsSpan(1), papers[50].Key);
            int at = IndexOf(log, key) + 1;
            Flip(Hlog(dir), at, 8);
            var before = Fingerprint(dir);

            var refused = await RefusedAsync(dir);
            Assert.Contains(Hlog(dir), refused.Message);
            AssertUnchanged(before, dir);
            Assert.False((await VerifiedAsync(dir)).Sound);
            AssertUnchanged(before, dir);

            // The record's checksum covers its key: caught without the store-log checksums too, and still nothing changes.
            DropLogChunks(dir);
            before = Fingerprint(dir);
            Assert.Contains("checksum", (await RefusedAsync(dir)).Message);
            AssertUnchanged(before, dir);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task AnEditedSequenceNumberInCheckpointJsonIsRefused()
    {
        var (dir, _) = await ClosedDirectoryAsync();
        try
        {
            string path = Path.Combine(dir, "checkpoint.json");
            var json = JsonNode.Parse(File.ReadAllText(path))!;
            json["NextSequence"] = json["NextSequence"]!.GetValue<long>() + 2;
            File.WriteAllText(path, json.ToJsonString());
            var before = Fingerprint(dir);

            var refused = await RefusedAsync(dir);
            Assert.Contains(path, refused.Message);
            Assert.Contains("checksum", refused.Message);
            AssertUnchanged(before, dir);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task AStoreFromBeforeChecksumsStillOpensAndItsRecordsGainChecksums()
    {
        var (dir, papers) = await ClosedDirectoryAsync();
        try
        {
            // Paper 7 stored as an older PaperVec stored it (no checksum frame), under a version-2 manifest (no checksum, no store-log chunks).
            await using (var db = await PaperDatabase.OpenAsync(dir)) db.StorePaperUnframedForTests(papers[7] with { Title = "Stored before checksums" });
            string path = Path.Combine(dir, "checkpoint.json");
            var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            json["Version"] = 2;
            json.Remove("Checksum");
            json.Remove("StoreLogChunks");
            File.WriteAllText(path, json.ToJsonString());

            await using (var db = await PaperDatabase.OpenAsync(dir))
            {
                Assert.Equal(PaperCount, db.PaperCount);
                Assert.Equal("Stored before checksums", db.GetPaper(papers[7].Key)!.Title);
            }
            var manifest = CheckpointManifest.TryLoad(path)!;
            Assert.Equal(CheckpointManifest.CurrentVersion, manifest.Version);
            Assert.NotNull(manifest.Checksum);
            Assert.NotEmpty(manifest.StoreLogChunks);
            // Now every record must carry a checksum, and paper 7 does: it was rewritten with one.
            await using (var db = await PaperDatabase.OpenAsync(dir)) Assert.Equal("Stored before checksums", db.GetPaper(papers[7].Key)!.Title);
            Assert.True((await VerifiedAsync(dir)).Sound);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task AWrongStoreCheckpointTokenIsNamed()
    {
        var (dir, _) = await ClosedDirectoryAsync();
        try
        {
            string path = Path.Combine(dir, "checkpoint.json");
            var manifest = CheckpointManifest.TryLoad(path)!;
            (manifest with { StoreToken = Guid.NewGuid() }).Save(path);
            var refused = await RefusedAsync(dir);
            Assert.DoesNotContain("Parameter 's'", refused.Message);
            Assert.Contains("info.dat.0 is missing", refused.Message);
            Assert.Contains("checkpoint.json names store checkpoint", refused.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task ARecordDamagedAfterOpenIsNeverReturnedAsData()
    {
        // A small store memory: after the reopen the early records are read from disk, not memory.
        var options = new PaperDatabaseOptions { StoreMemoryBytes = 1L << 23 };
        string dir = StoreTestData.TempDir();
        try
        {
            var random = new Random(3);
            var papers = Enumerable.Range(0, 4000).Select(i => StoreTestData.Paper(i, random)).ToList();
            await using (var db = await PaperDatabase.OpenAsync(dir, options))
                foreach (var chunk in papers.Chunk(1000)) db.Commit(chunk.Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p)));
            await using (var db = await PaperDatabase.OpenAsync(dir, options))
            {
                Assert.Equal(papers[3].Title, db.GetPaper(papers[3].Key)!.Title);
                var log = File.ReadAllBytes(Hlog(dir));
                int at = TitleOffset(log, 3) + "Synthetic paper number ".Length;
                using (var file = new FileStream(Hlog(dir), FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
                {
                    file.Position = at;
                    file.WriteByte((byte)'8');
                }
                var damaged = Assert.Throws<RecordDamagedException>(() => db.GetPaper(papers[3].Key));
                Assert.Contains($"paper {papers[3].Id}", damaged.Message);
                Assert.Throws<RecordDamagedException>(() => db.GetPaperAsync(papers[3].Key).AsTask().GetAwaiter().GetResult());
                Assert.Throws<RecordDamagedException>(() => db.Papers());
                var vector = new float[384];
                Assert.Throws<RecordDamagedException>(() => db.TryReadVectorFromStoreForTests(papers[3].Key, vector));
                Assert.Equal(papers[4].Title, db.GetPaper(papers[4].Key)!.Title); // the others are served
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task TheServerAnswersADamagedRecordWithAProblemNotWithItsBytes()
    {
        // A store memory of two pages: the first papers are read back from disk, where they are damaged.
        await using var server = await Api.ApiServer.StartAsync(new PaperVec.Api.Hosting.ServerOptions { StoreMemoryBytes = 1L << 23 });
        var random = new Random(9);
        for (int batch = 0; batch < 7; batch++)
        {
            var body = new StringBuilder();
            for (int n = batch * 1000; n < (batch + 1) * 1000; n++)
            {
                var vector = StoreTestData.UnitVector(random);
                body.Append($"{{\"id\":\"integrity.{n}\",\"title\":\"Integrity paper number {n}\",\"abstract\":\"Abstract of integrity paper {n}.\",\"vector\":[")
                    .Append(string.Join(',', vector.Select(x => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))).Append("]}\n");
            }
            var created = await server.Client.PostAsync("/papers", new StringContent(body.ToString(), Encoding.UTF8, "application/x-ndjson"));
            Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        }
        var log = File.ReadAllBytes(Hlog(server.DataPath));
        var abstractLength = BitConverter.GetBytes("Abstract of integrity paper 3.".Length); // the title's end: then the abstract's length
        int at = IndexOf(log, [.. Encoding.UTF8.GetBytes("Integrity paper number 3"), .. abstractLength]) + "Integrity paper number ".Length;
        using (var file = new FileStream(Hlog(server.DataPath), FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            file.Position = at;
            file.WriteByte((byte)'8');
        }
        var response = await server.Client.GetAsync("/papers/integrity.3");
        string detail = await Api.Problems.AssertProblemAsync(response, 500, "damaged");
        Assert.Contains("integrity.4", await (await server.Client.GetAsync("/papers/integrity.4")).Content.ReadAsStringAsync()); // the others are served
        Assert.Contains("hlog.log", detail);
    }

    [Fact]
    public async Task AnIndexSnapshotOfOtherPapersIsRebuiltSayingWhichDiffer()
    {
        // Same count, other papers: the message said "(200 vs 200 papers)".
        var (dir, papers) = await ClosedDirectoryAsync();
        var (other, _) = await ClosedDirectoryAsync(first: PaperCount);
        try
        {
            string snapshot = Directory.GetFiles(Path.Combine(dir, "index"), "hnsw-*.bin").Single();
            File.Copy(Directory.GetFiles(Path.Combine(other, "index"), "hnsw-*.bin").Single(), snapshot, overwrite: true);
            await using var db = await PaperDatabase.OpenAsync(dir);
            Assert.True(db.Recovery.IndexRebuilt);
            Assert.Contains($"{PaperCount} stored papers missing from the index", db.Recovery.IndexRebuildReason);
            Assert.Contains(papers, p => db.Recovery.IndexRebuildReason!.Contains(p.Id)); // a few of them by id
            Assert.Contains($"{PaperCount} indexed papers not in the store", db.Recovery.IndexRebuildReason);
            Assert.True(db.IndexMatchesStore(out string problem), problem);
        }
        finally
        {
            Directory.Delete(dir, true);
            Directory.Delete(other, true);
        }
    }

    static (int Exit, string Output) RunCli(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "PaperVec.Cli.dll"), .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["PAPERVEC_MODEL_DIR"] = RepoPaths.ModelDir;
        start.Environment.Remove("PAPERVEC_API_KEY");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"papervec {string.Join(' ', args)} did not exit");
        }
        return (process.ExitCode, stderr.Result.Trim() + stdout.Result);
    }

    [Fact]
    public async Task DamageNearTheEndOfTheStoreLogIsOneLineFromServeVerifyAndRepairNotACrash()
    {
        var (dir, _) = await ClosedDirectoryAsync();
        try
        {
            // The probe's damage: 64 flipped bytes 3,000 bytes before the end of hlog.log.0 crashed every verb with an AccessViolation (exit 134).
            Flip(Hlog(dir), (int)new FileInfo(Hlog(dir)).Length - 3000, 64);
            var before = Fingerprint(dir);
            foreach (var verb in new[] { "serve", "verify" })
            {
                string[] args = verb == "serve" ? [verb, "--data", dir, "--urls", $"http://127.0.0.1:{Api.ServeProcess.FreePort()}"] : [verb, "--data", dir];
                var (exit, output) = RunCli(args);
                Assert.True(exit == 1, $"papervec {verb} exited {exit}: {output}");
                Assert.Contains("hlog.log.0", output);
                Assert.DoesNotContain("   at ", output); // no stack trace
            }
            AssertUnchanged(before, dir);
            // repair reads the damaged log itself (never through FASTER): it keeps the intact records and says which bytes it could not read.
            var (repairExit, repaired) = RunCli("repair", "--data", dir);
            Assert.True(repairExit == 0, $"papervec repair exited {repairExit}: {repaired}");
            Assert.Contains("unreadable: " + Path.Combine(Directory.GetDirectories(dir, "store.damaged-*").Single(), "hlog.log.0"), repaired);
            Assert.DoesNotContain("   at ", repaired);
        }
        finally { Directory.Delete(dir, true); }
    }
}
