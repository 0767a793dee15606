using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PaperVec.Bench.Harness;

/// <summary>One route's figures, named as in the JSON report.</summary>
public sealed record RouteSummary(long Count, long Errors, double P50Ms, double P90Ms, double P99Ms, double P999Ms, double MaxMs,
    IReadOnlyDictionary<string, long> ErrorsByStatus, double RequestsPerSecond, double? PapersPerSecond)
{
    /// <param name="seconds">The run's throughput time (see <see cref="LoadResult.ThroughputSeconds"/>).</param>
    public static RouteSummary Of(RouteRecorder recorder, double seconds, int papersPerRequest)
    {
        var h = recorder.Latency;
        long ok = h.Count - recorder.Errors;
        return new RouteSummary(h.Count, recorder.Errors, Ms(h.PercentileMilliseconds(0.50)), Ms(h.PercentileMilliseconds(0.90)),
            Ms(h.PercentileMilliseconds(0.99)), Ms(h.PercentileMilliseconds(0.999)), Ms(h.MaxMilliseconds),
            recorder.ErrorsByStatus.ToDictionary(e => e.Key == 0 ? "none" : e.Key.ToString(CultureInfo.InvariantCulture), e => e.Value),
            Math.Round(recorder.Answered / seconds, 2), papersPerRequest > 0 ? Math.Round(ok * papersPerRequest / seconds, 2) : null);
    }

    internal static double Ms(double v) => Math.Round(v, 4);
}

/// <summary>Completions and p99 of one second of the measured window.</summary>
public sealed record SecondSummary(int Second, long Requests, double P99Ms);

/// <summary>One load run summarised: the settings, per-route figures, the overall rate, the timeline.</summary>
public sealed record RunSummary
{
    public required string Mode { get; init; }
    /// <summary>Open loop's target rate (null for closed loop).</summary>
    public double? TargetRate { get; init; }
    public required int Connections { get; init; }
    public required string Mix { get; init; }
    public required double WarmupSeconds { get; init; }
    public required double DurationSeconds { get; init; }
    /// <summary>Until the last answer of a request sent in the window; longer than the window when the server fell behind.</summary>
    public required double ThroughputSeconds { get; init; }
    public required IReadOnlyDictionary<string, RouteSummary> Routes { get; init; }
    public required double RequestsPerSecond { get; init; }
    /// <summary>How late the open-loop sender handed requests over (already inside the latencies).</summary>
    public double? SendLagP99Ms { get; init; }
    public long Unfinished { get; init; }
    /// <summary>This process's collections in the window: the generator's, and the server's when it was started here.</summary>
    public GcActivity? Gc { get; init; }
    /// <summary>CPU the hypervisor took from this VM in the window (Linux).</summary>
    public CpuSteal? Cpu { get; init; }
    public required IReadOnlyList<SecondSummary> Timeline { get; init; }
    [JsonIgnore] public IReadOnlyDictionary<string, LatencyRecorder> Histograms { get; init; } = new Dictionary<string, LatencyRecorder>();

    public static RunSummary Of(LoadResult result, BenchRequests requests)
    {
        var s = result.Settings;
        return new RunSummary
        {
            Mode = s.Mode == LoadMode.Open ? "open" : "closed",
            TargetRate = s.Mode == LoadMode.Open ? s.Rate : null,
            Connections = s.Connections, Mix = s.Mix.ToString(),
            WarmupSeconds = s.Warmup.TotalSeconds, DurationSeconds = result.MeasuredSeconds, ThroughputSeconds = Math.Round(result.ThroughputSeconds, 3),
            Routes = result.Routes.ToDictionary(r => RouteMix.NameOf(r.Key), r => RouteSummary.Of(r.Value, result.ThroughputSeconds, requests.PapersPerRequest(r.Key))),
            RequestsPerSecond = Math.Round(result.RequestsPerSecond, 2),
            SendLagP99Ms = s.Mode == LoadMode.Open ? RouteSummary.Ms(result.SendLag.PercentileMilliseconds(0.99)) : null,
            Unfinished = result.Unfinished,
            Gc = result.Gc,
            Cpu = result.Cpu,
            Timeline = Enumerable.Range(0, (int)Math.Ceiling(result.MeasuredSeconds)).Where(i => i < result.Timeline.Seconds)
                .Select(i => new SecondSummary(i, result.Timeline.Completed(i), RouteSummary.Ms(result.Timeline.Latency(i).PercentileMilliseconds(0.99)))).ToList(),
            Histograms = result.Routes.ToDictionary(r => RouteMix.NameOf(r.Key), r => r.Value.Latency),
        };
    }
}

