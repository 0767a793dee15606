using System.CommandLine;
using System.Numerics.Tensors;
using PaperVec.Digests;
using PaperVec.Embedding;

namespace PaperVec.Cli.Commands;

/// <summary>
/// `papervec search "text"`: semantic search over the papers of the digests in a folder (default
/// data/digests), ranked by cosine similarity.
/// </summary>
static class SearchCommand
{
    public static Command Create()
    {
        var query = new Argument<string>("TEXT") { Description = "What to look for: a few words or a whole abstract" };
        var digests = new Option<DirectoryInfo?>("--digests") { Description = "Folder of digest .txt files (default data/digests)" };
        var k = new Option<int>("--k") { Description = "How many results", DefaultValueFactory = _ => 10 };
        var device = CommonOptions.Device();
        var command = new Command("search", "Semantic search over ingested digests") { query, digests, k, device, CommonOptions.Batch(), CommonOptions.Threads() };
        command.SetAction(parse =>
        {
            string text = parse.GetValue(query)!;
            int top = parse.GetValue(k);
            if (string.IsNullOrWhiteSpace(text)) throw new UsageException("the search text is empty");
            if (top is < 1 or > 1000) throw new UsageException("--k must be within 1..1000");
            string folder = parse.GetValue(digests)?.FullName ?? DefaultDigestFolder();
            var papers = Directory.GetFiles(folder, "*.txt").Order()
                .SelectMany(f => DigestParser.Parse(File.ReadAllText(f)).Papers.Select(p => (File: Path.GetFileName(f), Paper: p)))
                .DistinctBy(p => p.Paper.Title.ToLowerInvariant()).ToList();
            if (papers.Count == 0) throw new CliException($"no papers found in {folder}");

            using var embedder = Embedder.Load(new EmbedderOptions { Device = parse.GetValue(device) });
            var vectors = new float[papers.Count * embedder.Dimension];
            using (var progress = new ConsoleProgress("ingest", papers.Count, "papers"))
                embedder.Embed(papers.Select(p => PaperText.ForEmbedding(p.Paper.Title, p.Paper.Abstract)).ToList(), vectors, d => progress.Report(d));
            var q = embedder.Embed(text);
            var ranked = Enumerable.Range(0, papers.Count)
                .Select(i => (Index: i, Score: TensorPrimitives.Dot(q, vectors.AsSpan(i * embedder.Dimension, embedder.Dimension))))
                .OrderByDescending(r => r.Score).Take(top).ToList();
            Console.WriteLine($"{papers.Count} papers from {folder}; top {ranked.Count} for \"{text}\":");
            foreach (var (index, score) in ranked)
                Console.WriteLine($"  {score:0.000}  {papers[index].Paper.Title}  [{papers[index].File}]");
            return 0;
        });
        return command;
    }

    internal static string DefaultDigestFolder() =>
        Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(ModelFiles.DefaultBuildDirectory())))!, "data", "digests");
}
