using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using PaperVec.Embedding;
using PaperVec.Tooling.Evaluation;
using PaperVec.Index;
using PaperVec.Storage;

namespace PaperVec.Cli.Commands;

/// <summary>`papervec eval beir DIR`: retrieval quality (nDCG@10, recall@100) on a BEIR-format set.</summary>
static class EvalCommands
{
    public static Command Create() => new("eval", "Measure search and duplicate-detection quality") { Beir(), DupesEvaluationCommands.Eval() };

    static Command Beir()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv" };
        var cache = new Option<DirectoryInfo?>("--cache") { Description = "Keep the corpus vectors in this folder and reuse them when the model and corpus are unchanged" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var indexKind = new Option<string>("--index") { Description = "Rank with: exact (cosine against every document) or hnsw (PaperVec's HNSW index, default settings)", DefaultValueFactory = _ => "exact" };
        indexKind.AcceptOnlyFromAmong("exact", "hnsw");
        var device = CommonOptions.Device();
        var batch = CommonOptions.Batch();
        var threads = CommonOptions.Threads();
        var workers = CommonOptions.Workers();
        var command = new Command("beir", "Embed a BEIR set, rank by exact cosine, print nDCG@10 and recall@100") { directory, cache, json, indexKind, device, batch, threads, workers };
        command.SetAction(parse =>
        {
            var dir = parse.GetValue(directory)!;
            if (!dir.Exists) throw new CliException($"no such folder: {dir.FullName}");
            var data = BeirDataset.Load(dir.FullName);
            using var embedder = CommonOptions.LoadEmbedder(parse, device, batch, threads, workers);
            int dim = embedder.Dimension;
            var clock = Stopwatch.StartNew();

            var docTexts = data.Corpus.Select(d => PaperText.ForEmbedding(d.Title, d.Text)).ToList();
            float[] docs = CachedOrEmbed(embedder, docTexts, parse.GetValue(cache));
            var queryIds = data.Qrels.Keys.Where(data.Queries.ContainsKey).ToList();
            var queryVectors = new float[queryIds.Count * dim];
            using (var progress = new ConsoleProgress("queries", queryIds.Count, "texts"))
                embedder.Embed(queryIds.Select(q => data.Queries[q]).ToList(), queryVectors, d => progress.Report(d));

            var rankings = new Dictionary<string, IReadOnlyList<string>>();
            string kind = parse.GetValue(indexKind)!;
            if (kind == "hnsw")
            {
                using var index = new HnswIndex(dim, new HnswOptions { InitialCapacity = data.Corpus.Count });
                using (var progress = new ConsoleProgress("indexing", data.Corpus.Count, "docs"))
                {
                    int added = 0;
                    Parallel.For(0, data.Corpus.Count, d =>
                    {
                        index.Add(d, docs.AsSpan(d * dim, dim));
                        int n = Interlocked.Increment(ref added);
                        if (n % 500 == 0) lock (progress) progress.Report(n);
                    });
                    progress.Report(data.Corpus.Count);
                }
                for (int q = 0; q < queryIds.Count; q++)
                    rankings[queryIds[q]] = index.Search(queryVectors.AsSpan(q * dim, dim), 101, Math.Max(101, index.Options.DefaultEfSearch))
                        .Select(h => data.Corpus[(int)h.Id].Id).ToList();
            }
            else
            {
                using var exact = new ExactIndex(dim, data.Corpus.Count);
                for (int d = 0; d < data.Corpus.Count; d++) exact.Add(d, docs.AsSpan(d * dim, dim));
                for (int q = 0; q < queryIds.Count; q++)
                    rankings[queryIds[q]] = exact.Search(queryVectors.AsSpan(q * dim, dim), 101)
                        .Select(h => data.Corpus[(int)h.Id].Id).ToList();
            }
            var (ndcg, recall) = RetrievalMetrics.Evaluate(data, q => rankings.TryGetValue(q, out var r) ? r : []);
            if (parse.GetValue(json))
                Console.WriteLine($"{{\"dataset\":\"{dir.Name}\",\"model\":\"{embedder.ModelId}\",\"index\":\"{kind}\",\"queries\":{queryIds.Count},\"documents\":{data.Corpus.Count},\"ndcg10\":{ndcg * 100:0.00},\"recall100\":{recall * 100:0.00}}}");
            else
            {
                Console.WriteLine($"{dir.Name}: {data.Corpus.Count} documents, {queryIds.Count} judged queries, model {embedder.ModelId}, {(kind == "hnsw" ? "HNSW index (M=16, efConstruction=200, ef=101)" : "exact cosine")}");
                Console.WriteLine($"nDCG@10    {ndcg * 100:0.00}");
                Console.WriteLine($"recall@100 {recall * 100:0.00}");
                Console.WriteLine($"({clock.Elapsed.TotalSeconds:0}s)");
            }
            return 0;
        });
        return command;
    }

    internal static float[] CachedOrEmbed(Embedder embedder, List<string> texts, DirectoryInfo? cacheDir, string name = "beir")
    {
        string? cachePath = null;
        if (cacheDir != null)
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(embedder.ModelId + "\n" + string.Join("\n", texts)));
            cachePath = Path.Combine(cacheDir.FullName, $"{name}-{Convert.ToHexStringLower(hash)[..16]}.f32");
            if (File.Exists(cachePath) && new FileInfo(cachePath).Length == (long)texts.Count * embedder.Dimension * 4)
            {
                Console.Error.WriteLine($"corpus vectors from {cachePath}");
                return MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(cachePath)).ToArray();
            }
        }
        var vectors = new float[texts.Count * embedder.Dimension];
        using (var progress = new ConsoleProgress($"embedding {name} texts", texts.Count, "texts"))
            embedder.Embed(texts, vectors, d => progress.Report(d));
        if (cachePath != null)
        {
            Directory.CreateDirectory(cacheDir!.FullName);
            AtomicFile.Write(cachePath, MemoryMarshal.AsBytes(vectors.AsSpan()));
        }
        return vectors;
    }
}
