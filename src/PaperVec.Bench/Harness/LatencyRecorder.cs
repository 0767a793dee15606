using System.Diagnostics;
using HdrHistogram;

namespace PaperVec.Bench.Harness;

/// <summary>
/// Latencies for every bench command (api, index, store), kept in an HdrHistogram: nanoseconds
/// from 1 ns to 1,000 s (larger values count as 1,000 s) with three significant digits, so a
/// reported percentile is within 0.1% of the recorded value it stands for. Recording is
/// thread-safe (<see cref="LongConcurrentHistogram"/>) and recorders merge by adding counts, which
/// is what per-route and per-second latencies need.
/// </summary>
public sealed class LatencyRecorder
{
    const long HighestNanoseconds = 1_000_000_000_000; // 1,000 s
    const int SignificantDigits = 3;
    /// <summary>Worst relative error of a reported percentile against the recorded value at its rank.</summary>
    public const double RelativeError = 0.001;

    readonly LongConcurrentHistogram _histogram = new(1, HighestNanoseconds, SignificantDigits);

    public long Count => _histogram.TotalCount;

    /// <summary>Largest value recorded (to HdrHistogram's precision), in milliseconds; 0 when empty.</summary>
    public double MaxMilliseconds => Count == 0 ? 0 : _histogram.GetMaxValue() / 1e6;

    /// <summary>Records a latency given in Stopwatch ticks (what the load generator measures).</summary>
    public void RecordTicks(long ticks) =>
        RecordNanoseconds(Stopwatch.Frequency == 1_000_000_000 ? ticks : (long)Math.Round(ticks * (1e9 / Stopwatch.Frequency)));

    public void RecordMilliseconds(double milliseconds) => RecordNanoseconds((long)Math.Round(milliseconds * 1e6));

    public void RecordMicroseconds(double microseconds) => RecordNanoseconds((long)Math.Round(microseconds * 1e3));

    void RecordNanoseconds(long nanoseconds) => _histogram.RecordValue(Math.Clamp(nanoseconds, 0, HighestNanoseconds));

    /// <summary>Adds another recorder's counts to this one.</summary>
    public void Add(LatencyRecorder other) => _histogram.Add(other._histogram);

    /// <summary>
    /// The value below which a fraction <paramref name="quantile"/> of the recordings lie (the
    /// ceil(q * n)-th smallest), in milliseconds; never above the largest recorded. 0 when empty.
    /// </summary>
    public double PercentileMilliseconds(double quantile) => Percentile(quantile) / 1e6;

    /// <summary>As <see cref="PercentileMilliseconds"/>, in microseconds.</summary>
    public double PercentileMicroseconds(double quantile) => Percentile(quantile) / 1e3;

    double Percentile(double quantile)
    {
        long count = Count;
        if (count == 0) return 0;
        long rank = Math.Clamp((long)Math.Ceiling(quantile * count), 1, count);
        long max = _histogram.GetMaxValue();
        foreach (var bucket in _histogram.RecordedValues())
            if (bucket.TotalCountToThisValue >= rank)
                // The middle of the bucket's range: within half a bucket (RelativeError / 2) of any value in it.
                return Math.Min(_histogram.MedianEquivalentValue(bucket.ValueIteratedTo), max);
        return max;
    }
}
