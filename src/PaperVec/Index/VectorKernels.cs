using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PaperVec.Index;

/// <summary>Which implementation <see cref="VectorKernels"/> dispatches to.</summary>
public enum KernelPath
{
    /// <summary>Portable loop accumulating in float64; the reference every other path is tested against.</summary>
    Scalar,
    /// <summary><see cref="Vector{T}"/> of whatever width the JIT picked.</summary>
    VectorT,
    /// <summary>Vector256 with fused multiply-add and four independent accumulators.</summary>
    Avx2Fma,
    /// <summary>Vector512 (AVX-512F) with fused multiply-add, four accumulators and a masked tail.</summary>
    Avx512,
}

/// <summary>
/// Dot products over float32 rows (vectors are unit length, so the dot product is the cosine).
/// The path is chosen once, when the type initialises, from what the CPU supports; the field is static readonly so the tiered JIT folds
/// the dispatch away. Every path is public so tests and benchmarks can compare them.
/// </summary>
public static unsafe class VectorKernels
{
    static readonly KernelPath Selected = SelectPath();

    /// <summary>
    /// The scan's path: the AVX2 four-lane kernel even where AVX-512 is accelerated, because it
    /// measured faster there (src/PaperVec/Index/README.md: 2,000 and 200,000 rows of 384-d, AMD
    /// EPYC with AVX-512: 1.08x and 1.32x the AVX2 kernel's time); single dot products take AVX-512.
    /// </summary>
    static readonly KernelPath SelectedScan = Selected == KernelPath.Avx512 ? KernelPath.Avx2Fma : Selected;

    /// <summary>The path <see cref="DotMany(float*, int, float*, int, int, float*)"/> and <see cref="DotFourLanes(float*, int, float*, int, nint, int, float*)"/> use.</summary>
    public static KernelPath ActiveScanPath => SelectedScan;

    /// <summary>The path the dispatching methods use on this machine.</summary>
    public static KernelPath ActivePath => Selected;

    /// <summary>The best path this CPU supports.</summary>
    public static KernelPath SelectPath() =>
        IsSupported(KernelPath.Avx512) ? KernelPath.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? KernelPath.Avx2Fma
        : Vector.IsHardwareAccelerated ? KernelPath.VectorT
        : KernelPath.Scalar;

