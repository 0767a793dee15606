using BenchmarkDotNet.Attributes;
using PaperVec.Index;
using PaperVec.Bench.Baselines;
using PaperVec.Bench.Datasets;

namespace PaperVec.Benchmarks.Index;

/// <summary>
/// Exact top-10 over N contiguous 384-d rows on one thread; rows per second = N / mean. With the
/// HNSW search above it gives the exact-vs-HNSW crossover (also measured by `bench index --crossover`).
/// </summary>
[MemoryDiagnoser]
public class ExactScanBenchmarks
{
    const int Dimension = 384;
    ExactIndex _index = null!;
    ClusteredDataset _data = null!;
    readonly SearchHit[] _results = new SearchHit[10];
    int _query;

    [Params(2_000, 20_000, 200_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = ClusteredDataset.Generate(Rows, 100, Dimension, clusters: Math.Max(1, Rows / 10), seed: 1);
        _index = new ExactIndex(Dimension, Rows);
        for (int i = 0; i < Rows; i++) _index.Add(i, _data.BaseRow(i));
    }

    [GlobalCleanup]
    public void Cleanup() => _index.Dispose();

    [Benchmark]
    public int Scan()
    {
        _query = (_query + 1) % _data.QueryCount;
        return _index.Search(_data.QueryRow(_query), _results);
    }
}
