using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using PaperVec.Embedding;

namespace PaperVec.Benchmarks.Embedding;

/// <summary>
/// Embedder throughput in texts/s for texts of exactly 32, 128 and 256 tokens, one forward pass of
/// 1, 8 or 32 texts per operation (CPU, all cores).
/// </summary>
[Config(typeof(Config))]
public class EmbedderBenchmarks
{
    sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.Default.WithWarmupCount(1).WithIterationCount(5).WithInvocationCount(1).WithUnrollFactor(1));
            AddColumn(new ThroughputColumn("texts", c => (int)c.Parameters["Batch"]));
        }
    }

    [Params(32, 128, 256)] public int Tokens { get; set; }
    [Params(1, 8, 32)] public int Batch { get; set; }

    Embedder _embedder = null!;
    string[] _texts = [];
    float[] _output = [];

    [GlobalSetup]
    public void Setup()
    {
        _embedder = Embedder.Load(new EmbedderOptions { BatchSize = Batch });
        // "word" is one token: [CLS] + (Tokens - 2) words + [SEP] is exactly Tokens tokens.
        string text = string.Join(" ", Enumerable.Repeat("word", Tokens - 2));
        if (_embedder.Tokenizer.CountTokens(text) != Tokens) throw new InvalidOperationException("token count drifted");
        _texts = Enumerable.Repeat(text, Batch).ToArray();
        _output = new float[Batch * _embedder.Dimension];
    }

    [Benchmark]
    public void EmbedBatch() => _embedder.Embed(_texts, _output);

    [GlobalCleanup]
    public void Cleanup() => _embedder.Dispose();
}
