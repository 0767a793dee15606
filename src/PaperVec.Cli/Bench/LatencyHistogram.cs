namespace PaperVec.Cli.Bench;

/// <summary>
/// Latencies in log-spaced buckets: bucket i holds [Min * Growth^i, Min * Growth^(i+1)), and a
/// percentile is answered with the bucket's geometric middle, so any value from 1 us to 1,000 s
/// comes back within ±1% (sqrt(1.02) - 1 ≈ 0.995%). Fixed memory (about 1,050 counters), lock-free
/// recording from any thread, and two histograms merge by adding counters, which is what
/// per-route and per-second histograms need.
/// </summary>
public sealed class LatencyHistogram
{
    /// <summary>Smallest value told apart, in microseconds; smaller ones count in the first bucket.</summary>
    public const double MinMicroseconds = 1;
    public const double Growth = 1.02;
    /// <summary>Worst relative error of a reported percentile for values at or above <see cref="MinMicroseconds"/>.</summary>
    public static readonly double RelativeError = Math.Sqrt(Growth) - 1;
    static readonly double LogGrowth = Math.Log(Growth);
    static readonly int BucketCount = (int)Math.Ceiling(Math.Log(1e9 / MinMicroseconds) / LogGrowth) + 1; // up to 1,000 s

    readonly long[] _counts = new long[BucketCount];
    long _count;
    long _maxTicks; // exact, in Stopwatch ticks as doubles' bits would not compare atomically

    public long Count => Interlocked.Read(ref _count);

    /// <summary>Largest value recorded, exactly, in milliseconds.</summary>
    public double MaxMilliseconds => Interlocked.Read(ref _maxTicks) * 1000.0 / System.Diagnostics.Stopwatch.Frequency;

    /// <summary>Records a latency given in Stopwatch ticks (what the load generator measures).</summary>
    public void RecordTicks(long ticks)
    {
        if (ticks < 0) ticks = 0;
        double micros = ticks * 1e6 / System.Diagnostics.Stopwatch.Frequency;
        Interlocked.Increment(ref _counts[BucketOf(micros)]);
        Interlocked.Increment(ref _count);
        long seen;
        while (ticks > (seen = Interlocked.Read(ref _maxTicks)) && Interlocked.CompareExchange(ref _maxTicks, ticks, seen) != seen) { }
    }

    public void RecordMilliseconds(double milliseconds) =>
        RecordTicks((long)Math.Round(milliseconds * System.Diagnostics.Stopwatch.Frequency / 1000.0));

    static int BucketOf(double micros) =>
        micros <= MinMicroseconds ? 0 : Math.Min(BucketCount - 1, (int)(Math.Log(micros / MinMicroseconds) / LogGrowth));

    /// <summary>Adds another histogram's counts to this one.</summary>
    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++)
        {
            long c = Interlocked.Read(ref other._counts[i]);
            if (c != 0) Interlocked.Add(ref _counts[i], c);
        }
        Interlocked.Add(ref _count, other.Count);
        long otherMax = Interlocked.Read(ref other._maxTicks), seen;
        while (otherMax > (seen = Interlocked.Read(ref _maxTicks)) && Interlocked.CompareExchange(ref _maxTicks, otherMax, seen) != seen) { }
    }

    /// <summary>
    /// The value below which a fraction <paramref name="quantile"/> of the recordings lie (the
    /// ceil(q * n)-th smallest), in milliseconds; never above the exact maximum. 0 when empty.
    /// </summary>
    public double PercentileMilliseconds(double quantile)
    {
        long count = Count;
        if (count == 0) return 0;
        long rank = Math.Max(1, (long)Math.Ceiling(quantile * count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            if (seen >= rank)
            {
                double middle = MinMicroseconds * Math.Pow(Growth, i + 0.5) / 1000.0;
                return Math.Min(middle, MaxMilliseconds);
            }
        }
        return MaxMilliseconds;
    }
}
