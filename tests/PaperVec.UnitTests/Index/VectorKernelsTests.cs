using System.Runtime.Intrinsics.X86;
using PaperVec.Index;

namespace PaperVec.Tests.Index;

/// <summary>Every kernel path against the float64 scalar reference, for every length 0..1100 and several misalignments.</summary>
public unsafe class VectorKernelsTests
{
    /// <summary>
    /// The SIMD paths this CPU can run (AVX2 and Vector&lt;T&gt; on every machine PaperVec targets,
    /// AVX-512 where Vector512 is accelerated); each is checked against the scalar reference.
    /// </summary>
    public static TheoryData<KernelPath> SimdPaths()
    {
        var paths = new TheoryData<KernelPath>();
        foreach (var path in new[] { KernelPath.Avx512, KernelPath.Avx2Fma, KernelPath.VectorT })
            if (VectorKernels.IsSupported(path)) paths.Add(path);
        return paths;
    }

    // Values of magnitude 0.5..1.5 with random sign: each product is at least 0.25, far above the
    // tolerance below, so a kernel that drops or repeats a single element cannot pass.
    static float[] RandomValues(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)((0.5 + random.NextDouble()) * (random.Next(2) == 0 ? -1 : 1));
        return values;
    }

    static double Tolerance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double magnitude = 0;
        for (int i = 0; i < a.Length; i++) magnitude += Math.Abs((double)a[i] * b[i]);
        return 1e-5 * magnitude + 1e-6;
    }

    [Theory]
    [MemberData(nameof(SimdPaths))]
    public void DotMatchesScalarForEveryLengthAndMisalignment(KernelPath path)
    {
        var random = new Random(17);
        var bufferA = RandomValues(random, 1100 + 8);
        var bufferB = RandomValues(random, 1100 + 8);
        foreach (int misalignA in new[] { 0, 1, 3, 7 })
        foreach (int misalignB in new[] { 0, 2, 5 })
        for (int length = 0; length <= 1100; length++)
        {
            var a = bufferA.AsSpan(misalignA, length);
            var b = bufferB.AsSpan(misalignB, length);
            double dotExpected = VectorKernels.Dot(a, b, KernelPath.Scalar);
            double dotActual = VectorKernels.Dot(a, b, path);
            Assert.True(Math.Abs(dotActual - dotExpected) <= Tolerance(a, b),
                $"{path} dot, length {length}, offsets {misalignA}/{misalignB}: {dotActual} vs {dotExpected}");
        }
    }

    [Fact]
    public void ScalarReferenceAccumulatesInDoublePrecision()
    {
        // 1 + 1e-8 * many: float accumulation would lose every small term.
        var a = new float[10_001];
        var b = new float[10_001];
        a[0] = 1; b[0] = 1;
        for (int i = 1; i < a.Length; i++) { a[i] = 1e-4f; b[i] = 1e-4f; }
        Assert.Equal(1.0001, VectorKernels.Dot(a, b, KernelPath.Scalar), 6);
    }

    [Fact]
    public void DispatchUsesTheBestPathTheCpuHas()
    {
        var expected = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? KernelPath.Avx512
            : Avx2.IsSupported && Fma.IsSupported ? KernelPath.Avx2Fma
            : System.Numerics.Vector.IsHardwareAccelerated ? KernelPath.VectorT : KernelPath.Scalar;
        Assert.Equal(expected, VectorKernels.ActivePath);
        Assert.Equal(expected == KernelPath.Avx512 ? KernelPath.Avx2Fma : expected, VectorKernels.ActiveScanPath);
        var random = new Random(3);
        var a = RandomValues(random, 384);
        var b = RandomValues(random, 384);
        Assert.Equal(VectorKernels.Dot(a, b, VectorKernels.ActivePath), VectorKernels.Dot(a, b));
    }

    [Fact]
    public void TheAvx512PathRunsWhereVector512IsAccelerated()
    {
        // Where this holds, the theories above ran the AVX-512 kernels; elsewhere they cannot run.
        Assert.Equal(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && Avx512F.IsSupported, VectorKernels.IsSupported(KernelPath.Avx512));
    }

    public static TheoryData<KernelPath> AllPaths()
    {
        var paths = SimdPaths();
        paths.Add(KernelPath.Scalar);
        return paths;
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public unsafe void DotManyScoresEveryRowLikeTheScalarReference(KernelPath path)
    {
        var random = new Random(5);
        foreach (int dimension in new[] { 1, 7, 8, 31, 384, 1024 })
        foreach (int rowCount in new[] { 0, 1, 2, 3, 17, 64, 67, 203 }) // 64 and up take the four-lane path
        {
            int stride = dimension + 3; // rows need not be packed
            var query = RandomValues(random, dimension);
            var rows = RandomValues(random, rowCount * stride + dimension);
            var scores = new float[rowCount];
            fixed (float* q = query, r = rows, s = scores) VectorKernels.DotMany(q, dimension, r, stride, rowCount, s, path);
            var dispatched = new float[rowCount];
            VectorKernels.DotMany(query, rows, stride, dispatched);
            Assert.Equal(rowCount, dispatched.Length);
            for (int r = 0; r < rowCount; r++)
            {
                var row = rows.AsSpan(r * stride, dimension);
                double expected = VectorKernels.Dot(query, row, KernelPath.Scalar);
                Assert.True(Math.Abs(scores[r] - expected) <= Tolerance(query, row), $"dim {dimension}, row {r}: {scores[r]} vs {expected}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public unsafe void DotFourLanesScoresEveryLaneLikeTheScalarReference(KernelPath path)
    {
        var random = new Random(6);
        foreach (int dimension in new[] { 1, 7, 8, 15, 16, 17, 31, 32, 33, 47, 384, 1024 })
        foreach (int perLane in new[] { 0, 1, 5, 33 })
        {
            int stride = dimension + 5;
            int laneStride = perLane * stride + 2 * stride; // lanes need not be adjacent
            var query = RandomValues(random, dimension);
            var rows = RandomValues(random, VectorKernels.Lanes * laneStride + dimension);
            var scores = new float[VectorKernels.Lanes * perLane];
            fixed (float* q = query, r = rows, s = scores)
                VectorKernels.DotFourLanes(q, dimension, r, stride, laneStride, perLane, s, path);
            for (int lane = 0; lane < VectorKernels.Lanes; lane++)
            for (int i = 0; i < perLane; i++)
            {
                var row = rows.AsSpan(lane * laneStride + i * stride, dimension);
                double expected = VectorKernels.Dot(query, row, KernelPath.Scalar);
                float actual = scores[lane * perLane + i];
                Assert.True(Math.Abs(actual - expected) <= Tolerance(query, row), $"dim {dimension}, lane {lane}, row {i}: {actual} vs {expected}");
            }
        }
    }

    [Fact]
    public void MismatchedLengthsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => VectorKernels.Dot(new float[3], new float[4]));
        Assert.Throws<ArgumentException>(() => VectorKernels.DotMany(new float[4], new float[7], 4, new float[2]));
    }

    [Fact]
    public void NormalizeGivesUnitLength()
    {
        float[] v = [3, 4, 0];
        VectorKernels.Normalize(v);
        Assert.Equal(1.0, VectorKernels.Dot(v, v), 6);
        Assert.Equal(0.6f, v[0], 6);
    }
}
