using System.Buffers.Binary;
using PaperVec.Storage;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Faults;

/// <summary>
/// <see cref="StoreLogSalvage"/> reads FASTER's store log without FASTER (issue 25, item 7): on an
/// intact store it must find exactly what FASTER's own scan finds, newest version of each key,
/// deletes and in-place revisions included; otherwise papervec repair would lose or resurrect records.
/// </summary>
public class StoreSalvageTests
{
    [Fact]
    public async Task OnASoundStoreTheSalvageReaderFindsExactlyWhatFasterFinds()
    {
        string dir = StoreTestData.TempDir();
        try
        {
            var random = new Random(7);
            var papers = Enumerable.Range(0, 300).Select(i => StoreTestData.Paper(i, random)).ToList();
            await using (var db = await PaperDatabase.OpenAsync(dir))
            {
                db.Commit(papers.Take(200).Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p).PutAlias(p.SourceId!, p.Key)));
                db.Checkpoint(); // what follows lands in the mutable region: shorter values are rewritten in place, longer ones appended
                db.Commit(new WriteBatch().PutPaper(papers[3] with { Abstract = "short" }).PutPaper(papers[4] with { Abstract = papers[4].Abstract + " and more" }));
                db.Commit(papers.Skip(200).Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p)));
                db.Commit(new WriteBatch().PutPaper(papers[250] with { Abstract = "shorter again" }));
                db.Commit(new WriteBatch().DeletePaper(papers[5].Key).DeleteAlias(papers[5].SourceId!).DeletePaper(papers[260].Key));
                db.Commit(new WriteBatch().DeletePaper(papers[6].Key).PutPaper(papers[6] with { Abstract = "written again after its delete" }));
            }
            string store = Path.Combine(dir, "store");
            var manifest = CheckpointManifest.TryLoad(Path.Combine(dir, "checkpoint.json"))!;
            Assert.True(manifest.StoreTailAddress > 0);
            var scan = StoreLogSalvage.Scan(store, manifest.StoreLogChunks[0].Start, manifest.StoreTailAddress, manifest.StoreLogChunks, requireFrames: true);
            Assert.True(scan.Clean, string.Join("; ", scan.Gaps.Select(g => $"{g.File} {g.From}..{g.To} {g.Why}")) + string.Join("; ", scan.DamagedRecords.Select(d => d.Why)));
            Assert.Empty(scan.UnverifiedDeletes); // every page verified by its chunk checksum
            var salvaged = new SortedDictionary<string, string>(StringComparer.Ordinal);
            StoreLogSalvage.ForEachKept(store, scan, requireFrames: true, (key, value) => salvaged.Add(Convert.ToHexString(key), Convert.ToHexString(value)));

            var faster = new SortedDictionary<string, string>(StringComparer.Ordinal);
            using (var records = new RecordStore(store))
            {
                records.Recover(manifest.StoreToken);
                records.ScanLatest(null, (key, value) => faster.Add(Convert.ToHexString(key), Convert.ToHexString(value)));
            }
            Assert.Equal(faster, salvaged);
            Assert.Equal(300 - 2 + 199, salvaged.Count); // papers (two deleted) and ids (one deleted)
            var key6 = new byte[9];
            key6[0] = PaperDatabase.PaperPrefix;
            BinaryPrimitives.WriteInt64LittleEndian(key6.AsSpan(1), papers[6].Key);
            Assert.Contains(Convert.ToHexString(key6), salvaged.Keys);
            Assert.Equal((manifest.StoreLogChunks[0].Start, manifest.StoreTailAddress), StoreLogSalvage.CheckpointAddresses(store, manifest.StoreToken));
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>A delete in a damaged page carries no checksum of its own: repair still applies it (a deleted paper must not come back) and says so.</summary>
    [Fact]
    public async Task ADeleteInADamagedPageIsAppliedAndReportedAsUnverified()
    {
        string dir = StoreTestData.TempDir();
        try
        {
            var random = new Random(8);
            var papers = Enumerable.Range(0, 100).Select(i => StoreTestData.Paper(i, random)).ToList();
            await using (var db = await PaperDatabase.OpenAsync(dir))
            {
                db.Commit(papers.Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p).PutAlias(p.SourceId!, p.Key)));
                db.Checkpoint(); // the delete below is then a tombstone record of its own, after the paper's
                db.Commit(new WriteBatch().DeletePaper(papers[10].Key).DeleteAlias(papers[10].SourceId!));
            }
            string hlog = StoreIntegrityTests.Hlog(dir);
            var log = File.ReadAllBytes(hlog);
            log[StoreIntegrityTests.TitleOffset(log, 37) + "Synthetic paper number ".Length] = (byte)'9';
            File.WriteAllBytes(hlog, log); // the one page fails its chunk checksum: its deletes cannot be verified

            await using (var repaired = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions { Mode = OpenMode.AcceptLoss }))
            {
                var lines = string.Join("\n", repaired.Recovery.Repaired);
                Assert.Contains($"unverified: the delete of paper {papers[10].Id}", lines);
                Assert.Contains($"lost: paper {papers[37].Id}", lines);
                Assert.Null(repaired.GetPaper(papers[10].Key));
                Assert.Equal(98, repaired.PaperCount);
            }
            await using (var db = await PaperDatabase.OpenAsync(dir))
            {
                Assert.Empty(db.Recovery.Damage);
                Assert.Null(db.GetPaper(papers[10].Key));
                Assert.Null(db.Catalog.KeyOfSourceId(papers[10].SourceId!));
                foreach (var p in papers.Where(p => p.Key != papers[10].Key && p.Key != papers[37].Key))
                    Assert.Equal(p.Abstract, db.GetPaper(p.Key)!.Abstract);
                Assert.True(db.Verify().Sound);
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