/// <summary>The sweep: open-loop steps of rising rate and the highest whose p99 stayed under the bound.</summary>
public sealed record SweepSummary(string Route, double P99BoundMs, double? HighestPassingRate, IReadOnlyList<SweepStep> Steps);

/// <param name="StealPercent">CPU stolen by the hypervisor during the step (Linux), which shows up as latency.</param>
public sealed record SweepStep(double TargetRate, double RequestsPerSecond, double P99Ms, long Errors, bool Passed, double? StealPercent = null);

/// <summary>Throughput of the same closed-loop load on GET /papers/{id}/similar from wrk and from this generator.</summary>
public sealed record CrossCheckSummary(int Connections, double Seconds, double WrkRequestsPerSecond, double PaperVecRequestsPerSecond, double? WrkP99Ms)
{
    /// <summary>PaperVec's figure over wrk's; null when wrk got no answers (a stalled server), which gives nothing to compare.</summary>
    public double? Ratio => WrkRequestsPerSecond > 0 ? Math.Round(PaperVecRequestsPerSecond / WrkRequestsPerSecond, 3) : null;
    public bool WithinTenPercent => Ratio is { } r && Math.Abs(r - 1) <= 0.10;
}

/// <summary>
/// What `papervec bench api` writes: the JSON for machines (top-level `routes` and
/// `requestsPerSecond` are those of the main run: the run itself, or the sweep's highest passing
/// step), Markdown for people, and the charts (PNG and SVG).
/// </summary>
public sealed record ApiBenchReport
{
    public required string Server { get; init; }
    public int? Papers { get; init; }
    public required int QueryBatch { get; init; }
    public required RunSummary Run { get; init; }
    public SweepSummary? Sweep { get; init; }
    public CrossCheckSummary? CrossCheck { get; init; }
    public string? Machine { get; init; }

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public string ToJson() => JsonSerializer.Serialize(new
    {
        routes = Run.Routes,
        requestsPerSecond = Run.RequestsPerSecond,
        run = Run with { Routes = new Dictionary<string, RouteSummary>() },
        server = Server, papers = Papers, queryBatch = QueryBatch, sweep = Sweep, crossCheck = CrossCheck, machine = Machine,
    }, Json);

