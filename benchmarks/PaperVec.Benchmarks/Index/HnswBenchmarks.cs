using BenchmarkDotNet.Attributes;
using PaperVec.Index;
using PaperVec.Bench.Datasets;

namespace PaperVec.Benchmarks.Index;

/// <summary>
/// One HNSW search (k=10, ef=64) and one insert on a 20k-vector clustered 384-d index; the memory
/// diagnoser shows the search allocating nothing.
/// </summary>
[MemoryDiagnoser]
public class HnswBenchmarks
{
    const int BaseCount = 20_000, ExtraCount = 40_000, Dimension = 384;
    ClusteredDataset _data = null!;
    HnswIndex _index = null!;
    readonly SearchHit[] _results = new SearchHit[10];
    int _query, _nextInsert;

    [GlobalSetup]
    public void Setup()
    {
        _data = ClusteredDataset.Generate(BaseCount + ExtraCount, 1000, Dimension, clusters: 6_000, seed: 1);
        _index = new HnswIndex(Dimension, new HnswOptions { InitialCapacity = BaseCount + ExtraCount });
        Parallel.For(0, BaseCount, i => _index.Add(i, _data.BaseRow(i)));
    }

    [GlobalCleanup]
    public void Cleanup() => _index.Dispose();

    [Benchmark]
    public int Search()
    {
        _query = (_query + 1) % _data.QueryCount;
        return _index.Search(_data.QueryRow(_query), _results, ef: 64);
    }

    [Benchmark]
    public void Insert()
    {
        // Fresh ids while the spare rows last, then replace them (delete + insert) round-robin.
        int row = BaseCount + _nextInsert % ExtraCount;
        if (_nextInsert++ < ExtraCount) _index.Add(row, _data.BaseRow(row));
        else _index.Update(row, _data.BaseRow(row));
    }
}
