using PaperVec.Index;
using PaperVec.Storage;

namespace PaperVec.Tests.Storage;

/// <summary>The engine's one search rule: an exact scan of the index's rows below the crossover, the graph above.</summary>
public class SearchPolicyTests
{
    static float[][] Vectors(int count, int dim, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => StoreTestData.UnitVector(random, dim)).ToArray();
    }

    static long[] TrueTopK(float[][] vectors, Func<long, bool> keep, float[] query, int k) =>
        Enumerable.Range(0, vectors.Length).Where(i => keep(i))
            .Select(i => (Id: (long)i, Score: VectorKernels.Dot(vectors[i], query)))
            .OrderByDescending(h => h.Score).Take(k).Select(h => h.Id).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1003)] // four lanes of 250 rows and a tail of 3
    public void TheExactScanOfTheGraphsRowsAndTheGraphSearchBothFindTheTrueTopK(int count)
    {
        var vectors = Vectors(count, 48, seed: count);
        using var index = new HnswIndex(48, new HnswOptions { InitialCapacity = 16 });
        for (int i = 0; i < count; i++) index.Add(i, vectors[i]);
        var deleted = Enumerable.Range(0, count).Where(i => i % 10 == 3).Select(i => (long)i).ToHashSet();
        foreach (long id in deleted) index.Remove(id);
        if (count > 100) index.Repair(); // frees slots: the scan must skip them too
        foreach (long id in deleted.Take(2)) index.Add(id, vectors[id]); // reused slots hold live papers again
        deleted.ExceptWith(deleted.Take(2).ToList());
        bool Live(long id) => !deleted.Contains(id);
        bool Even(long id) => id % 2 == 0;
        foreach (var query in Vectors(5, 48, seed: 99))
        {
            Assert.Equal(TrueTopK(vectors, Live, query, 10), index.SearchExact(query, 10).Select(h => h.Id));
            Assert.Equal(TrueTopK(vectors, id => Live(id) && Even(id), query, 10), index.SearchExact(query, 10, Even).Select(h => h.Id));
            Assert.Equal(TrueTopK(vectors, Live, query, 10), index.Search(query, 10, ef: count + 10).Select(h => h.Id));
            var scores = index.SearchExact(query, 10).Select(h => h.Score).ToArray();
            Assert.Equal(scores.OrderByDescending(s => s), scores);
        }
    }

    [Fact]
    public async Task SearchesAreExactBelowTheCrossoverAndUseTheGraphFromIt()
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(8);
        var papers = Enumerable.Range(0, 40).Select(i => StoreTestData.Paper(i, random)).ToList();
        var vectors = papers.Select(p => p.Vector).ToArray();
        try
        {
            await using var db = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions { ExactSearchBelow = 40 });
            var batch = new WriteBatch();
            foreach (var p in papers.Take(39)) batch.PutPaper(p);
            db.Commit(batch);

            void SameAsTruth(int live)
            {
                bool Stored(long i) => i < live;
                foreach (var query in Vectors(3, 384, seed: live))
                {
                    var truth = TrueTopK(vectors, Stored, query, 5).Select(i => papers[(int)i].Key);
                    Assert.Equal(truth, db.Vectors.Search(query, 5, ef: 40).Select(h => h.Id));
                }
                var similar = TrueTopK(vectors, Stored, vectors[0], 5).Select(i => papers[(int)i].Key);
                Assert.Equal(similar, db.Vectors.SearchSimilar(papers[0].Key, 5, ef: 40)!.Select(h => h.Id));
            }

            Assert.True(db.Vectors.SearchesExactly); // 39 papers, below 40
            SameAsTruth(39);
            db.Commit(new WriteBatch().PutPaper(papers[39]));
            Assert.False(db.Vectors.SearchesExactly); // 40: the graph
            SameAsTruth(40);
            db.Commit(new WriteBatch().DeletePaper(papers[39].Key));
            Assert.True(db.Vectors.SearchesExactly); // back below
            SameAsTruth(39);
        }
        finally { Directory.Delete(dir, true); }
    }
}