    public string ToMarkdown(string? svgPrefix = null)
    {
        var md = new StringBuilder();
        var r = Run;
        md.AppendLine($"## bench api: {r.Mode} loop, {(r.TargetRate is { } rate ? $"{rate:0.#} requests/s" : $"{r.Connections} connections")}, mix `{r.Mix}`");
        md.AppendLine();
        md.AppendLine($"Server {Server}{(Papers is { } p ? $", {p:N0} papers" : "")}, query batch {QueryBatch}; warm-up {r.WarmupSeconds:0.#} s, measured {r.DurationSeconds:0.#} s. " +
            $"Throughput **{r.RequestsPerSecond:0.#} requests/s** answered{(r.ThroughputSeconds > r.DurationSeconds * 1.01 ? $" (the last answer came {r.ThroughputSeconds:0.#} s after the window opened)" : "")}{(r.SendLagP99Ms is { } lag ? $"; sender lag p99 {lag:0.###} ms (included in the latencies)" : "")}" +
            $"{(r.Unfinished > 0 ? $"; {r.Unfinished} requests unanswered at the end (counted as errors)" : "")}." +
            (r.Gc is { } gc ? $" Garbage collection in the window (this process): {gc}." : "") +
            (r.Cpu is { } cpu ? $" CPU in the window: {cpu}." : ""));
        if (Machine != null) md.AppendLine().AppendLine(Machine);
        md.AppendLine();
        md.AppendLine("| route | requests | req/s | errors | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | papers/s |");
        md.AppendLine("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, s) in r.Routes)
        {
            string errors = s.Errors == 0 ? "0" : $"{s.Errors} ({string.Join(", ", s.ErrorsByStatus.Select(e => $"{e.Key}: {e.Value}"))})";
            md.AppendLine($"| {name} | {s.Count} | {s.RequestsPerSecond:0.#} | {errors} | {s.P50Ms:0.###} | {s.P90Ms:0.###} | {s.P99Ms:0.###} | {s.P999Ms:0.###} | {s.MaxMs:0.###} | {(s.PapersPerSecond is { } pps ? pps.ToString("0.#", CultureInfo.InvariantCulture) : "")} |");
        }
        if (Sweep is { } sweep)
        {
            md.AppendLine();
            md.AppendLine($"Sweep on `{sweep.Route}`, bound p99 <= {sweep.P99BoundMs:0.###} ms: highest passing rate **{(sweep.HighestPassingRate is { } h ? $"{h:0.#} requests/s" : "none")}**.");
            md.AppendLine();
            md.AppendLine("| target req/s | achieved req/s | p99 ms | errors | CPU stolen | passed |");
            md.AppendLine("|---:|---:|---:|---:|---:|---|");
            foreach (var step in sweep.Steps) md.AppendLine($"| {step.TargetRate:0.#} | {step.RequestsPerSecond:0.#} | {step.P99Ms:0.###} | {step.Errors} | {(step.StealPercent is { } st ? $"{st:0.#}%" : "")} | {(step.Passed ? "yes" : "no")} |");
        }
        if (CrossCheck is { } c)
        {
            md.AppendLine();
            md.AppendLine($"Cross-check on `GET /papers/{{id}}/similar`, closed loop, {c.Connections} connections, {c.Seconds:0.#} s each: " +
                $"wrk **{c.WrkRequestsPerSecond:0.#} requests/s**{(c.WrkP99Ms is { } w ? $" (p99 {w:0.###} ms)" : "")}, papervec **{c.PaperVecRequestsPerSecond:0.#} requests/s**; " +
                (c.Ratio is { } ratio ? $"ratio {ratio:0.000} ({(c.WithinTenPercent ? "within" : "NOT within")} 10%)." : "no ratio: wrk got no answers."));
        }
        if (svgPrefix != null)
        {
            md.AppendLine();
            md.AppendLine($"![latency by percentile]({svgPrefix}-percentiles.png) ![throughput and p99 over time]({svgPrefix}-throughput.png) ![p99 over time]({svgPrefix}-p99.png)");
        }
        return md.ToString();
    }

    string LoadLabel => $"{Run.Mode} loop{(Run.TargetRate is { } rate ? $", {rate:0.#} req/s" : $", {Run.Connections} connections")}";

    /// <summary>Latency against percentile, one line per route (see <see cref="BenchCharts.LatencyByPercentile"/>).</summary>
    public ScottPlot.Plot PercentileChart() => BenchCharts.LatencyByPercentile($"Latency by percentile ({LoadLabel})",
        [.. Run.Histograms.Select(h => (h.Key, (Func<double, double>)h.Value.PercentileMilliseconds))]);

    /// <summary>Completed requests per second and each second's p99 over the measured window.</summary>
    public ScottPlot.Plot ThroughputChart(double? boundMs = null) =>
        BenchCharts.ThroughputAndP99($"Throughput and p99 over time ({LoadLabel})", Run.Timeline, Run.TargetRate, boundMs);

    /// <summary>p99 of each second's completions over the measured window.</summary>
    public ScottPlot.Plot P99Chart(double? boundMs = null) => BenchCharts.OverTime("p99 latency over time", "p99 (ms)",
        new ChartSeries("all routes", [.. Run.Timeline.Select(t => ((double)t.Second, t.P99Ms))]),
        boundMs is { } b ? (b, $"bound {b:0.###} ms") : null);

    /// <summary>Writes PREFIX-percentiles, PREFIX-throughput and PREFIX-p99, each as .png and .svg, beside <paramref name="prefixPath"/>.</summary>
    public IReadOnlyList<string> WriteCharts(string prefixPath, double? boundMs = null)
    {
        var files = new List<string>();
        foreach (var (suffix, chart) in new[] { ("percentiles", PercentileChart()), ("throughput", ThroughputChart(boundMs)), ("p99", P99Chart(boundMs)) })
            files.AddRange(BenchCharts.Save(chart, $"{prefixPath}-{suffix}"));
        return files;
    }
}
