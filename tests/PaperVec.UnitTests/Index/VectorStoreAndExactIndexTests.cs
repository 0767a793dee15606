using PaperVec.Index;
using PaperVec.Bench.Baselines;

namespace PaperVec.Tests.Index;

public unsafe class VectorStoreAndExactIndexTests
{
    [Fact]
    public void RowsStayAlignedAndIntactWhileTheStoreGrows()
    {
        using var store = new VectorStore(dimension: 20, initialCapacity: 2);
        Assert.Equal(32, store.Stride); // padded to whole cache lines
        for (int i = 0; i < 100; i++) store.Append(Enumerable.Range(0, 20).Select(d => (float)(i * 100 + d)).ToArray());
        Assert.True(store.Capacity >= 100);
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(0, (long)store.RowPointer(i) % 64);
            Assert.Equal(i * 100 + 19, store.Row(i)[19]);
        }
        store.RemoveBySwappingLast(3);
        Assert.Equal(99, store.Count);
        Assert.Equal(9900, store.Row(3)[0]);
        Assert.Throws<ArgumentException>(() => store.Append(new float[19]));
    }

    [Fact]
    public void LargeStoresGrowAcrossTheHugePageSizeWithRowsIntactAndPaddingZero()
    {
        // 384-d rows: 3,000 rows are 4.6 MB, past NativeBlock's huge-page threshold (2 MB aligned, MADV_HUGEPAGE).
        using var store = new VectorStore(dimension: 380, initialCapacity: 1000);
        var row = new float[380];
        for (int i = 0; i < 5000; i++)
        {
            Array.Fill(row, i + 0.5f);
            store.Append(row);
        }
        Assert.True((long)store.Capacity * store.Stride * sizeof(float) >= 4 << 20);
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("PAPERVEC_HUGE_PAGES") != "0")
            Assert.Equal(0, (long)store.BasePointer % (2 << 20));
        for (int i = 0; i < 5000; i += 7)
        {
            Assert.Equal(i + 0.5f, store.Row(i)[0]);
            Assert.Equal(i + 0.5f, store.Row(i)[379]);
            for (int pad = 380; pad < store.Stride; pad++) Assert.Equal(0f, store.RowPointer(i)[pad]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1003)] // four lanes of 250 rows and a tail of 3
    [InlineData(4097)]
    public void ExactSearchFindsTheBestRowsWhateverTheRowCountModuloTheLanes(int count)
    {
        var vectors = RandomUnitVectors(count, 33, seed: count);
        using var index = new ExactIndex(33, initialCapacity: 16);
        for (int i = 0; i < count; i++) index.Add(i, vectors[i]);
        var ids = Enumerable.Range(0, count).Select(i => (long)i).ToArray();
        foreach (var query in RandomUnitVectors(5, 33, seed: 99))
        {
            var expected = BruteForce(vectors, ids, query, 10);
            Assert.Equal(expected, index.Search(query, 10).Select(h => h.Id).ToArray());
        }
    }

    static float[][] RandomUnitVectors(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var v = Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            VectorKernels.Normalize(v);
            return v;
        }).ToArray();
    }

    static long[] BruteForce(float[][] vectors, long[] ids, float[] query, int k, Func<long, bool>? filter = null) =>
        Enumerable.Range(0, vectors.Length)
            .Where(i => filter == null || filter(ids[i]))
            .OrderByDescending(i => VectorKernels.Dot(query, vectors[i], KernelPath.Scalar))
            .Take(k).Select(i => ids[i]).ToArray();

    [Fact]
    public void ExactSearchMatchesBruteForceWithFiltersRemovalsAndThreads()
    {
        var vectors = RandomUnitVectors(3000, 48, seed: 1);
        var ids = Enumerable.Range(0, vectors.Length).Select(i => 1_000_000L + 7 * i).ToArray();
        using var index = new ExactIndex(48, initialCapacity: 16);
        for (int i = 0; i < vectors.Length; i++) index.Add(ids[i], vectors[i]);
        Assert.Throws<ArgumentException>(() => index.Add(ids[0], vectors[0]));

        // Remove every third vector: the swap-remove must keep id and row together.
        var kept = new List<int>();
        for (int i = 0; i < vectors.Length; i++)
            if (i % 3 == 0) Assert.True(index.Remove(ids[i])); else kept.Add(i);
        Assert.False(index.Remove(ids[0]));
        Assert.Equal(kept.Count, index.Count);
        var keptVectors = kept.Select(i => vectors[i]).ToArray();
        var keptIds = kept.Select(i => ids[i]).ToArray();

        var queries = RandomUnitVectors(20, 48, seed: 2);
        Func<long, bool> odd = id => id % 2 == 1;
        foreach (var query in queries)
        {
            var hits = index.Search(query, 10);
            Assert.Equal(BruteForce(keptVectors, keptIds, query, 10), hits.Select(h => h.Id));
            Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Score >= p.Second.Score));
            Assert.Equal(VectorKernels.Dot(query, keptVectors[Array.IndexOf(keptIds, hits[0].Id)], KernelPath.Scalar), hits[0].Score, 1e-4);
            Assert.Equal(BruteForce(keptVectors, keptIds, query, 10, odd), index.Search(query, 10, odd).Select(h => h.Id));
            Assert.Equal(hits, index.Search(query, 10, null, threads: 2));
        }
        Assert.Equal(kept.Count, index.Search(queries[0], 100_000).Length);
    }
}
