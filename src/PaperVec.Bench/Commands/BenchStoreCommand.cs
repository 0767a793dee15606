using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using PaperVec.Bench.Harness;
using PaperVec.Index;
using PaperVec.Storage;
using PaperVec.Bench.Datasets;
using PaperVec.Cli.Common;

namespace PaperVec.Bench.Commands;

/// <summary>
/// `papervec bench store`: durable ingest of synthetic papers (text + random unit vectors, no model)
/// in batches of 1, 10 and 1000 — papers/s and commit latency p50/p99, with concurrent writers for
/// the small batches so group commit shows — bytes on disk per paper, then the time to reopen a
/// store of --recovery-papers papers (store recovery, index snapshot load and the index/store check).
/// </summary>
static class BenchStoreCommand
{
    public static Command Create()
    {
        var papers = CommonOptions.AtLeast(new Option<int>("--papers") { Description = "Papers ingested for each batch size", DefaultValueFactory = _ => 3000 }, 1);
        var writers = CommonOptions.AtLeast(new Option<int>("--writers") { Description = "Concurrent writers for batches of 1 and 10", DefaultValueFactory = _ => 16 }, 1);
        var recovery = CommonOptions.AtLeast(new Option<int>("--recovery-papers") { Description = "Size of the store whose reopening is timed (0 skips it)", DefaultValueFactory = _ => 200_000 }, 0);
        var data = new Option<string?>("--data") { Description = "Scratch folder (default: a temporary one, deleted afterwards)" };
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON" };
        var command = new Command("store", "Durable ingest throughput, commit latency, bytes per paper and recovery time") { papers, writers, recovery, data, json };
        command.SetAction(async parse =>
        {
            string root = parse.GetValue(data) ?? Directory.CreateTempSubdirectory("papervec-bench-store-").FullName;
            var results = new List<object>();
            try
            {
                int n = parse.GetValue(papers);
                Console.WriteLine($"bench store: {n} synthetic papers per batch size, 384-d vectors, {parse.GetValue(writers)} writers for small batches");
                Console.WriteLine($"{"batch",6} {"writers",8} {"papers/s",10} {"commit p50 ms",14} {"commit p99 ms",14} {"bytes/paper",12}");
                int offset = 0;
                foreach (int batchSize in new[] { 1, 10, 1000 })
                {
                    string dir = Path.Combine(root, $"batch-{batchSize}");
                    int writerCount = batchSize >= 1000 ? 1 : parse.GetValue(writers);
                    var (rate, p50, p99, bytesPerPaper) = await IngestAsync(dir, offset, n, batchSize, writerCount);
                    offset += n;
                    Console.WriteLine($"{batchSize,6} {writerCount,8} {rate,10:0} {p50,14:0.00} {p99,14:0.00} {bytesPerPaper,12:0}");
                    results.Add(new { batch = batchSize, writers = writerCount, papersPerSecond = Math.Round(rate), commitP50Ms = Math.Round(p50, 3), commitP99Ms = Math.Round(p99, 3), bytesPerPaper = Math.Round(bytesPerPaper) });
                }

                object? recoveryResult = null;
                int recoveryPapers = parse.GetValue(recovery);
                if (recoveryPapers > 0)
                {
                    string dir = Path.Combine(root, "recovery");
                    var clock = Stopwatch.StartNew();
                    await using (var db = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions { Index = new HnswOptions { InitialCapacity = recoveryPapers } }))
                    {
                        for (int start = 0; start < recoveryPapers; start += 2000)
                        {
                            var batch = new WriteBatch();
                            for (int i = start; i < Math.Min(recoveryPapers, start + 2000); i++) batch.PutPaper(SyntheticPaper(1_000_000 + i));
                            await db.CommitAsync(batch);
                            Console.Error.Write($"\rloading {Math.Min(recoveryPapers, start + 2000)}/{recoveryPapers} papers ({clock.Elapsed.TotalSeconds:0}s)");
                        }
                    }
                    Console.Error.WriteLine();
                    clock.Restart();
                    await using (var db = await PaperDatabase.OpenAsync(dir))
                    {
                        double seconds = clock.Elapsed.TotalSeconds;
                        long bytes = db.Stats().BytesOnDisk;
                        Console.WriteLine($"recovery of {db.PaperCount} papers (store + index snapshot + index/store check): {seconds:0.00} s; {(double)bytes / db.PaperCount:0} bytes on disk per paper; index {(db.Recovery.IndexRebuilt ? "rebuilt" : "loaded")}");
                        recoveryResult = new { papers = db.PaperCount, seconds = Math.Round(seconds, 3), bytesPerPaper = Math.Round((double)bytes / db.PaperCount), indexRebuilt = db.Recovery.IndexRebuilt };
                    }
                }
                if (parse.GetValue(json) is { } file)
                    File.WriteAllText(file, JsonSerializer.Serialize(new { ingest = results, recovery = recoveryResult }, new JsonSerializerOptions { WriteIndented = true }));
            }
            finally
            {
                if (parse.GetValue(data) == null) Directory.Delete(root, true);
            }
            return 0;
        });
        return command;
    }

    static async Task<(double Rate, double P50, double P99, double BytesPerPaper)> IngestAsync(string dir, int offset, int count, int batchSize, int writers)
    {
        await using var db = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions { Index = new HnswOptions { InitialCapacity = count } });
        var latencies = new LatencyRecorder();
        int next = 0;
        var clock = Stopwatch.StartNew();
        var writerTasks = Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                int start = Interlocked.Add(ref next, batchSize) - batchSize;
                if (start >= count) break;
                var batch = new WriteBatch();
                for (int i = start; i < Math.Min(count, start + batchSize); i++) batch.PutPaper(SyntheticPaper(offset + i));
                long t0 = Stopwatch.GetTimestamp();
                await db.CommitAsync(batch);
                latencies.RecordTicks(Stopwatch.GetTimestamp() - t0);
            }
        })).ToList();
        await Task.WhenAll(writerTasks);
        double seconds = clock.Elapsed.TotalSeconds;
        await db.CheckpointAsync();
        long bytes = db.Stats().BytesOnDisk;
        return (count / seconds, latencies.PercentileMilliseconds(0.50), latencies.PercentileMilliseconds(0.99), (double)bytes / count);
    }

    static PaperRecord SyntheticPaper(int n) => SyntheticPapers.Create(n);
}
