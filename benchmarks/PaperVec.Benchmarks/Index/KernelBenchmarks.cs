using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using PaperVec.Index;

namespace PaperVec.Benchmarks.Index;

/// <summary>One dot product: our AVX-512, AVX2+FMA and Vector&lt;T&gt; paths, the float64 scalar reference, and TensorPrimitives.Dot (System.Numerics.Tensors 10).</summary>
public unsafe class KernelBenchmarks
{
    float* _a, _b;

    [Params(384, 1024)]
    public int Dimension { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _a = (float*)NativeMemory.AlignedAlloc((nuint)Dimension * sizeof(float), 64);
        _b = (float*)NativeMemory.AlignedAlloc((nuint)Dimension * sizeof(float), 64);
        var random = new Random(1);
        for (int i = 0; i < Dimension; i++) { _a[i] = (float)random.NextDouble(); _b[i] = (float)random.NextDouble(); }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
    }

    [Benchmark(Baseline = true)]
    public float Avx2Fma() => VectorKernels.DotAvx2Fma(_a, _b, Dimension);

    [Benchmark]
    public float Avx512() => VectorKernels.IsSupported(KernelPath.Avx512)
        ? VectorKernels.DotAvx512(_a, _b, Dimension) : throw new PlatformNotSupportedException("no accelerated Vector512 on this CPU");

    [Benchmark]
    public float VectorT() => VectorKernels.DotVectorT(_a, _b, Dimension);

    [Benchmark]
    public float ScalarFloat64() => VectorKernels.DotScalar(_a, _b, Dimension);

    [Benchmark]
    public float TensorPrimitivesDot() => TensorPrimitives.Dot(new ReadOnlySpan<float>(_a, Dimension), new ReadOnlySpan<float>(_b, Dimension));
}
