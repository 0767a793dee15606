using PaperVec.Cli.Bench;

namespace PaperVec.Tests.Bench;

public class LatencyHistogramTests
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
        var histogram = new LatencyHistogram();
        foreach (var s in samples) histogram.RecordMilliseconds(s);
        Array.Sort(samples);
        Assert.Equal(count, histogram.Count);
        foreach (var q in Quantiles)
        {
            double exact = Exact(samples, q), reported = histogram.PercentileMilliseconds(q);
            Assert.True(Math.Abs(reported - exact) <= exact * LatencyHistogram.RelativeError + 1e-6, $"q={q}: {reported} vs exact {exact}");
        }
        Assert.Equal(samples[^1], histogram.MaxMilliseconds, 6);
        Assert.True(LatencyHistogram.RelativeError < 0.01);
    }

    [Fact]
    public void HistogramsRecordedOnSeveralThreadsMergeIntoTheSameAnswers()
    {
        var samples = Samples(200_000, 5);
        var whole = new LatencyHistogram();
        foreach (var s in samples) whole.RecordMilliseconds(s);
        var parts = Enumerable.Range(0, 4).Select(_ => new LatencyHistogram()).ToArray();
        Parallel.For(0, 4, p => { for (int i = p; i < samples.Length; i += 4) parts[p].RecordMilliseconds(samples[i]); });
        var merged = new LatencyHistogram();
        foreach (var part in parts) merged.Add(part);

        Array.Sort(samples);
        Assert.Equal(whole.Count, merged.Count);
        Assert.Equal(whole.MaxMilliseconds, merged.MaxMilliseconds);
        foreach (var q in Quantiles)
        {
            Assert.Equal(whole.PercentileMilliseconds(q), merged.PercentileMilliseconds(q));
            double exact = Exact(samples, q);
            Assert.True(Math.Abs(merged.PercentileMilliseconds(q) - exact) <= exact * LatencyHistogram.RelativeError + 1e-6);
        }
    }

    [Fact]
    public void AnEmptyHistogramAnswersZero()
    {
        var h = new LatencyHistogram();
        Assert.Equal(0, h.PercentileMilliseconds(0.99));
        Assert.Equal(0, h.MaxMilliseconds);
    }
}
