using PaperVec.Bench.Harness;

namespace PaperVec.Tests.Bench;

public class LatencyRecorderTests
{
    static readonly double[] Quantiles = [0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0];

    /// <summary>Log-uniform latencies from 2 us to 20 s, the range a benchmark meets.</summary>
    static double[] Samples(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => 0.002 * Math.Pow(10, random.NextDouble() * 4)).ToArray();
    }

    static double Exact(double[] sorted, double q) => sorted[Math.Max(0, (int)Math.Ceiling(q * sorted.Length) - 1)];

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 2)]
    [InlineData(1000, 3)]
    [InlineData(100_000, 4)]
    public void PercentilesAreWithinTheRelativeErrorBoundOfTheExactOnes(int count, int seed)
    {
        var samples = Samples(count, seed);
        var histogram = new LatencyRecorder();
        foreach (var s in samples) histogram.RecordMilliseconds(s);
        Array.Sort(samples);
        Assert.Equal(count, histogram.Count);
        foreach (var q in Quantiles)
        {
            double exact = Exact(samples, q), reported = histogram.PercentileMilliseconds(q);
            Assert.True(Math.Abs(reported - exact) <= exact * LatencyRecorder.RelativeError + 1e-6, $"q={q}: {reported} vs exact {exact}");
        }
        Assert.True(Math.Abs(histogram.MaxMilliseconds - samples[^1]) <= samples[^1] * LatencyRecorder.RelativeError, $"max {histogram.MaxMilliseconds} vs {samples[^1]}");
        Assert.True(LatencyRecorder.RelativeError < 0.01);
    }

    [Fact]
    public void HistogramsRecordedOnSeveralThreadsMergeIntoTheSameAnswers()
    {
        var samples = Samples(200_000, 5);
        var whole = new LatencyRecorder();
        foreach (var s in samples) whole.RecordMilliseconds(s);
        var parts = Enumerable.Range(0, 4).Select(_ => new LatencyRecorder()).ToArray();
        Parallel.For(0, 4, p => { for (int i = p; i < samples.Length; i += 4) parts[p].RecordMilliseconds(samples[i]); });
        var merged = new LatencyRecorder();
        foreach (var part in parts) merged.Add(part);

        Array.Sort(samples);
        Assert.Equal(whole.Count, merged.Count);
        Assert.Equal(whole.MaxMilliseconds, merged.MaxMilliseconds);
        foreach (var q in Quantiles)
        {
            Assert.Equal(whole.PercentileMilliseconds(q), merged.PercentileMilliseconds(q));
            double exact = Exact(samples, q);
            Assert.True(Math.Abs(merged.PercentileMilliseconds(q) - exact) <= exact * LatencyRecorder.RelativeError + 1e-6);
        }
    }

    [Fact]
    public void KnownInputsGiveTheirPercentiles()
    {
        // 1, 2, ..., 1000 ms: the ceil(q * n)-th smallest is q * 1000 ms.
        var recorder = new LatencyRecorder();
        for (int ms = 1000; ms >= 1; ms--) recorder.RecordMilliseconds(ms);
        foreach (var (q, expected) in new[] { (0.5, 500.0), (0.9, 900.0), (0.99, 990.0), (0.999, 999.0), (1.0, 1000.0), (0.0001, 1.0) })
            Assert.InRange(recorder.PercentileMilliseconds(q), expected * (1 - LatencyRecorder.RelativeError), expected * (1 + LatencyRecorder.RelativeError));
        Assert.InRange(recorder.MaxMilliseconds, 1000, 1000 * (1 + LatencyRecorder.RelativeError));

        // Microsecond inputs (bench index) and Stopwatch ticks (bench api) land on the same scale.
        var micros = new LatencyRecorder();
        foreach (var us in new[] { 80.0, 90, 100, 5000 }) micros.RecordMicroseconds(us);
        Assert.InRange(micros.PercentileMicroseconds(0.5), 89.9, 90.1);
        Assert.InRange(micros.PercentileMicroseconds(0.99), 4995, 5005);
        var ticks = new LatencyRecorder();
        ticks.RecordTicks(System.Diagnostics.Stopwatch.Frequency / 1000 * 3); // 3 ms
        Assert.InRange(ticks.PercentileMilliseconds(0.5), 2.997, 3.003);
    }

    [Fact]
    public void AnEmptyHistogramAnswersZero()
    {
        var h = new LatencyRecorder();
        Assert.Equal(0, h.PercentileMilliseconds(0.99));
        Assert.Equal(0, h.MaxMilliseconds);
    }
}
