using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using PaperVec.Embedding;
using PaperVec.Bench.Evaluation;
using PaperVec.Index;
using PaperVec.Bench.Baselines;
using PaperVec.Ingest;
using PaperVec.Engine;
using PaperVec.Search;
using PaperVec.Storage;
using PaperVec.Cli.Common;

namespace PaperVec.Bench.Commands;

/// <summary>`papervec eval beir DIR`: retrieval quality (nDCG@10, recall@100) on a BEIR-format set.</summary>
static class EvalCommands
{
    public static Command Create() => new("eval", "Measure search, recommendation and duplicate-detection quality") { Beir(), RecommendEvaluationCommand.Create(), DupesEvaluationCommands.Eval() };

    static Command Beir()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv" };
        var cache = new Option<DirectoryInfo?>("--cache") { Description = "Keep the corpus vectors in this folder and reuse them when the model and corpus are unchanged" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var indexKind = new Option<string>("--index") { Description = "Rank with: engine (ingest the corpus into a data directory and ask PaperVec's own search, in --mode), exact (cosine against every document) or hnsw (a bare HNSW index)", DefaultValueFactory = _ => "engine" };
        indexKind.AcceptOnlyFromAmong("engine", "exact", "hnsw");
        var mode = new Option<string>("--mode") { Description = "With --index engine: hybrid, semantic or lexical", DefaultValueFactory = _ => "hybrid" };
        var fusion = new Option<string>("--fusion") { Description = "Hybrid fusion to measure: convex or rrf (default: PaperVec's)" };
        fusion.AcceptOnlyFromAmong("convex", "rrf");
        var weight = new Option<double?>("--weight") { Description = "Convex fusion: weight of the semantic score, 0..1 (default: PaperVec's)" };
        var dataOption = DataOptions.Data();
        dataOption.Description = "With --index engine: the data directory to ingest into (default: a temporary one, deleted afterwards)";
        var device = CommonOptions.Device();
        var batch = CommonOptions.Batch();
        var threads = CommonOptions.Threads();
        var workers = CommonOptions.Workers();
        var precision = CommonOptions.Precision();
        var command = new Command("beir", "Search a BEIR set through PaperVec (or a bare index), print nDCG@10 and recall@100") { directory, cache, json, indexKind, mode, fusion, weight, dataOption, device, batch, threads, workers, precision };
        command.SetAction(async parse =>
        {
            var dir = parse.GetValue(directory)!;
            if (!dir.Exists) throw new CliException($"no such folder: {dir.FullName}");
            var data = BeirDataset.Load(dir.FullName);
            using var embedder = CommonOptions.LoadEmbedder(parse, device, batch, threads, workers, parse.GetValue(precision));
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
            SearchMode searchMode;
            try { searchMode = SearchQuery.ParseMode(parse.GetValue(mode)); }
            catch (InvalidDataException e) { throw new UsageException(e.Message); }
            var query = new SearchQuery("", null, searchMode);
            if (parse.GetValue(fusion) is { } f) query = query with { Fusion = f == "rrf" ? Fusion.ReciprocalRank : Fusion.Convex };
            if (parse.GetValue(weight) is double w) query = query with { SemanticWeight = w is >= 0 and <= 1 ? w : throw new UsageException("--weight must be within 0..1") };
            if (kind == "engine")
                await EngineRankingsAsync(data, docs, queryIds, queryVectors, dim, query, parse.GetValue(dataOption), rankings);
            else if (kind == "hnsw")
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
                Console.WriteLine($"{{\"dataset\":\"{dir.Name}\",\"model\":\"{embedder.ModelId}\",\"index\":\"{kind}\",\"mode\":\"{searchMode.ToString().ToLowerInvariant()}\",\"queries\":{queryIds.Count},\"documents\":{data.Corpus.Count},\"ndcg10\":{ndcg * 100:0.00},\"recall100\":{recall * 100:0.00}}}");
            else
            {
                string how = kind switch
                {
                    "hnsw" => "HNSW index (M=16, efConstruction=200, ef=101)",
                    "exact" => "exact cosine",
                    _ => $"PaperVec search, {searchMode.ToString().ToLowerInvariant()}" + (searchMode == SearchMode.Hybrid
                        ? $" ({(query.Fusion == Fusion.ReciprocalRank ? "reciprocal rank fusion" : $"convex, semantic weight {query.SemanticWeight:0.##}")})" : ""),
                };
                Console.WriteLine($"{dir.Name}: {data.Corpus.Count} documents, {queryIds.Count} judged queries, model {embedder.ModelId}, {how}");
                Console.WriteLine($"nDCG@10    {ndcg * 100:0.00}");
                Console.WriteLine($"recall@100 {recall * 100:0.00}");
                Console.WriteLine($"({clock.Elapsed.TotalSeconds:0}s)");
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Ingests the corpus (with its vectors) through PaperVec's own ingest path into a data
    /// directory and ranks every query with PaperVec's own search in the query's mode. A document
    /// PaperVec merges with another (the same normalized title) ranks under each of its ids.
    /// </summary>
    static async Task EngineRankingsAsync(BeirDataset data, float[] docs, List<string> queryIds, float[] queryVectors, int dim, SearchQuery query,
        string? dataPath, Dictionary<string, IReadOnlyList<string>> rankings)
    {
        string dir = dataPath ?? Directory.CreateTempSubdirectory("papervec-beir-").FullName;
        try
        {
            await using var collection = await PaperCollection.OpenAsync(dir);
            var papers = new List<IncomingPaper>();
            int refused = 0;
            for (int d = 0; d < data.Corpus.Count; d++)
            {
                var doc = data.Corpus[d];
                var paper = new IncomingPaper(doc.Title.Trim().Length > 0 ? doc.Title : doc.Id, doc.Text) { SourceId = doc.Id, Vector = docs.AsSpan(d * dim, dim).ToArray() };
                try { PaperLimits.Check(paper, $"document {doc.Id}"); papers.Add(paper); }
                catch (InvalidDataException) { refused++; }
            }
            using (var progress = new ConsoleProgress("ingesting", papers.Count, "docs"))
                for (int start = 0; start < papers.Count; start += 1000)
                {
                    await collection.IngestAsync(papers.Skip(start).Take(1000).ToList());
                    progress.Report(Math.Min(papers.Count, start + 1000));
                }
            if (refused > 0) Console.Error.WriteLine($"papervec: {refused} documents refused by PaperVec's limits (they rank nowhere)");
            var idsOf = collection.Database.Catalog.SourceIdAliases.GroupBy(a => a.Value).ToDictionary(g => g.Key, g => g.Select(a => a.Key).Order(StringComparer.Ordinal).ToList());
            using var queries = new ConsoleProgress("searching", queryIds.Count, "queries");
            for (int q = 0; q < queryIds.Count; q++)
            {
                var results = await collection.SearchAsync(query with { Text = data.Queries[queryIds[q]], Vector = queryVectors.AsSpan(q * dim, dim).ToArray() }, new SearchScope { K = 101 });
                rankings[queryIds[q]] = results.SelectMany(r => PaperIdentity.TryParse(r.Id, out long key) && idsOf.TryGetValue(key, out var ids) ? ids : [r.Id]).Distinct().Take(101).ToList();
                if (q % 50 == 0) queries.Report(q);
            }
            queries.Report(queryIds.Count);
        }
        finally { if (dataPath == null) Directory.Delete(dir, true); }
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
