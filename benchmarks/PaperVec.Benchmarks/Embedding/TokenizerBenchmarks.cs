using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using PaperVec.Ingest;
using PaperVec.Embedding;

namespace PaperVec.Benchmarks.Embedding;

/// <summary>Tokenizer throughput on the sample digests' papers (title + abstract), in tokens/s.</summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class TokenizerBenchmarks
{
    // Computed where it is asked for: columns run in the host process, GlobalSetup in the benchmark's.
    static readonly Lazy<(BertTokenizer Tokenizer, string[] Texts, int Tokens)> Data = new(() =>
    {
        var tokenizer = BertTokenizer.Load(ModelFiles.Locate().TokenizerPath);
        var texts = BenchmarkData.SampleDigestPapers().Select(p => PaperText.ForEmbedding(p.Title, p.Abstract)).ToArray();
        var ids = new int[BertTokenizer.DefaultMaxTokens];
        return (tokenizer, texts, texts.Sum(t => tokenizer.Encode(t, ids, ids.Length)));
    });

    sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10));
            AddColumn(new ThroughputColumn("tokens", _ => Data.Value.Tokens));
        }
    }

    BertTokenizer _tokenizer = null!;
    string[] _texts = [];
    readonly int[] _ids = new int[BertTokenizer.DefaultMaxTokens];

    [GlobalSetup]
    public void Setup()
    {
        (_tokenizer, _texts, _) = Data.Value;
    }

    /// <summary>All 75 papers, truncated to 256 tokens as the embedder does.</summary>
    [Benchmark]
    public int EncodeSampleDigests()
    {
        int total = 0;
        foreach (var text in _texts) total += _tokenizer.Encode(text, _ids, _ids.Length);
        return total;
    }
}

static class BenchmarkData
{
    public static IEnumerable<DigestPaper> SampleDigestPapers()
    {
        string digests = Path.Combine(ModelFiles.RepositoryRoot(), "data", "digests");
        return Directory.GetFiles(digests, "*.txt").Order().SelectMany(f => DigestParser.Parse(File.ReadAllText(f)).Papers);
    }
}
