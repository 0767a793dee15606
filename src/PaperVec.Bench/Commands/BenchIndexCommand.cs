using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using PaperVec.Bench.Harness;
using PaperVec.Index;
using PaperVec.Bench.Baselines;
using PaperVec.Bench.Datasets;

namespace PaperVec.Bench.Commands;

/// <summary>
/// `papervec bench index`: builds the HNSW index over synthetic clustered vectors (or raw float32
/// files), then reports build speed, memory and, per efSearch, recall@k against exact search with
/// single-thread QPS and latency percentiles.
/// </summary>
public static class BenchIndexCommand
{
    const int GroundTruthDepth = 100;

    public static Command Create()
    {
        var dataset = new Option<string>("--dataset") { Description = "Synthetic data set to generate (clustered)", DefaultValueFactory = _ => "clustered" };
        var count = new Option<int>("--n") { Description = "Base vectors to generate", DefaultValueFactory = _ => 200_000 };
        var dimension = new Option<int>("--dim") { Description = "Dimension (also the row width of --base/--queries)", DefaultValueFactory = _ => 384 };
        var clusters = new Option<int>("--clusters") { Description = "Cluster centres of the generated data", DefaultValueFactory = _ => 20_000 };
        var seed = new Option<int>("--seed") { Description = "Seed of the generated data and of the level draws", DefaultValueFactory = _ => 1 };
        var queryCount = new Option<int>("--query-count") { Description = "Queries to generate", DefaultValueFactory = _ => 1_000 };
        var baseFile = new Option<string?>("--base") { Description = "Base vectors as raw little-endian float32 rows (FILE.f32)" };
        var queriesFile = new Option<string?>("--queries") { Description = "Query vectors as raw little-endian float32 rows (FILE.f32)" };
        var dump = new Option<string?>("--dump") { Description = "Write base.f32, queries.f32 and groundtruth.i32 (top-100 exact ids per query) to DIR" };
        var m = new Option<int>("--m") { Description = "HNSW M (links per node; 2M on level 0)", DefaultValueFactory = _ => 16 };
        var efConstruction = new Option<int>("--ef-construction") { Description = "Candidate list size while building", DefaultValueFactory = _ => 200 };
        var efList = new Option<string>("--ef") { Description = "Comma-separated efSearch values to measure", DefaultValueFactory = _ => "10,20,40,80,160,320" };
        var k = new Option<int>("--k") { Description = "Neighbours per query (recall@k)", DefaultValueFactory = _ => 10 };
        var threads = new Option<int>("--threads") { Description = "Threads building the index (searches are timed on one thread)", DefaultValueFactory = _ => 1 };
        var json = new Option<string?>("--json") { Description = "Write the results as JSON to FILE" };
        var plot = new Option<string?>("--plot") { Description = "Write a recall-vs-QPS chart to FILE.svg and beside it FILE.png" };
        var crossover = new Option<bool>("--crossover") { Description = "Also time the exact scan vs the graph search (default ef) on growing prefixes of one index: the crossover of PaperDatabase.ExactSearchBelow" };
        var similar = new Option<bool>("--similar") { Description = "Also time \"papers like this\": --query-count base rows as queries (each excluding itself), searched from their own node and by their vector from the top" };

        var command = new Command("index", "Benchmark the HNSW index: build speed, memory, recall and QPS per efSearch");
        foreach (var option in new Option[] { dataset, count, dimension, clusters, seed, queryCount, baseFile, queriesFile, dump, m, efConstruction, efList, k, threads, json, plot, crossover, similar })
            command.Options.Add(option);

        command.SetAction(parse =>
        {
            var settings = new Settings(
                parse.GetValue(dataset)!, parse.GetValue(count), parse.GetValue(dimension), parse.GetValue(clusters),
                parse.GetValue(seed), parse.GetValue(queryCount), parse.GetValue(baseFile), parse.GetValue(queriesFile),
                parse.GetValue(dump), parse.GetValue(m), parse.GetValue(efConstruction), ParseEfList(parse.GetValue(efList)!),
                parse.GetValue(k), parse.GetValue(threads), parse.GetValue(json), parse.GetValue(plot), parse.GetValue(crossover), parse.GetValue(similar));
            try
            {
                return Run(settings, Console.Out);
            }
            catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException)
            {
                Console.Error.WriteLine("bench index: " + e.Message);
                return 1;
            }
        });
        return command;
    }

    record Settings(string Dataset, int Count, int Dimension, int Clusters, int Seed, int QueryCount,
        string? BaseFile, string? QueriesFile, string? DumpDir, int M, int EfConstruction, int[] EfValues,
        int K, int Threads, string? JsonFile, string? PlotFile, bool Crossover, bool Similar);

    record BuildResult(double Seconds, double InsertsPerSecond, double BytesPerVector, int Threads);

    record EfRun(int Ef, double Recall, double Qps, double P50Us, double P99Us);

    record SimilarRun(int Ef, double Recall, double Qps, double ByVectorRecall, double ByVectorQps);

    static int[] ParseEfList(string text)
    {
        var values = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(v => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int ef) && ef > 0
                ? ef : throw new ArgumentException($"--ef value '{v}' is not a positive integer."))
            .ToArray();
        return values.Length > 0 ? values : throw new ArgumentException("--ef needs at least one value.");
    }

    static int Run(Settings s, TextWriter output)
    {
        if (s.K <= 0 || s.K > GroundTruthDepth) throw new ArgumentException($"--k must be in 1..{GroundTruthDepth}.");
        if (s.Threads <= 0) throw new ArgumentException("--threads must be positive.");
        var (data, queries, dimension, source) = LoadData(s);
        int n = data.Length / dimension, queryCount = queries.Length / dimension;
        output.WriteLine($"data: {source}; {n:N0} base, {queryCount:N0} queries, dim {dimension}");

        // The scan is memory-bound: a plain read of the same rows just before it is its same-run baseline.
        double readBytesPerSecond = MemoryReadRate.Measure(data).BytesPerSecond;
        var (groundTruth, exactRowsPerSecond) = ComputeGroundTruth(data, queries, dimension);
        double scanBytesPerSecond = exactRowsPerSecond * dimension * sizeof(float);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"exact scan: {exactRowsPerSecond / 1e6:F2} M rows/s on one thread ({scanBytesPerSecond / 1e9:F1} GB/s; a plain read of the same rows: {readBytesPerSecond / 1e9:F1} GB/s, so the scan runs at {scanBytesPerSecond / readBytesPerSecond:F2}x the read)"));
        if (s.DumpDir != null) Dump(s.DumpDir, data, queries, groundTruth, output);

        var options = new HnswOptions { M = s.M, EfConstruction = s.EfConstruction, Seed = (ulong)s.Seed, InitialCapacity = Math.Max(1, n) };
        using var index = new HnswIndex(dimension, options);
        var cpuBefore = CpuSteal.Take();
        var build = Build(index, data, dimension, s.Threads);
        var buildCpu = CpuSteal.Between(cpuBefore, cpuBefore = CpuSteal.Take(), Environment.ProcessorCount);
        output.WriteLine($"build: {build.Seconds:F1} s, {build.InsertsPerSecond:F0} inserts/s on {build.Threads} thread(s), {build.BytesPerVector:F0} bytes/vector (M={s.M}, efConstruction={s.EfConstruction})");

        var runs = MeasureSearches(index, queries, dimension, groundTruth, s.K, s.EfValues);
        var searchCpu = CpuSteal.Between(cpuBefore, CpuSteal.Take(), Environment.ProcessorCount);
        WriteTable(output, s.K, runs, build);
        // This VM's speed moves with its neighbours' load: stolen CPU says how much of a run's time the hypervisor took.
        if (buildCpu != null && searchCpu != null)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CPU stolen by the hypervisor: {buildCpu.StealPercent:0.#}% during the build, {searchCpu.StealPercent:0.#}% during the searches"));
        var similarRuns = s.Similar ? MeasureSimilar(index, data, dimension, s.K, s.EfValues, Math.Min(n, s.QueryCount), s.Seed, output) : null;
        if (s.JsonFile != null) WriteJson(s.JsonFile, build, runs, exactRowsPerSecond, readBytesPerSecond, similarRuns);
        if (s.PlotFile != null)
            BenchCharts.Save(BenchCharts.RecallVsQps($"{source}, M={s.M}, efC={s.EfConstruction}", s.K,
                [.. runs.Select(r => (r.Ef, r.Recall, r.Qps))]), Path.ChangeExtension(s.PlotFile, null));
        if (s.Crossover) MeasureCrossover(data, queries, dimension, options, output);
        return 0;
    }

    static (float[] Data, float[] Queries, int Dimension, string Source) LoadData(Settings s)
    {
        if (s.BaseFile != null || s.QueriesFile != null)
        {
            if (s.BaseFile == null || s.QueriesFile == null) throw new ArgumentException("--base and --queries go together.");
            return (ReadRows(s.BaseFile, s.Dimension), ReadRows(s.QueriesFile, s.Dimension), s.Dimension, $"{Path.GetFileName(s.BaseFile)} + {Path.GetFileName(s.QueriesFile)}");
        }
        if (s.Dataset != "clustered") throw new ArgumentException($"--dataset '{s.Dataset}' is unknown; the only one is 'clustered'.");
        var generated = ClusteredDataset.Generate(s.Count, s.QueryCount, s.Dimension, s.Clusters, s.Seed);
        return (generated.Base, generated.Queries, s.Dimension, $"clustered n={s.Count} clusters={s.Clusters} seed={s.Seed}");
    }

    /// <summary>Raw float32 rows; normalised on load so scores stay cosine similarities (a no-op for unit rows).</summary>
    static float[] ReadRows(string path, int dimension)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length % (dimension * sizeof(float)) != 0)
            throw new InvalidDataException($"{path}: {bytes.Length} bytes is not a whole number of {dimension}-float rows.");
        var rows = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Raw rows are little-endian.");
        for (int r = 0; r < rows.Length / dimension; r++) VectorKernels.Normalize(rows.AsSpan(r * dimension, dimension));
        return rows;
    }

    static (int[] GroundTruth, double RowsPerSecond) ComputeGroundTruth(float[] data, float[] queries, int dimension)
    {
        int n = data.Length / dimension, queryCount = queries.Length / dimension;
        using var exact = new ExactIndex(dimension, Math.Max(1, n));
        for (int i = 0; i < n; i++) exact.Add(i, data.AsSpan(i * dimension, dimension));
        int depth = Math.Min(GroundTruthDepth, n);
        var truth = new int[queryCount * GroundTruthDepth];
        truth.AsSpan().Fill(-1);

        // One thread on the first queries gives the per-core scan rate (after two untimed ones, so
        // the JIT's optimised code is what gets timed); the rest run on all cores.
        int warmup = Math.Min(queryCount, 2);
        int timed = Math.Min(queryCount - warmup, 20);
        var hits = new SearchHit[depth];
        for (int q = 0; q < warmup; q++) SearchAndStore(q, hits);
        var watch = Stopwatch.StartNew();
        for (int q = warmup; q < warmup + timed; q++) SearchAndStore(q, hits);
        double rowsPerSecond = timed == 0 ? 0 : (double)timed * n / watch.Elapsed.TotalSeconds;
        Parallel.For(warmup + timed, queryCount, () => new SearchHit[depth], (q, _, local) => { SearchAndStore(q, local); return local; }, _ => { });
        return (truth, rowsPerSecond);

        void SearchAndStore(int q, SearchHit[] buffer)
        {
            int found = exact.Search(queries.AsSpan(q * dimension, dimension), buffer);
            for (int i = 0; i < found; i++) truth[q * GroundTruthDepth + i] = (int)buffer[i].Id;
        }
    }

    static void Dump(string directory, float[] data, float[] queries, int[] groundTruth, TextWriter output)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, "base.f32"), MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
        File.WriteAllBytes(Path.Combine(directory, "queries.f32"), MemoryMarshal.AsBytes(queries.AsSpan()).ToArray());
        File.WriteAllBytes(Path.Combine(directory, "groundtruth.i32"), MemoryMarshal.AsBytes(groundTruth.AsSpan()).ToArray());
        output.WriteLine($"dumped base.f32, queries.f32, groundtruth.i32 ({GroundTruthDepth} ids per query, -1 past the base size) to {directory}");
    }

    static BuildResult Build(HnswIndex index, float[] data, int dimension, int threads)
    {
        int n = data.Length / dimension;
        int next = -1;
        var watch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < n)
            {
                index.Add(i, data.AsSpan(i * dimension, dimension));
                if (i > 0 && i % Math.Max(1, n / 10) == 0)
                    Console.Error.WriteLine($"  built {i:N0}/{n:N0} after {watch.Elapsed.TotalSeconds:F0} s");
            }
        }) { IsBackground = true }).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        double seconds = watch.Elapsed.TotalSeconds;
        return new BuildResult(seconds, n / seconds, index.MemoryUsage().BytesPerVector, threads);
    }

    static List<EfRun> MeasureSearches(HnswIndex index, float[] queries, int dimension, int[] groundTruth, int k, int[] efValues)
    {
        int queryCount = queries.Length / dimension;
        var hits = new SearchHit[k];
        // Warm-up: get the search path to its optimised tier before anything is timed.
        int warm = Math.Min(queryCount, 300);
        for (int round = 0; round < 3; round++)
            for (int q = 0; q < warm; q++) index.Search(queries.AsSpan(q * dimension, dimension), hits, efValues.Max());

        var runs = new List<EfRun>();
        var truth = new HashSet<long>();
        foreach (int ef in efValues)
        {
            long found = 0;
            var latencies = new LatencyRecorder();
            long start = Stopwatch.GetTimestamp();
            for (int q = 0; q < queryCount; q++)
            {
                long before = Stopwatch.GetTimestamp();
                int count = index.Search(queries.AsSpan(q * dimension, dimension), hits, ef);
                latencies.RecordTicks(Stopwatch.GetTimestamp() - before);
                truth.Clear();
                for (int i = 0; i < k; i++) truth.Add(groundTruth[q * GroundTruthDepth + i]);
                for (int i = 0; i < count; i++) if (truth.Contains(hits[i].Id)) found++;
            }
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            runs.Add(new EfRun(ef, (double)found / ((long)queryCount * k), queryCount / seconds,
                latencies.PercentileMicroseconds(0.50), latencies.PercentileMicroseconds(0.99)));
        }
        return runs;
    }

    /// <summary>
    /// "Papers like this" as the API's similar route asks it: the k nearest to a stored vector,
    /// itself excluded. Each ef is timed both ways, by vector from the top first, on the same rows.
    /// </summary>
    static List<SimilarRun> MeasureSimilar(HnswIndex index, float[] data, int dimension, int k, int[] efValues, int count, int seed, TextWriter output)
    {
        int n = data.Length / dimension;
        var random = new Random(seed + 1);
        var rows = Enumerable.Range(0, count).Select(_ => random.Next(n)).ToArray();
        var truth = new HashSet<long>[count];
        using (var exact = new ExactIndex(dimension, n))
        {
            for (int i = 0; i < n; i++) exact.Add(i, data.AsSpan(i * dimension, dimension));
            Parallel.For(0, count, q =>
            {
                long self = rows[q];
                truth[q] = exact.Search(data.AsSpan(rows[q] * dimension, dimension), k, id => id != self).Select(h => h.Id).ToHashSet();
            });
        }
        var hits = new SearchHit[k];
        for (int q = 0; q < Math.Min(count, 300); q++) // warm-up, as for the searches above
        {
            long self = rows[q];
            index.SearchSimilar(self, hits, efValues.Max(), id => id != self);
        }
        var runs = new List<SimilarRun>();
        foreach (int ef in efValues)
        {
            var (byVectorRecall, byVectorQps) = Time(like: false, ef);
            var (recall, qps) = Time(like: true, ef);
            runs.Add(new SimilarRun(ef, recall, qps, byVectorRecall, byVectorQps));
        }
        output.WriteLine();
        output.WriteLine($"papers like this: {count:N0} base rows as queries, each excluding itself");
        output.WriteLine($"| ef  | from its node: recall@{k} |  QPS  | by vector from the top: recall@{k} |  QPS  | QPS ratio |");
        output.WriteLine("|----:|-------------------------:|------:|-----------------------------------:|------:|----------:|");
        foreach (var r in runs)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Ef,3} | {r.Recall,24:F4} | {r.Qps,5:F0} | {r.ByVectorRecall,34:F4} | {r.ByVectorQps,5:F0} | {r.Qps / r.ByVectorQps,9:F2} |"));
        return runs;

        (double Recall, double Qps) Time(bool like, int ef)
        {
            long found = 0;
            long start = Stopwatch.GetTimestamp();
            for (int q = 0; q < count; q++)
            {
                long self = rows[q];
                Func<long, bool> notSelf = id => id != self;
                int got = like
                    ? index.SearchSimilar(self, hits, ef, notSelf)
                    : index.Search(data.AsSpan(rows[q] * dimension, dimension), hits, ef, notSelf);
                for (int i = 0; i < got; i++) if (truth[q].Contains(hits[i].Id)) found++;
            }
            return ((double)found / ((long)count * k), count / Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
    }

    static void WriteTable(TextWriter output, int k, List<EfRun> runs, BuildResult build)
    {
        output.WriteLine();
        output.WriteLine($"| ef  | recall@{k} |   QPS  | p50 µs | p99 µs |");
        output.WriteLine("|----:|----------:|-------:|-------:|-------:|");
        foreach (var r in runs)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Ef,3} | {r.Recall,9:F4} | {r.Qps,6:F0} | {r.P50Us,6:F0} | {r.P99Us,6:F0} |"));
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"build {build.Seconds:F1} s, {build.InsertsPerSecond:F0} inserts/s, {build.Threads} thread(s), {build.BytesPerVector:F0} bytes/vector"));
    }

    static void WriteJson(string path, BuildResult build, List<EfRun> runs, double exactRowsPerSecond, double readBytesPerSecond, List<SimilarRun>? similarRuns)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteStartObject("build");
        json.WriteNumber("seconds", Math.Round(build.Seconds, 3));
        json.WriteNumber("insertsPerSecond", Math.Round(build.InsertsPerSecond, 1));
        json.WriteNumber("bytesPerVector", Math.Round(build.BytesPerVector, 1));
        json.WriteNumber("threads", build.Threads);
        json.WriteEndObject();
        json.WriteStartArray("runs");
        foreach (var r in runs)
        {
            json.WriteStartObject();
            json.WriteNumber("ef", r.Ef);
            json.WriteNumber("recall", Math.Round(r.Recall, 5));
            json.WriteNumber("qps", Math.Round(r.Qps, 1));
            json.WriteNumber("p50Us", Math.Round(r.P50Us, 1));
            json.WriteNumber("p99Us", Math.Round(r.P99Us, 1));
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartObject("exactScan");
        json.WriteNumber("rowsPerSecondOneThread", Math.Round(exactRowsPerSecond));
        json.WriteNumber("memoryReadBytesPerSecond", Math.Round(readBytesPerSecond));
        json.WriteEndObject();
        if (similarRuns != null)
        {
            json.WriteStartArray("similar");
            foreach (var r in similarRuns)
            {
                json.WriteStartObject();
                json.WriteNumber("ef", r.Ef);
                json.WriteNumber("recall", Math.Round(r.Recall, 5));
                json.WriteNumber("qps", Math.Round(r.Qps, 1));
                json.WriteNumber("byVectorRecall", Math.Round(r.ByVectorRecall, 5));
                json.WriteNumber("byVectorQps", Math.Round(r.ByVectorQps, 1));
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }

    /// <summary>
    /// What PaperDatabase chooses between, on growing prefixes of one index: the exact scan of the
    /// graph's rows (<see cref="HnswIndex.SearchExact(ReadOnlySpan{float}, Span{SearchHit}, Func{long, bool}?)"/>)
    /// and the graph search at the default ef, k=10, mean single-query latency (the better of two
    /// interleaved rounds each): where the graph starts to pay sets PaperDatabase.ExactSearchBelow.
    /// </summary>
    static void MeasureCrossover(float[] data, float[] queries, int dimension, HnswOptions options, TextWriter output)
    {
        int n = data.Length / dimension;
        int queryCount = Math.Min(200, queries.Length / dimension);
        int ef = options.DefaultEfSearch;
        output.WriteLine();
        output.WriteLine($"| rows   | exact scan µs | hnsw µs (ef={ef}) | exact / hnsw | hnsw recall@10 |");
        output.WriteLine("|-------:|--------------:|---------------:|-------------:|---------------:|");
        var hits = new SearchHit[10];
        var exactHits = new SearchHit[10];
        using var index = new HnswIndex(dimension, options with { InitialCapacity = Math.Max(1, n) });
        int added = 0;
        foreach (int size in new[] { 500, 1_000, 2_000, 2_500, 3_000, 4_000, 5_000, 7_500, 10_000, 20_000, 50_000 })
        {
            if (size > n) break;
            for (; added < size; added++) index.Add(added, data.AsSpan(added * dimension, dimension));
            double exactUs = double.MaxValue, hnswUs = double.MaxValue;
            for (int round = 0; round < 2; round++)
            {
                exactUs = Math.Min(exactUs, TimePerQuery(q => index.SearchExact(queries.AsSpan(q * dimension, dimension), exactHits)));
                hnswUs = Math.Min(hnswUs, TimePerQuery(q => index.Search(queries.AsSpan(q * dimension, dimension), hits, ef)));
            }
            long agree = 0;
            for (int q = 0; q < queryCount; q++)
            {
                int e = index.SearchExact(queries.AsSpan(q * dimension, dimension), exactHits);
                int h = index.Search(queries.AsSpan(q * dimension, dimension), hits, ef);
                var truth = exactHits.Take(e).Select(x => x.Id).ToHashSet();
                agree += hits.Take(h).Count(x => truth.Contains(x.Id));
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {size,6} | {exactUs,13:F1} | {hnswUs,14:F1} | {exactUs / hnswUs,12:F2} | {agree / (10.0 * queryCount),14:F4} |"));
        }

        double TimePerQuery(Func<int, int> search)
        {
            for (int q = 0; q < queryCount; q++) search(q);
            long start = Stopwatch.GetTimestamp();
            for (int round = 0; round < 3; round++)
                for (int q = 0; q < queryCount; q++) search(q);
            return Stopwatch.GetElapsedTime(start).TotalMicroseconds / (3 * queryCount);
        }
    }
}
