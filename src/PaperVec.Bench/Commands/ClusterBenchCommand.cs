using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PaperVec.Bench.Harness;
using PaperVec.Cluster;
using PaperVec.Cluster.Hosting;
using PaperVec.Ingest;
using PaperVec.Engine;
using PaperVec.Search;
using PaperVec.Storage;
using PaperVec.Bench.Datasets;
using PaperVec.Cli.Common;

namespace PaperVec.Bench.Commands;

/// <summary>
/// `papervec cluster bench`: what scatter-gather costs. The same synthetic papers go into a running
/// cluster and into one engine collection in this process; then "similar" and semantic search run
/// open-loop at a fixed rate against each in turn (interleaved rounds), with latency from each
/// request's due time.
/// </summary>
static class ClusterBenchCommand
{
    public static Command Create(Option<int> silos, Action<Command> addEndpoints, Func<ParseResult, ClusterEndpoints> endpointsOf, Func<ParseResult, ClusterMembership> membershipOf,
        Func<ParseResult, ClusterCertificate?> certificateOf)
    {
        var papers = CommonOptions.AtLeast(new Option<int>("--papers") { Description = "Synthetic papers in the cluster and the single node", DefaultValueFactory = _ => 200_000 }, 100);
        var rate = CommonOptions.AtLeast(new Option<int>("--rate") { Description = "Requests per second", DefaultValueFactory = _ => 200 }, 1);
        var duration = CommonOptions.AtLeast(new Option<int>("--duration") { Description = "Measured seconds per route and target", DefaultValueFactory = _ => 20 }, 1);
        var warmup = new Option<int>("--warmup") { Description = "Seconds of load before each measurement", DefaultValueFactory = _ => 5 };
        var rounds = CommonOptions.AtLeast(new Option<int>("--rounds") { Description = "Interleaved rounds", DefaultValueFactory = _ => 2 }, 1);
        var single = new Option<string?>("--single") { Description = "Data directory of the single node (default: $TMPDIR/papervec-cluster-bench-single-PAPERS)" };
        var command = new Command("bench", "Scatter-gather cost: similar and semantic search at a fixed rate on the cluster vs one node, same papers") { silos, papers, rate, duration, warmup, rounds, single };
        addEndpoints(command);
        command.SetAction(async parse =>
        {
            int count = parse.GetValue(papers);
            var data = ClusteredDataset.Generate(count, 500, 384, Math.Max(10, count / 10), seed: 1);
            IncomingPaper Paper(int i) => new($"Synthetic paper {i} on retrieval, storage and durable indexing",
                $"Sentence of abstract {i} describing a method, its evaluation and results.")
            { Vector = data.BaseRow(i).ToArray(), Date = new DateOnly(2025, 3, 11) };

            string singleDir = parse.GetValue(single) ?? Path.Combine(Path.GetTempPath(), $"papervec-cluster-bench-single-{count}");
            await using var one = await PaperCollection.OpenAsync(singleDir);
            await FillAsync("single node", one.PaperCount, count, batch => one.IngestEmbeddedAsync(batch, ModelChangeReembedder.SuppliedModelId), Paper);

            using var host = ClusterClientHost.Build(endpointsOf(parse), parse.GetValue(silos), membershipOf(parse), certificate: certificateOf(parse));
            await host.StartAsync();
            var cluster = await ClusterCollection.ConnectAsync(host.Services.GetRequiredService<IClusterClient>());
            var status = await cluster.StatusAsync();
            int held = status.GroupBy(s => s.Shard).Sum(g => g.Max(s => s.Papers));
            await FillAsync("cluster", held, count, batch => cluster.IngestAsync(batch), Paper);

            var ids = Enumerable.Range(0, 2000).Select(i => PaperIdentity.KeyOfTitle(Paper(i * (count / 2000)).Title)).ToArray();
            var scope = new SearchScope { K = 10 };
            var targets = new (string Name, Func<int, Task> Similar, Func<int, Task> Search)[]
            {
                ("one node", i => Task.Run(() => one.Similar(ids[i % ids.Length], scope)),
                    i => Task.Run(() => one.SearchAsync(new SearchQuery("", data.QueryRow(i % data.QueryCount).ToArray(), SearchMode.Semantic), scope))),
                ($"cluster ({cluster.Layout.Shards} shards)", i => cluster.SimilarAsync(PaperIdentity.Format(ids[i % ids.Length]), scope),
                    i => cluster.SearchAsync(new SearchQuery("", data.QueryRow(i % data.QueryCount).ToArray(), SearchMode.Semantic), scope)),
            };
            Console.WriteLine($"cluster bench: {count} papers; {parse.GetValue(rate)} req/s open loop, {parse.GetValue(duration)} s measured after {parse.GetValue(warmup)} s; {MachineDescription.Describe()}");
            Console.WriteLine($"  {"round",-6}{"target",-22}{"route",-10}{"p50 ms",10}{"p90 ms",10}{"p99 ms",10}{"max ms",10}{"errors",8}");
            for (int round = 1; round <= parse.GetValue(rounds); round++)
                foreach (var (name, similar, search) in targets)
                    foreach (var (route, call) in new[] { ("similar", similar), ("search", search) })
                    {
                        var (latency, errors) = await OpenLoopAsync(call, parse.GetValue(rate), parse.GetValue(warmup), parse.GetValue(duration));
                        Console.WriteLine($"  {round,-6}{name,-22}{route,-10}{latency.PercentileMilliseconds(0.5),10:0.000}{latency.PercentileMilliseconds(0.9),10:0.000}{latency.PercentileMilliseconds(0.99),10:0.000}{latency.MaxMilliseconds,10:0.0}{errors,8}");
                    }
            await host.StopAsync();
            return 0;
        });
        return command;
    }

    static async Task FillAsync(string what, int held, int count, Func<IReadOnlyList<IncomingPaper>, Task> ingest, Func<int, IncomingPaper> paper)
    {
        if (held >= count) return;
        using var progress = new ConsoleProgress($"cluster bench: filling the {what}", count - held, "papers");
        var stopwatch = Stopwatch.StartNew();
        for (int start = held; start < count; start += 1000)
        {
            await ingest(Enumerable.Range(start, Math.Min(1000, count - start)).Select(paper).ToList());
            progress.Report(Math.Min(count, start + 1000) - held);
        }
        Console.Error.WriteLine($"cluster bench: {what}: {count - held} papers in {stopwatch.Elapsed.TotalSeconds:0} s");
    }

    /// <summary>Calls <paramref name="call"/> at <paramref name="rate"/> per second without waiting for answers; latency from each call's due time.</summary>
    static async Task<(LatencyRecorder Latency, int Errors)> OpenLoopAsync(Func<int, Task> call, int rate, int warmup, int duration)
    {
        var latency = new LatencyRecorder();
        int errors = 0;
        var pending = new List<Task>();
        long start = Stopwatch.GetTimestamp(), measureFrom = start + warmup * Stopwatch.Frequency;
        long total = (long)rate * (warmup + duration);
        for (long i = 0; i < total; i++)
        {
            long due = start + i * Stopwatch.Frequency / rate;
            long wait = due - Stopwatch.GetTimestamp();
            if (wait > 0) await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency));
            bool measured = due >= measureFrom;
            int n = (int)i;
            pending.Add(Task.Run(async () =>
            {
                try { await call(n); }
                catch (Exception) { if (measured) Interlocked.Increment(ref errors); return; }
                if (measured) lock (latency) latency.RecordTicks(Stopwatch.GetTimestamp() - due);
            }));
        }
        await Task.WhenAll(pending);
        return (latency, errors);
    }
}
