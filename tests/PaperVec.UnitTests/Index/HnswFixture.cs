using PaperVec.Index;
using PaperVec.Bench.Baselines;
using PaperVec.Bench.Datasets;

namespace PaperVec.Tests.Index;

/// <summary>
/// 20,000 clustered 384-d unit vectors (2,000 clusters, so ~10 per cluster as in the 200k
/// benchmark) indexed once with a two-thread build, with exact top-10 for 200 queries.
/// </summary>
public sealed class HnswFixture : IDisposable
{
    public const int Count = 20_000;
    public const int Dimension = 384;
    public const int K = 10;

    public ClusteredDataset Data { get; } = ClusteredDataset.Generate(Count, 200, Dimension, clusters: 2_000, seed: 7);
    public HnswIndex Index { get; }
    public ExactIndex Exact { get; }
    public long[][] TrueTopK { get; }

    /// <summary>External ids are spread out (not slot numbers) so a slot/id mix-up shows.</summary>
    public static long IdOf(int row) => 10_000_019L * row + 3;

    public HnswFixture()
    {
        Index = new HnswIndex(Dimension, new HnswOptions { InitialCapacity = 4096, Seed = 11 }); // grows during the build
        Exact = new ExactIndex(Dimension, Count);
        for (int i = 0; i < Count; i++) Exact.Add(IdOf(i), Data.BaseRow(i));
        Parallel.For(0, Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i => Index.Add(IdOf(i), Data.BaseRow(i)));
        TrueTopK = Enumerable.Range(0, Data.QueryCount).Select(q => Exact.Search(Data.QueryRow(q), K).Select(h => h.Id).ToArray()).ToArray();
    }

    public double Recall(Func<int, SearchHit[]> search, Func<int, long[]> truth)
    {
        long found = 0, expected = 0;
        for (int q = 0; q < Data.QueryCount; q++)
        {
            var truthSet = truth(q).ToHashSet();
            expected += truthSet.Count;
            found += search(q).Count(h => truthSet.Contains(h.Id));
        }
        return (double)found / expected;
    }

    public void Dispose()
    {
        Index.Dispose();
        Exact.Dispose();
    }
}
