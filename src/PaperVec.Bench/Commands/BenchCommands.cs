using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using PaperVec.Ingest;
using PaperVec.Embedding;
using PaperVec.Cli.Common;

namespace PaperVec.Bench.Commands;

/// <summary>`papervec bench ...`: speed measurements that print ratios against a baseline from the same run.</summary>
static class BenchCommands
{
    public static Command Create() => new("bench", "Measure speed") { Embed(), BenchIndexCommand.Create(), BenchStoreCommand.Create(), BenchQueriesCommand.Create(), BenchApiCommand.Create(), DupesEvaluationCommands.Bench() };

    /// <summary>
    /// Embeds the sample digests' papers (or --corpus records) twice through one session: with dynamic
    /// padding (batches sorted by length, padded to their longest text) and with naive fixed padding
    /// to 256 tokens; then the same for short queries (the titles). Prints texts/s, tokens/s and ratios.
    /// </summary>
    static Command Embed()
    {
        var corpus = new Option<FileInfo?>("--corpus") { Description = "JSON Lines records with title and abstract (default: the sample digests in data/digests)" };
        var limit = new Option<int>("--limit") { Description = "Use at most this many records", DefaultValueFactory = _ => 256 };
        var skipNaive = new Option<bool>("--no-naive") { Description = "Skip the fixed-padding baseline" };
        var device = CommonOptions.Device();
        var batch = CommonOptions.Batch();
        var threads = CommonOptions.Threads();
        var workers = CommonOptions.Workers();
        var precision = CommonOptions.Precision();
        var compare = new Option<bool>("--compare-precisions") { Description = "Embed the abstracts with the fp32 and the int8 model in turn (3 rounds each, interleaved): texts/s of each, their ratio, and the cosine between their vectors" };
        var spinning = new Option<bool?>("--spinning") { Description = "Whether ONNX Runtime's intra-op threads spin between runs (default: ONNX Runtime's, on); matters with --threads above 1" };
        var command = new Command("embed", "Embedding throughput, dynamic vs naive fixed-length padding") { corpus, limit, skipNaive, device, batch, threads, workers, precision, compare, spinning };
        command.SetAction(parse =>
        {
            var (titles, papers, source) = LoadTexts(parse.GetValue(corpus), parse.GetValue(limit));
            if (parse.GetValue(compare)) return ComparePrecisions(parse, papers, source, device, batch, threads, workers);
            using var embedder = CommonOptions.LoadEmbedder(parse, device, batch, threads, workers, parse.GetValue(precision), parse.GetValue(spinning));
            Console.WriteLine($"bench embed: {papers.Count} papers from {source}; model {embedder.ModelId}; device {embedder.ActualDevice}; batch {embedder.Options.BatchSize}; {embedder.Options.EffectiveWorkers} workers x {embedder.Options.EffectiveThreads} threads");
            embedder.Embed(papers.Take(Math.Min(8, papers.Count)).ToList()); // warm-up: first-run allocations and kernel selection

            foreach (var (label, texts) in new[] { ("abstracts (title + abstract)", papers), ("short queries (titles)", titles) })
            {
                long tokens = texts.Sum(t => (long)embedder.Tokenizer.CountTokens(t, embedder.Options.MaxTokens));
                var dynamic = Time(embedder, texts, fixedPadding: false);
                Console.WriteLine($"{label}: {texts.Count} texts, mean {tokens / (double)texts.Count:0.0} tokens after truncation");
                Console.WriteLine($"  dynamic padding  {texts.Count / dynamic:0.00} texts/s  {tokens / dynamic:0} tokens/s  ({dynamic:0.00}s)");
                double pooling = PoolingSeconds(texts.Select(t => embedder.Tokenizer.CountTokens(t, embedder.Options.MaxTokens)).ToArray(), embedder.Dimension);
                Console.WriteLine($"  of which pooling {pooling * 1e3:0.000} ms in all ({100 * pooling / dynamic:0.0000}% of the run)");
                if (parse.GetValue(skipNaive)) continue;
                var naive = Time(embedder, texts, fixedPadding: true);
                Console.WriteLine($"  naive padding    {texts.Count / naive:0.00} texts/s  {tokens / naive:0} tokens/s  ({naive:0.00}s)");
                Console.WriteLine($"  dynamic / naive  {naive / dynamic:0.00}x");
            }
            return 0;
        });
        return command;
    }

