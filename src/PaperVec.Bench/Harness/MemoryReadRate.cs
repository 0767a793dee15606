using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace PaperVec.Bench.Harness;

/// <summary>
/// How fast one core reads an array with no arithmetic beyond an add: the ceiling an exact scan of
/// the same rows is held against in the same run, since this VM's memory bandwidth moves by the hour
/// (7.5 to 17 GB/s seen). Eight sequential streams side by side, twice the scan's four, because one
/// core pulls more from DRAM the more streams its prefetchers keep in flight.
/// </summary>
public static class MemoryReadRate
{
    const int Streams = 8;

    /// <summary>The best of <paramref name="passes"/> whole reads, in bytes per second, and the sum of every element (so the reads are not optimised away, and tests can check each element was read once).</summary>
    public static (double BytesPerSecond, float Sum) Measure(ReadOnlySpan<float> data, int passes = 3)
    {
        double best = 0;
        float sum = 0;
        for (int pass = 0; pass < passes; pass++)
        {
            long start = Stopwatch.GetTimestamp();
            sum = SumAll(data);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (seconds > 0) best = Math.Max(best, data.Length * (double)sizeof(float) / seconds);
        }
        return (best, sum);
    }

    static float SumAll(ReadOnlySpan<float> data)
    {
        var vectors = MemoryMarshal.Cast<float, Vector256<float>>(data);
        int perStream = vectors.Length / Streams;
        ref var v = ref MemoryMarshal.GetReference(vectors);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int i = 0; i < perStream; i++)
        {
            a0 += Unsafe.Add(ref v, i);
            a1 += Unsafe.Add(ref v, i + perStream);
            a2 += Unsafe.Add(ref v, i + 2 * perStream);
            a3 += Unsafe.Add(ref v, i + 3 * perStream);
            a4 += Unsafe.Add(ref v, i + 4 * perStream);
            a5 += Unsafe.Add(ref v, i + 5 * perStream);
            a6 += Unsafe.Add(ref v, i + 6 * perStream);
            a7 += Unsafe.Add(ref v, i + 7 * perStream);
        }
        float sum = Vector256.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
        for (int i = Streams * perStream; i < vectors.Length; i++) sum += Vector256.Sum(Unsafe.Add(ref v, i));
        for (int i = vectors.Length * Vector256<float>.Count; i < data.Length; i++) sum += data[i];
        return sum;
    }
}
