using System.Text;

namespace PaperVec.Api.Metrics;

/// <summary>A Prometheus histogram: counts per upper bound, a sum and a count, updated lock-free.</summary>
public sealed class Histogram(double[] upperBounds)
{
    readonly long[] _buckets = new long[upperBounds.Length + 1]; // the last one is +Inf
    long _count;
    double _sum;

    public long Count => Interlocked.Read(ref _count);
    public double Sum => Volatile.Read(ref _sum);

    public void Observe(double value)
    {
        int bucket = Array.BinarySearch(upperBounds, value);
        if (bucket < 0) bucket = ~bucket; // first bound above the value; the value equal to a bound counts in it
        Interlocked.Increment(ref _buckets[bucket]);
        Interlocked.Increment(ref _count);
        double seen, added;
        do { seen = Volatile.Read(ref _sum); added = seen + value; }
        while (Interlocked.CompareExchange(ref _sum, added, seen) != seen);
    }

    /// <summary>The _bucket (cumulative), _sum and _count lines; <paramref name="labels"/> is "" or 'a="b",'.</summary>
    public void WriteTo(StringBuilder text, string name, string labels)
    {
        long cumulative = 0;
        for (int i = 0; i < _buckets.Length; i++)
        {
            cumulative += Interlocked.Read(ref _buckets[i]);
            string bound = i < upperBounds.Length ? PrometheusText.Number(upperBounds[i]) : "+Inf";
            text.Append(name).Append("_bucket{").Append(labels).Append("le=\"").Append(bound).Append("\"} ").Append(cumulative).Append('\n');
        }
        string plain = labels.TrimEnd(',');
        string braces = plain.Length == 0 ? "" : "{" + plain + "}";
        text.Append(name).Append("_sum").Append(braces).Append(' ').Append(PrometheusText.Number(Sum)).Append('\n');
        text.Append(name).Append("_count").Append(braces).Append(' ').Append(Count).Append('\n');
    }
}