    /// <summary>fp32 against int8 on the same abstracts, interleaved so drift on a shared machine hits both alike.</summary>
    static int ComparePrecisions(ParseResult parse, List<string> papers, string source, Option<EmbeddingDevice> device, Option<int> batch, Option<int> threads, Option<int> workers)
    {
        using var fp32 = CommonOptions.LoadEmbedder(parse, device, batch, threads, workers, EmbeddingPrecision.Fp32);
        using var int8 = CommonOptions.LoadEmbedder(parse, device, batch, threads, workers, EmbeddingPrecision.Int8);
        Console.WriteLine($"bench embed: {papers.Count} abstracts from {source}; fp32 {fp32.ModelId} vs int8 {int8.ModelId}; batch {fp32.Options.BatchSize} (fp32), {int8.Options.BatchSize} (int8); {fp32.Options.EffectiveWorkers} workers x {fp32.Options.EffectiveThreads} threads");
        var warm = papers.Take(Math.Min(8, papers.Count)).ToList();
        fp32.Embed(warm);
        int8.Embed(warm);
        var rates = new Dictionary<EmbeddingPrecision, List<double>> { [EmbeddingPrecision.Fp32] = [], [EmbeddingPrecision.Int8] = [] };
        for (int round = 1; round <= 3; round++)
            foreach (var embedder in new[] { fp32, int8 })
            {
                double seconds = Time(embedder, papers, fixedPadding: false);
                rates[embedder.Precision].Add(papers.Count / seconds);
                Console.WriteLine($"  round {round} {embedder.Precision,-4}  {papers.Count / seconds:0.00} abstracts/s");
            }
        double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
        double a = Median(rates[EmbeddingPrecision.Fp32]), b = Median(rates[EmbeddingPrecision.Int8]);
        Console.WriteLine($"median: fp32 {a:0.00} abstracts/s, int8 {b:0.00} abstracts/s, int8 / fp32 {b / a:0.00}x");
        var x = fp32.Embed(papers);
        var y = int8.Embed(papers);
        var cosines = x.Zip(y, (u, v) => (double)System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(u, v)).ToList();
        Console.WriteLine($"cosine int8 vs fp32 over {cosines.Count} abstracts: mean {cosines.Average():0.00000}, min {cosines.Min():0.00000}");
        return 0;
    }

    static double Time(Embedder embedder, List<string> texts, bool fixedPadding)
    {
        var vectors = new float[texts.Count * embedder.Dimension];
        var clock = Stopwatch.StartNew();
        embedder.Embed(texts, vectors, null, fixedPadding);
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>Time the C# mean pooling + normalization takes for texts of these token counts.</summary>
    static double PoolingSeconds(int[] tokenCounts, int dim)
    {
        var states = new float[tokenCounts.Max() * dim];
        for (int i = 0; i < states.Length; i++) states[i] = (i % 97) / 97f - 0.5f;
        var vector = new float[dim];
        for (int warm = 0; warm < 3; warm++) Embedder.MeanPoolAndNormalize(states, tokenCounts[0], vector);
        var clock = Stopwatch.StartNew();
        foreach (int count in tokenCounts) Embedder.MeanPoolAndNormalize(states, count, vector);
        return clock.Elapsed.TotalSeconds;
    }

    static (List<string> Titles, List<string> Papers, string Source) LoadTexts(FileInfo? corpus, int limit)
    {
        var titles = new List<string>();
        var papers = new List<string>();
        if (corpus != null)
        {
            if (!corpus.Exists) throw new CliException($"no such file: {corpus.FullName}");
            foreach (var line in File.ReadLines(corpus.FullName))
            {
                if (papers.Count >= limit) break;
                if (string.IsNullOrWhiteSpace(line)) continue;
                using var doc = JsonDocument.Parse(line);
                string title = doc.RootElement.GetProperty("title").GetString() ?? "";
                string abstractText = doc.RootElement.TryGetProperty("abstract", out var a) ? a.GetString() ?? "" : "";
                titles.Add(title);
                papers.Add(PaperText.ForEmbedding(title, abstractText));
            }
            return (titles, papers, corpus.Name);
        }
        string digests = DefaultDigestFolder();
        foreach (var file in Directory.GetFiles(digests, "*.txt").Order())
            foreach (var paper in DigestParser.Parse(File.ReadAllText(file)).Papers.Take(limit - papers.Count))
            {
                titles.Add(paper.Title);
                papers.Add(PaperText.ForEmbedding(paper.Title, paper.Abstract));
            }
        return (titles, papers, digests);
    }

    /// <summary>The sample digests in this checkout (data/digests): the bench verbs' default texts and queries.</summary>
    internal static string DefaultDigestFolder() => Path.Combine(ModelFiles.RepositoryRoot(), "data", "digests");
}
