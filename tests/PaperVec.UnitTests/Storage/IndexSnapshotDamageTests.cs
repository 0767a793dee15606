using PaperVec.Storage;

namespace PaperVec.Tests.Storage;

/// <summary>The HNSW snapshot is derived data behind a checksum: flipped or cut bytes are detected at open and the index rebuilt from the stored vectors, answering as before.</summary>
public class IndexSnapshotDamageTests
{
    [Theory]
    [InlineData("flipped")]
    [InlineData("cut")]
    public async Task ADamagedIndexSnapshotIsDetectedAndRebuiltAndAnswersAlike(string damage)
    {
        string dir = StoreTestData.TempDir();
        try
        {
            var random = new Random(21);
            var papers = Enumerable.Range(1, 500).Select(n => StoreTestData.Paper(n, random)).ToList();
            var queries = Enumerable.Range(0, 20).Select(_ => StoreTestData.UnitVector(random)).ToList();
            List<string> before;
            await using (var db = await PaperDatabase.OpenAsync(dir))
            {
                db.Commit(papers.Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p)));
                before = queries.Select(q => Answer(db, q)).ToList();
            }
            string snapshot = Directory.GetFiles(Path.Combine(dir, "index")).Single();
            byte[] bytes = File.ReadAllBytes(snapshot);
            if (damage == "cut") Array.Resize(ref bytes, bytes.Length - 1000);
            else for (int i = 0; i < 64; i++) bytes[bytes.Length * 3 / 4 + i] ^= 0x5A; // inside the vector rows
            File.WriteAllBytes(snapshot, bytes);

            await using var reopened = await PaperDatabase.OpenAsync(dir);
            Assert.True(reopened.Recovery.IndexRebuilt);
            Assert.Contains(Path.GetFileName(snapshot), reopened.Recovery.IndexRebuildReason);
            Assert.Contains(damage == "cut" ? "bytes" : "checksum", reopened.Recovery.IndexRebuildReason);
            Assert.Equal(before, queries.Select(q => Answer(reopened, q)).ToList());
            Assert.True(reopened.IndexMatchesStore(out string problem), problem);
        }
        finally { Directory.Delete(dir, true); }
    }

    // Below ExactSearchBelow papers every search is exact, so a rebuilt graph answers exactly as the saved one did.
    static string Answer(PaperDatabase db, float[] query) => string.Join(",", db.Vectors.Search(query, 10).Select(h => $"{h.Id}:{h.Score:0.00000}"));
}
