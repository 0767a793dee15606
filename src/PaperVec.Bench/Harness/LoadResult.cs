namespace PaperVec.Bench.Harness;

/// <summary>What one route saw during the measured window: latencies, and responses by status (0: no response).</summary>
public sealed class RouteRecorder
{
    public LatencyRecorder Latency { get; } = new();
    readonly long[] _byStatus = new long[600];

    public void Record(int status, long latencyTicks)
    {
        Latency.RecordTicks(latencyTicks);
        Interlocked.Increment(ref _byStatus[status is > 0 and < 600 ? status : 0]);
    }

    /// <summary>Requests that got a response, whatever its status.</summary>
    public long Answered => Latency.Count - Interlocked.Read(ref _byStatus[0]);

    /// <summary>Responses that were not 2xx (status 0: the request failed or timed out without one).</summary>
    public long Errors => ErrorsByStatus.Values.Sum();

    public IReadOnlyDictionary<int, long> ErrorsByStatus =>
        Enumerable.Range(0, _byStatus.Length).Where(s => s is < 200 or > 299 && Interlocked.Read(ref _byStatus[s]) > 0).ToDictionary(s => s, s => Interlocked.Read(ref _byStatus[s]));
}

/// <summary>Completions and latencies of all routes per second of the measured window (for the over-time plot).</summary>
public sealed class Timeline(int seconds)
{
    readonly long[] _completed = new long[seconds];
    readonly LatencyRecorder[] _latency = Enumerable.Range(0, seconds).Select(_ => new LatencyRecorder()).ToArray();

    public int Seconds => _completed.Length;

    public void Record(int second, long latencyTicks)
    {
        if (second < 0 || second >= _completed.Length) return;
        Interlocked.Increment(ref _completed[second]);
        _latency[second].RecordTicks(latencyTicks);
    }

    public long Completed(int second) => Interlocked.Read(ref _completed[second]);
    public LatencyRecorder Latency(int second) => _latency[second];
}

/// <summary>One load run: per-route recorders, how long the measured window lasted, and how late the generator sent.</summary>
public sealed class LoadResult
{
    public required LoadSettings Settings { get; init; }
    public required IReadOnlyDictionary<BenchRoute, RouteRecorder> Routes { get; init; }
    public required Timeline Timeline { get; init; }
    /// <summary>Open loop: how far after its scheduled time each request was handed to HttpClient (included in its latency).</summary>
    public required LatencyRecorder SendLag { get; init; }
    public required double MeasuredSeconds { get; init; }
    /// <summary>
    /// From the start of the measured window to the last answer of a request sent in it (at least
    /// the window): a server that falls behind answers the window's requests later, and its
    /// throughput is what it answered over that longer time, not the rate it was sent.
    /// </summary>
    public required double ThroughputSeconds { get; init; }
    /// <summary>Requests still unanswered when the run gave up waiting (counted as status 0 errors).</summary>
    public long Unfinished { get; init; }
    /// <summary>This process's garbage collections during the measured window (the server's too when it runs in process).</summary>
    public GcActivity? Gc { get; init; }
    /// <summary>CPU the hypervisor took from this VM in the window (Linux).</summary>
    public CpuSteal? Cpu { get; init; }

    public long Count => Routes.Values.Sum(r => r.Latency.Count);
    /// <summary>Answered requests (any status; not those that failed or were abandoned) per second of <see cref="ThroughputSeconds"/>.</summary>
    public double RequestsPerSecond => Routes.Values.Sum(r => r.Answered) / ThroughputSeconds;

    public LatencyRecorder AllRoutes()
    {
        var all = new LatencyRecorder();
        foreach (var r in Routes.Values) all.Add(r.Latency);
        return all;
    }
}

/// <summary>Garbage collections between two moments of this process, read from the GC's own counters.</summary>
public sealed record GcActivity(int Gen0, int Gen1, int Gen2, double PauseMs, double AllocatedMB)
{
    public static Snapshot Take() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes());

    /// <summary>Collection counts include the older generations' (a gen1 collection also collects gen0); these are per generation.</summary>
    public static GcActivity Between(Snapshot start, Snapshot end)
    {
        int all0 = end.Gen0 - start.Gen0, all1 = end.Gen1 - start.Gen1, gen2 = end.Gen2 - start.Gen2;
        return new GcActivity(all0 - all1, all1 - gen2, gen2, Math.Round((end.Pause - start.Pause).TotalMilliseconds, 1), Math.Round((end.Allocated - start.Allocated) / 1e6, 1));
    }

    public readonly record struct Snapshot(int Gen0, int Gen1, int Gen2, TimeSpan Pause, long Allocated);

    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{Gen0} gen0, {Gen1} gen1, {Gen2} gen2 collections, {PauseMs:0.#} ms paused, {AllocatedMB:0} MB allocated");
}

/// <summary>
/// CPU stolen from this VM between two moments: time its virtual CPUs wanted to run while the
/// hypervisor ran something else, from the steal counter of /proc/stat (Linux; null elsewhere),
/// as a share of the wall time of all CPUs. Stolen time shows up as latency no code change can
/// remove. (The busy and idle counters are left out: with a tickless kernel they miss the short
/// bursts a server runs, and read 2% busy under a load the steal clock and the latencies show.)
/// </summary>
public sealed record CpuSteal(double StealPercent)
{
    const double TicksPerSecond = 100; // USER_HZ, 100 on every Linux architecture .NET runs on

    public readonly record struct Snapshot(long StealTicks, long Timestamp);

    public static Snapshot? Take()
    {
        try
        {
            if (!OperatingSystem.IsLinux()) return null;
            // "cpu  user nice system idle iowait irq softirq steal ...": all CPUs together.
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return new Snapshot(long.Parse(fields[8], System.Globalization.CultureInfo.InvariantCulture), System.Diagnostics.Stopwatch.GetTimestamp());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException or IndexOutOfRangeException) { return null; }
    }

    public static CpuSteal? Between(Snapshot? start, Snapshot? end, int processors)
    {
        if (start is not { } a || end is not { } b) return null;
        double cpuSeconds = (double)(b.Timestamp - a.Timestamp) / System.Diagnostics.Stopwatch.Frequency * processors;
        if (cpuSeconds <= 0) return null;
        return new CpuSteal(Math.Round(100 * (b.StealTicks - a.StealTicks) / TicksPerSecond / cpuSeconds, 1));
    }

    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{StealPercent:0.#}% stolen by the hypervisor");
}