    /// <summary>Whether <paramref name="path"/> can run on this CPU.</summary>
    public static bool IsSupported(KernelPath path) => path switch
    {
        // Vector512.IsHardwareAccelerated is false where the runtime judged 512-bit code slower
        // (CPUs that lower their clock for it), even when Avx512F.IsSupported.
        KernelPath.Avx512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported,
        KernelPath.Avx2Fma => Avx2.IsSupported && Fma.IsSupported,
        KernelPath.VectorT => Vector.IsHardwareAccelerated,
        _ => true,
    };

    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => Dot(a, b, Selected);

    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b, KernelPath path)
    {
        if (a.Length != b.Length) throw new ArgumentException("Spans differ in length.", nameof(b));
        fixed (float* pa = a, pb = b) return Dot(pa, pb, a.Length, path);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int length) => Dot(a, b, length, Selected);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Dot(float* a, float* b, int length, KernelPath path) => path switch
    {
        KernelPath.Avx512 => DotAvx512(a, b, length),
        KernelPath.Avx2Fma => DotAvx2Fma(a, b, length),
        KernelPath.VectorT => DotVectorT(a, b, length),
        _ => DotScalar(a, b, length),
    };

    /// <summary>
    /// Scores one query against <c>scores.Length</c> consecutive rows that start
    /// <paramref name="rowStride"/> floats apart: the scan kernel of the exact index.
    /// </summary>
    public static void DotMany(ReadOnlySpan<float> query, ReadOnlySpan<float> rows, int rowStride, Span<float> scores)
    {
        if (rowStride < query.Length) throw new ArgumentOutOfRangeException(nameof(rowStride));
        if (scores.Length > 0 && (long)(scores.Length - 1) * rowStride + query.Length > rows.Length)
            throw new ArgumentException("Rows span too short for the requested scores.", nameof(rows));
        fixed (float* q = query, r = rows, s = scores) DotMany(q, query.Length, r, rowStride, scores.Length, s);
    }

    public static void DotMany(float* query, int dimension, float* rows, int rowStride, int rowCount, float* scores) =>
        DotMany(query, dimension, rows, rowStride, rowCount, scores, SelectedScan);

    /// <summary><see cref="DotMany(float*, int, float*, int, int, float*)"/> on a given path (tests and benchmarks).</summary>
    public static void DotMany(float* query, int dimension, float* rows, int rowStride, int rowCount, float* scores, KernelPath path)
    {
        if (path is KernelPath.Avx2Fma or KernelPath.Avx512)
        {
            // Four lanes of a quarter of the rows each (see DotFourLanes), then the last 0-3 rows.
            int perLane = rowCount / Lanes;
            if (perLane > 0) DotFourLanes(query, dimension, rows, rowStride, (nint)perLane * rowStride, perLane, scores, path);
            for (int r = Lanes * perLane; r < rowCount; r++) scores[r] = Dot(query, rows + (nint)r * rowStride, dimension, path);
            return;
        }
        for (int r = 0; r < rowCount; r++) scores[r] = Dot(query, rows + (nint)r * rowStride, dimension, path);
    }

    /// <summary>Rows scored side by side by <see cref="DotFourLanes"/>.</summary>
    public const int Lanes = 4;
    const int LanePrefetchFloats = 256; // 1 KB ahead in each lane

    /// <summary>
    /// Scores four lanes of <paramref name="perLane"/> consecutive rows, lane l starting at
    /// <c>rows + l * laneStride</c>, walked side by side (row i of every lane per pass), into
    /// <c>scores[l * perLane + i]</c>. One core reads DRAM faster from several sequential streams
    /// than from one: the hardware prefetcher keeps each stream's lines in flight, so four streams
    /// hold about four times as many outstanding. Measured on 200k x 384 rows (307 MB, one thread):
    /// one stream 7-8 GB/s, four 16-17 GB/s. Other paths score row by row.
    /// </summary>
    public static void DotFourLanes(float* query, int dimension, float* rows, int rowStride, nint laneStride, int perLane, float* scores) =>
        DotFourLanes(query, dimension, rows, rowStride, laneStride, perLane, scores, SelectedScan);

    /// <summary><see cref="DotFourLanes(float*, int, float*, int, nint, int, float*)"/> on a given path (tests and benchmarks).</summary>
    public static void DotFourLanes(float* query, int dimension, float* rows, int rowStride, nint laneStride, int perLane, float* scores, KernelPath path)
    {
        switch (path)
        {
            case KernelPath.Avx512: DotFourLanesAvx512(query, dimension, rows, rowStride, laneStride, perLane, scores); return;
            case KernelPath.Avx2Fma: DotFourLanesAvx2Fma(query, dimension, rows, rowStride, laneStride, perLane, scores); return;
        }
        for (int lane = 0; lane < Lanes; lane++)
            for (int i = 0; i < perLane; i++)
                scores[lane * perLane + i] = Dot(query, rows + lane * laneStride + (nint)i * rowStride, dimension, path);
    }

    static void DotFourLanesAvx512(float* query, int dimension, float* rows, int rowStride, nint laneStride, int perLane, float* scores)
    {
        // 32 floats (two query vectors, eight FMAs) per pass as the AVX2 lanes do 16: the same
        // instructions for twice the work; one prefetch per lane and 64-byte line, as there.
        int wide = dimension & ~31;
        for (int i = 0; i < perLane; i++)
        {
            float* r0 = rows + (nint)i * rowStride;
            float* r1 = r0 + laneStride, r2 = r1 + laneStride, r3 = r2 + laneStride;
            var a0 = Vector512<float>.Zero; var a1 = Vector512<float>.Zero;
            var a2 = Vector512<float>.Zero; var a3 = Vector512<float>.Zero;
            int j = 0;
            for (; j < wide; j += 32)
            {
                Sse.Prefetch0(r0 + j + LanePrefetchFloats); Sse.Prefetch0(r1 + j + LanePrefetchFloats);
                Sse.Prefetch0(r2 + j + LanePrefetchFloats); Sse.Prefetch0(r3 + j + LanePrefetchFloats);
                Sse.Prefetch0(r0 + j + 16 + LanePrefetchFloats); Sse.Prefetch0(r1 + j + 16 + LanePrefetchFloats);
                Sse.Prefetch0(r2 + j + 16 + LanePrefetchFloats); Sse.Prefetch0(r3 + j + 16 + LanePrefetchFloats);
                var q0 = Avx512F.LoadVector512(query + j);
                var q1 = Avx512F.LoadVector512(query + j + 16);
                a0 = Avx512F.FusedMultiplyAdd(q0, Avx512F.LoadVector512(r0 + j), a0);
                a1 = Avx512F.FusedMultiplyAdd(q0, Avx512F.LoadVector512(r1 + j), a1);
                a2 = Avx512F.FusedMultiplyAdd(q0, Avx512F.LoadVector512(r2 + j), a2);
                a3 = Avx512F.FusedMultiplyAdd(q0, Avx512F.LoadVector512(r3 + j), a3);
                a0 = Avx512F.FusedMultiplyAdd(q1, Avx512F.LoadVector512(r0 + j + 16), a0);
                a1 = Avx512F.FusedMultiplyAdd(q1, Avx512F.LoadVector512(r1 + j + 16), a1);
                a2 = Avx512F.FusedMultiplyAdd(q1, Avx512F.LoadVector512(r2 + j + 16), a2);
                a3 = Avx512F.FusedMultiplyAdd(q1, Avx512F.LoadVector512(r3 + j + 16), a3);
            }
            for (; j < dimension; j += 16)
            {
                var mask = TailMask512(Math.Min(16, dimension - j));
                var qv = Avx512F.MaskLoad(query + j, mask, Vector512<float>.Zero);
                a0 = Avx512F.FusedMultiplyAdd(qv, Avx512F.MaskLoad(r0 + j, mask, Vector512<float>.Zero), a0);
                a1 = Avx512F.FusedMultiplyAdd(qv, Avx512F.MaskLoad(r1 + j, mask, Vector512<float>.Zero), a1);
                a2 = Avx512F.FusedMultiplyAdd(qv, Avx512F.MaskLoad(r2 + j, mask, Vector512<float>.Zero), a2);
                a3 = Avx512F.FusedMultiplyAdd(qv, Avx512F.MaskLoad(r3 + j, mask, Vector512<float>.Zero), a3);
            }
            scores[i] = Vector512.Sum(a0);
            scores[perLane + i] = Vector512.Sum(a1);
            scores[2 * perLane + i] = Vector512.Sum(a2);
            scores[3 * perLane + i] = Vector512.Sum(a3);
        }
    }

    // Lanes 0..n-1 set for a tail of n (0..15) floats; AVX-512's masked loads fault on no lane left out.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> TailMask512(int remaining) =>
        Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(remaining)).AsSingle();

    public static float DotAvx512(float* a, float* b, int length)
    {
        var acc0 = Vector512<float>.Zero;
        var acc1 = Vector512<float>.Zero;
        var acc2 = Vector512<float>.Zero;
        var acc3 = Vector512<float>.Zero;
        int i = 0;
        for (; i <= length - 64; i += 64)
        {
            acc0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(a + i), Avx512F.LoadVector512(b + i), acc0);
            acc1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(a + i + 16), Avx512F.LoadVector512(b + i + 16), acc1);
            acc2 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(a + i + 32), Avx512F.LoadVector512(b + i + 32), acc2);
            acc3 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(a + i + 48), Avx512F.LoadVector512(b + i + 48), acc3);
        }
        for (; i <= length - 16; i += 16)
            acc0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(a + i), Avx512F.LoadVector512(b + i), acc0);
        if (i < length)
        {
            var mask = TailMask512(length - i);
            acc1 = Avx512F.FusedMultiplyAdd(Avx512F.MaskLoad(a + i, mask, Vector512<float>.Zero), Avx512F.MaskLoad(b + i, mask, Vector512<float>.Zero), acc1);
        }
        return Vector512.Sum((acc0 + acc1) + (acc2 + acc3));
    }

    static void DotFourLanesAvx2Fma(float* query, int dimension, float* rows, int rowStride, nint laneStride, int perLane, float* scores)
    {
        int wide = dimension & ~15;
        for (int i = 0; i < perLane; i++)
        {
            float* r0 = rows + (nint)i * rowStride;
            float* r1 = r0 + laneStride, r2 = r1 + laneStride, r3 = r2 + laneStride;
            var a0 = Vector256<float>.Zero; var a1 = Vector256<float>.Zero;
            var a2 = Vector256<float>.Zero; var a3 = Vector256<float>.Zero;
            int j = 0;
            for (; j < wide; j += 16)
            {
                if (Sse.IsSupported)
                {
                    Sse.Prefetch0(r0 + j + LanePrefetchFloats); Sse.Prefetch0(r1 + j + LanePrefetchFloats);
                    Sse.Prefetch0(r2 + j + LanePrefetchFloats); Sse.Prefetch0(r3 + j + LanePrefetchFloats);
                }
                var q0 = Avx.LoadVector256(query + j);
                var q1 = Avx.LoadVector256(query + j + 8);
                a0 = Fma.MultiplyAdd(q0, Avx.LoadVector256(r0 + j), a0);
                a1 = Fma.MultiplyAdd(q0, Avx.LoadVector256(r1 + j), a1);
                a2 = Fma.MultiplyAdd(q0, Avx.LoadVector256(r2 + j), a2);
                a3 = Fma.MultiplyAdd(q0, Avx.LoadVector256(r3 + j), a3);
                a0 = Fma.MultiplyAdd(q1, Avx.LoadVector256(r0 + j + 8), a0);
                a1 = Fma.MultiplyAdd(q1, Avx.LoadVector256(r1 + j + 8), a1);
                a2 = Fma.MultiplyAdd(q1, Avx.LoadVector256(r2 + j + 8), a2);
                a3 = Fma.MultiplyAdd(q1, Avx.LoadVector256(r3 + j + 8), a3);
            }
            for (; j < dimension; j += 8)
            {
                var mask = TailMask(Math.Min(8, dimension - j));
                var qv = Avx.MaskLoad(query + j, mask);
                a0 = Fma.MultiplyAdd(qv, Avx.MaskLoad(r0 + j, mask), a0);
                a1 = Fma.MultiplyAdd(qv, Avx.MaskLoad(r1 + j, mask), a1);
                a2 = Fma.MultiplyAdd(qv, Avx.MaskLoad(r2 + j, mask), a2);
                a3 = Fma.MultiplyAdd(qv, Avx.MaskLoad(r3 + j, mask), a3);
            }
            scores[i] = Vector256.Sum(a0);
            scores[perLane + i] = Vector256.Sum(a1);
            scores[2 * perLane + i] = Vector256.Sum(a2);
            scores[3 * perLane + i] = Vector256.Sum(a3);
        }
    }

    // Lanes 0..n-1 set for a tail of n floats: load from offset 8 - n.
    static ReadOnlySpan<int> TailMasks => [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> TailMask(int remaining) =>
        Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(TailMasks), (nuint)(8 - remaining)).AsSingle();

    public static float DotAvx2Fma(float* a, float* b, int length)
    {
        // Four accumulators hide the FMA latency (4 cycles, 2 ports) that one chain would expose.
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        var acc2 = Vector256<float>.Zero;
        var acc3 = Vector256<float>.Zero;
        int i = 0;
        for (; i <= length - 32; i += 32)
        {
            acc0 = Fma.MultiplyAdd(Avx.LoadVector256(a + i), Avx.LoadVector256(b + i), acc0);
            acc1 = Fma.MultiplyAdd(Avx.LoadVector256(a + i + 8), Avx.LoadVector256(b + i + 8), acc1);
            acc2 = Fma.MultiplyAdd(Avx.LoadVector256(a + i + 16), Avx.LoadVector256(b + i + 16), acc2);
            acc3 = Fma.MultiplyAdd(Avx.LoadVector256(a + i + 24), Avx.LoadVector256(b + i + 24), acc3);
        }
        for (; i <= length - 8; i += 8)
            acc0 = Fma.MultiplyAdd(Avx.LoadVector256(a + i), Avx.LoadVector256(b + i), acc0);
        if (i < length)
        {
            // A masked load never touches memory past the end, so the tail needs no scalar loop.
            var mask = TailMask(length - i);
            acc1 = Fma.MultiplyAdd(Avx.MaskLoad(a + i, mask), Avx.MaskLoad(b + i, mask), acc1);
        }
        return Vector256.Sum((acc0 + acc1) + (acc2 + acc3));
    }

    public static float DotVectorT(float* a, float* b, int length)
    {
        int width = Vector<float>.Count;
        var acc0 = Vector<float>.Zero;
        var acc1 = Vector<float>.Zero;
        int i = 0;
        for (; i <= length - 2 * width; i += 2 * width)
        {
            acc0 += Vector.Load(a + i) * Vector.Load(b + i);
            acc1 += Vector.Load(a + i + width) * Vector.Load(b + i + width);
        }
        for (; i <= length - width; i += width) acc0 += Vector.Load(a + i) * Vector.Load(b + i);
        float sum = Vector.Sum(acc0 + acc1);
        for (; i < length; i++) sum += a[i] * b[i];
        return sum;
    }

    public static float DotScalar(float* a, float* b, int length)
    {
        double sum = 0;
        for (int i = 0; i < length; i++) sum += (double)a[i] * b[i];
        return (float)sum;
    }

    /// <summary>Scales <paramref name="vector"/> to unit length in place (a zero vector stays zero).</summary>
    public static void Normalize(Span<float> vector)
    {
        double sumSquares = 0;
        foreach (float x in vector) sumSquares += (double)x * x;
        if (sumSquares == 0) return;
        float scale = (float)(1.0 / Math.Sqrt(sumSquares));
        for (int i = 0; i < vector.Length; i++) vector[i] *= scale;
    }
}
