using System.CommandLine;
using PaperVec.Bench.Harness;
using PaperVec.Ingest;
using PaperVec.Cli.Common;

namespace PaperVec.Bench.Commands;

/// <summary>
/// `papervec bench api`: end-to-end latency of the HTTP API under open-loop (fixed rate) or
/// closed-loop (N connections) load with a weighted mix of routes, against --url or a server it
/// starts over a prepared (cached) data directory; optionally a rate sweep and a wrk cross-check.
/// Writes JSON, Markdown and SVG reports.
/// </summary>
static class BenchApiCommand
{
    public static Command Create()
    {
        // A string, parsed here: System.CommandLine 2.0.0 has no parser for Uri.
        var url = new Option<string?>("--url") { Description = "A running server to load, e.g. http://127.0.0.1:5080 (default: start one over a prepared data directory)" };
        var ids = new Option<FileInfo?>("--ids") { Description = "With --url: paper ids to ask for, one per line (e.g. a prepared directory's ids.txt)" };
        var papers = CommonOptions.AtLeast(new Option<int>("--papers") { Description = "Papers in the prepared data directory", DefaultValueFactory = _ => 200_000 }, 1);
        var synthetic = new Option<bool>("--synthetic-vectors") { Description = "Prepare synthetic papers with clustered random unit vectors (no embedding)" };
        var corpus = new Option<FileInfo?>("--corpus") { Description = "Prepare the first --papers records of this JSON Lines corpus, embedded" };
        var prepared = new Option<string?>("--prepared") { Description = "Cache folder of prepared data directories (default: $TMPDIR/papervec-bench)" };
        var mode = new Option<LoadMode>("--mode") { Description = "open (fixed --rate) or closed (--connections each waiting for its answer)", DefaultValueFactory = _ => LoadMode.Open };
        var rate = new Option<double>("--rate") { Description = "Open loop: requests per second (the sweep's first step)", DefaultValueFactory = _ => 1000 };
        var connections = CommonOptions.AtLeast(new Option<int>("--connections") { Description = "Closed loop: concurrent requests; open loop: most connections", DefaultValueFactory = _ => 32 }, 1);
        var mix = new Option<string>("--mix") { Description = "Routes with weights: similar, search (hybrid), search-semantic, search-lexical, recommend (POST /recommend, 64 repeating 50-paper libraries: warm), recommend-cold (POST /recommend, a new 50-paper library each request: its model trained), digest-library (GET /digests/{id}?library=, a 100-paper digest by one of 64 stored libraries), paper, ingest (POST /digests, embedded), ingest-vectors (POST /papers with vectors)", DefaultValueFactory = _ => "similar:70,search:25,ingest:5" };
        var duration = new Option<double>("--duration") { Description = "Measured seconds (per sweep step)", DefaultValueFactory = _ => 30 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds of load before measuring (per sweep step)", DefaultValueFactory = _ => 5 };
        var ingestBatch = CommonOptions.AtLeast(new Option<int>("--ingest-batch") { Description = "New papers per ingest request", DefaultValueFactory = _ => 10 }, 1);
        var queryBatch = CommonOptions.AtLeast(new Option<int>("--query-batch") { Description = "Started server: search queries embedded together at most (1: no batching)", DefaultValueFactory = _ => 32 }, 1);
        var sweep = new Option<bool>("--sweep") { Description = "Open loop from --rate up by --sweep-step until p99 exceeds --p99-bound; report the highest passing rate" };
        var sweepStep = new Option<double>("--sweep-step") { Description = "Rate added per sweep step", DefaultValueFactory = _ => 500 };
        var sweepMax = new Option<double>("--sweep-max") { Description = "Highest rate the sweep tries", DefaultValueFactory = _ => 20_000 };
        var bound = new Option<double>("--p99-bound") { Description = "Sweep: p99 bound in ms (on the mix's first route)", DefaultValueFactory = _ => 5 };
        var crossCheck = new Option<bool>("--cross-check-wrk") { Description = "Also run wrk and this generator closed-loop on GET /papers/{id}/similar at --connections, and compare throughput" };
        var json = new Option<string?>("--json") { Description = "Write the JSON report here" };
        var markdown = new Option<string?>("--markdown") { Description = "Write the Markdown report here" };
        var svg = new Option<string?>("--svg") { Description = "Write the charts PREFIX-percentiles, PREFIX-throughput (with p99) and PREFIX-p99, each as .png and .svg" };
        var seed = new Option<int>("--seed") { Description = "Seed of the synthetic data and of the request picks", DefaultValueFactory = _ => 1 };
        var command = new Command("api", "End-to-end HTTP latency under open- or closed-loop load: percentiles per route, sweep, wrk cross-check, JSON/Markdown/SVG")
        {
            url, ids, papers, synthetic, corpus, prepared, mode, rate, connections, mix, duration, warmup, ingestBatch, queryBatch,
            sweep, sweepStep, sweepMax, bound, crossCheck, json, markdown, svg, seed,
        };
        command.SetAction(async parse =>
        {
            var routeMix = RouteMix.Parse(parse.GetValue(mix)!);
            if (parse.GetValue(rate) <= 0 || parse.GetValue(duration) <= 0 || parse.GetValue(warmup) < 0 || parse.GetValue(bound) <= 0 || parse.GetValue(sweepStep) <= 0)
                throw new UsageException("--rate, --duration, --p99-bound and --sweep-step must be positive, --warmup at least 0");
            var settings = new LoadSettings
            {
                Mode = parse.GetValue(sweep) ? LoadMode.Open : parse.GetValue(mode), Rate = parse.GetValue(rate), Connections = parse.GetValue(connections),
                Mix = routeMix, Duration = TimeSpan.FromSeconds(parse.GetValue(duration)), Warmup = TimeSpan.FromSeconds(parse.GetValue(warmup)), Seed = parse.GetValue(seed),
            };
            return await RunAsync(parse, settings);

            async Task<int> RunAsync(ParseResult parse, LoadSettings settings)
            {
                string? modelDir = Environment.GetEnvironmentVariable("PAPERVEC_MODEL_DIR");
                var queries = Directory.GetFiles(BenchCommands.DefaultDigestFolder(), "*.txt").Order()
                    .SelectMany(f => DigestParser.Parse(File.ReadAllText(f)).Papers.Select(p => p.Title)).ToList();
                BenchServer? server = null;
                IReadOnlyList<string> paperIds;
                int? paperCount = null;
                Uri baseUri;
                if (parse.GetValue(url) is { } given)
                {
                    if (!Uri.TryCreate(given.TrimEnd('/') + "/", UriKind.Absolute, out var parsedUri) || parsedUri.Scheme is not ("http" or "https"))
                        throw new UsageException($"--url must be an http(s) address such as http://127.0.0.1:5080 (got '{given}')");
                    baseUri = parsedUri;
                    paperIds = parse.GetValue(ids) is { } file ? File.ReadAllLines(file.FullName).Where(l => l.Length > 0).ToList()
                        : throw new UsageException("with --url, give --ids FILE (paper ids to ask for, e.g. a prepared directory's ids.txt)");
                }
                else
                {
                    if (parse.GetValue(synthetic) == (parse.GetValue(corpus) != null))
                        throw new UsageException("give exactly one of --synthetic-vectors and --corpus FILE (or --url)");
                    var data = await PreparedData.EnsureAsync(new PreparedDataSpec(parse.GetValue(papers), parse.GetValue(corpus), parse.GetValue(seed)),
                        parse.GetValue(prepared) ?? PreparedData.DefaultCacheRoot(), modelDir, m => Console.Error.WriteLine($"bench api: {m}"));
                    string? scratch = routeMix.Writes ? data.CopyForWrites() : null;
                    server = await BenchServer.StartAsync(scratch ?? data.Directory, parse.GetValue(queryBatch), modelDir, scratch);
                    baseUri = server.BaseUri;
                    paperIds = data.PaperIds;
                    paperCount = data.PaperIds.Count;
                }
                try
                {
                    var requests = new BenchRequests(baseUri, paperIds, queries, parse.GetValue(ingestBatch), 100_000_000);
                    Console.WriteLine($"bench api: {baseUri} ({(server == null ? "given" : $"started here, {paperCount} papers, query batch {parse.GetValue(queryBatch)}")}); {MachineDescription.Describe()}");
                    if (routeMix.Contains(BenchRoute.DigestLibrary))
                    {
                        using var setup = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
                        await requests.SetUpDigestLibrariesAsync(setup);
                        Console.WriteLine($"bench api: digest-library: a 100-paper digest and {BenchRequests.Libraries} libraries of {BenchRequests.LibraryPapers} papers stored");
                    }
                    using var generator = new LoadGenerator(requests, Math.Max(settings.Connections, 1));
                    // Steady state, not start-up: the garbage of opening 200k papers and of the
                    // generator's set-up is collected here, not by a gen2 collection inside the window.
                    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                    RunSummary main;
                    SweepSummary? sweepSummary = null;
                    if (parse.GetValue(sweep))
                        (main, sweepSummary) = await SweepAsync(generator, requests, settings, parse.GetValue(bound), parse.GetValue(sweepStep), parse.GetValue(sweepMax));
                    else
                    {
                        main = RunSummary.Of(await generator.RunAsync(settings), requests);
                        Print(main);
                    }
                    CrossCheckSummary? check = null;
                    if (parse.GetValue(crossCheck))
                        check = await CrossCheckAsync(generator, requests, paperIds, settings.Connections, (int)Math.Ceiling(settings.Duration.TotalSeconds), settings.Seed);
                    var report = new ApiBenchReport
                    {
                        Server = server == null ? baseUri.ToString() : $"papervec serve in process at {baseUri}", Papers = paperCount,
                        QueryBatch = parse.GetValue(queryBatch), Run = main, Sweep = sweepSummary, CrossCheck = check,
                        Machine = $"Machine: {MachineDescription.Describe()}.",
                    };
                    string? svgPrefix = parse.GetValue(svg);
                    if (parse.GetValue(json) is { } jsonFile) File.WriteAllText(jsonFile, report.ToJson());
                    if (svgPrefix != null) report.WriteCharts(svgPrefix, sweepSummary?.P99BoundMs);
                    if (parse.GetValue(markdown) is { } mdFile)
                        File.WriteAllText(mdFile, report.ToMarkdown(svgPrefix == null ? null : Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(mdFile))!, Path.GetFullPath(svgPrefix))));
                    return 0;
                }
                finally
                {
                    if (server != null) await server.DisposeAsync();
                }
            }
        });
        return command;
    }

    /// <summary>Open-loop steps from the given rate up; stops at the first step whose p99 (of the mix's first route) passes the bound or that errs or falls 10% short of its rate.</summary>
    static async Task<(RunSummary, SweepSummary)> SweepAsync(LoadGenerator generator, BenchRequests requests, LoadSettings first, double boundMs, double step, double max)
    {
        string route = RouteMix.NameOf(first.Mix.Entries[0].Route);
        var steps = new List<SweepStep>();
        RunSummary? best = null, last = null;
        for (double rate = first.Rate; rate <= max; rate += step)
        {
            var run = RunSummary.Of(await generator.RunAsync(first with { Rate = rate }), requests);
            last = run;
            var s = run.Routes[route];
            long errors = run.Routes.Values.Sum(r => r.Errors);
            bool passed = s.P99Ms <= boundMs && errors == 0 && run.RequestsPerSecond >= 0.9 * rate;
            steps.Add(new SweepStep(rate, run.RequestsPerSecond, s.P99Ms, errors, passed, run.Cpu?.StealPercent));
            Console.WriteLine($"  sweep {rate,8:0} req/s target: {run.RequestsPerSecond,8:0.0} achieved, {route} p99 {s.P99Ms,8:0.###} ms, {errors} errors{(run.Cpu is { } cpu ? $", {cpu.StealPercent:0.#}% CPU stolen" : "")}: {(passed ? "pass" : "FAIL")}");
            if (!passed) break;
            best = run;
        }
        var main = best ?? last!;
        Print(main);
        return (main, new SweepSummary(route, boundMs, best?.TargetRate, steps));
    }

    /// <summary>wrk, then this generator, each closed-loop on similar at the same connections for the same time, after the main run warmed the server.</summary>
    static async Task<CrossCheckSummary> CrossCheckAsync(LoadGenerator generator, BenchRequests requests, IReadOnlyList<string> ids, int connections, int seconds, int seed)
    {
        var (wrkRate, wrkP99) = WrkCrossCheck.Run(requests.BaseUri, ids, connections, seconds);
        var ours = RunSummary.Of(await generator.RunAsync(new LoadSettings
        {
            Mode = LoadMode.Closed, Connections = connections, Mix = RouteMix.Parse("similar"),
            Warmup = TimeSpan.FromSeconds(1), Duration = TimeSpan.FromSeconds(seconds), Seed = seed,
        }), requests);
        var check = new CrossCheckSummary(connections, seconds, Math.Round(wrkRate, 2), ours.RequestsPerSecond, wrkP99);
        Console.WriteLine($"  cross-check, similar, {connections} connections: wrk {check.WrkRequestsPerSecond:0.0} req/s, papervec {check.PaperVecRequestsPerSecond:0.0} req/s, {(check.Ratio is { } ratio ? $"ratio {ratio:0.000} ({(check.WithinTenPercent ? "within" : "NOT within")} 10%)" : "no ratio: wrk got no answers")}");
        return check;
    }

    static void Print(RunSummary run)
    {
        Console.WriteLine($"  {run.Mode} loop{(run.TargetRate is { } r ? $" at {r:0.#} req/s" : $", {run.Connections} connections")}, {run.DurationSeconds:0.#} s measured: {run.RequestsPerSecond:0.0} req/s{(run.SendLagP99Ms is { } lag ? $", sender lag p99 {lag:0.###} ms" : "")}");
        if (run.Gc is { } gc) Console.WriteLine($"  GC in the window (this process): {gc}");
        if (run.Cpu is { } cpu) Console.WriteLine($"  CPU in the window: {cpu}");
        Console.WriteLine($"  {"route",-15} {"count",8} {"errors",7} {"p50 ms",9} {"p90 ms",9} {"p99 ms",9} {"p99.9 ms",9} {"max ms",9} {"papers/s",9}");
        foreach (var (name, s) in run.Routes)
            Console.WriteLine($"  {name,-15} {s.Count,8} {s.Errors,7} {s.P50Ms,9:0.###} {s.P90Ms,9:0.###} {s.P99Ms,9:0.###} {s.P999Ms,9:0.###} {s.MaxMs,9:0.###} {(s.PapersPerSecond is { } p ? p.ToString("0.#") : ""),9}");
    }
}
