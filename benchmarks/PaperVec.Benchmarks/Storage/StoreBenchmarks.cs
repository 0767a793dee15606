using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using PaperVec.Index;
using PaperVec.Storage;
using PaperVec.Bench.Datasets;

namespace PaperVec.Benchmarks.Storage;

/// <summary>
/// The paper store on a real data directory: reading one paper by id, one durable upsert (a changed
/// abstract, same vector, so the index is not touched), and one group commit of 100 new papers.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class StoreBenchmarks
{
    sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10));
    }

    const int Papers = 5000;
    string _dir = "";
    PaperDatabase _db = null!;
    PaperRecord[] _papers = [];
    int _next, _fresh = 10_000_000;

    [GlobalSetup]
    public async Task Setup()
    {
        _dir = Directory.CreateTempSubdirectory("papervec-bdn-store-").FullName;
        _db = await PaperDatabase.OpenAsync(_dir, new PaperDatabaseOptions { Index = new HnswOptions { InitialCapacity = 100_000 } });
        _papers = Enumerable.Range(0, Papers).Select(Synthetic).ToArray();
        var batch = new WriteBatch();
        foreach (var p in _papers) batch.PutPaper(p);
        await _db.CommitAsync(batch);
        await _db.CheckpointAsync();
    }

    [Benchmark]
    public PaperRecord? ReadById() => _db.GetPaper(_papers[_next++ % Papers].Key);

    [Benchmark]
    public void UpsertChangedAbstract()
    {
        var p = _papers[_next++ % Papers];
        _db.Commit(new WriteBatch().PutPaper(p with { Abstract = p.Abstract + " (revised)" }));
    }

    [Benchmark]
    public void GroupCommitOf100NewPapers()
    {
        var batch = new WriteBatch();
        for (int i = 0; i < 100; i++) batch.PutPaper(Synthetic(_fresh++));
        _db.Commit(batch);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _db.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    static PaperRecord Synthetic(int n) => SyntheticPapers.Create(n);
}
