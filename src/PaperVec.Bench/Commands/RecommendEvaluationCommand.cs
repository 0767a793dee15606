using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using PaperVec.Digests;
using PaperVec.Engine;
using PaperVec.Recommend;
using PaperVec.Bench.Evaluation;
using PaperVec.Cli;
using PaperVec.Cli.Commands;

namespace PaperVec.Bench.Commands;

/// <summary>`papervec eval recommend`: recommendation strategies compared on the arXiv corpus (RecommendEvaluation).</summary>
static class RecommendEvaluationCommand
{
    public static Command Create()
    {
        var corpus = new Argument<FileInfo>("CORPUS") { Description = "arXiv records (JSON Lines: id, title, abstract, authors, categories, listing_date), e.g. ../shared/corpora/arxiv-cs-2025.jsonl" };
        var since = new Option<DateOnly>("--since") { Description = "Only papers listed on or after this date (libraries come from here on)", DefaultValueFactory = _ => new DateOnly(2025, 10, 15) };
        var testFrom = new Option<DateOnly>("--test-from") { Description = "Test days start here: libraries hold only papers listed before", DefaultValueFactory = _ => new DateOnly(2025, 12, 15) };
        var authors = CommonOptions.AtLeast(new Option<int>("--authors") { Description = "Author libraries to judge at most", DefaultValueFactory = _ => 300 }, 1);
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var data = DataOptions.Data();
        data.Description = "Data directory holding (or to ingest) the corpus; reused when it already holds the papers (default: a temporary one, deleted afterwards)";
        var device = CommonOptions.Device();
        var command = new Command("recommend", "Compare recommendation strategies on the arXiv corpus: author and category libraries ranking later days' listings (nDCG@10)")
            { corpus, since, testFrom, authors, json, data, device };
        command.SetAction(async parse =>
        {
            var file = parse.GetValue(corpus)!;
            if (!file.Exists) throw new CliException($"no such file: {file.FullName}");
            var clock = Stopwatch.StartNew();
            var papers = RecommendEvaluation.LoadCorpus(file.FullName, parse.GetValue(since));
            if (papers.Count == 0) throw new CliException($"no papers listed on or after {parse.GetValue(since):yyyy-MM-dd} in {file.Name}");
            string? given = parse.GetValue(data);
            string dir = given ?? Directory.CreateTempSubdirectory("papervec-recommend-").FullName;
            try
            {
                await using var collection = await PaperCollection.OpenAsync(dir);
                await IngestMissingAsync(collection, papers, parse.GetValue(device));
                var db = collection.Database;
                var tasks = RecommendEvaluation.Tasks(papers, id => db.Catalog.ResolveId(id), parse.GetValue(testFrom), parse.GetValue(authors), db);
                var tfidf = new TfIdfRanker(db);
                var rankers = new List<(string Name, Func<RecommendTask, IReadOnlyCollection<long>, Task<List<long>>> Rank)>
                {
                    ("centroid of liked (minus disliked)", (t, l) => RecommendEvaluation.EngineRankingAsync(db, t, l, RecommendStrategy.Centroid)),
                    ("best single match among liked", (t, l) => RecommendEvaluation.EngineRankingAsync(db, t, l, RecommendStrategy.BestMatch)),
                    ("linear classifier on embeddings", (t, l) => RecommendEvaluation.EngineRankingAsync(db, t, l, RecommendStrategy.Classifier)),
                    ("linear classifier on tf-idf", (t, l) => Task.FromResult(tfidf.Rank(t.Liked, t.Disliked, l))),
                    ("BM25 of the library's terms", (t, l) => RecommendEvaluation.EngineRankingAsync(db, t, l, RecommendStrategy.Hybrid, semanticWeight: 0)),
                    ("hybrid: classifier 0.5 + BM25 0.5", (t, l) => RecommendEvaluation.EngineRankingAsync(db, t, l, RecommendStrategy.Hybrid, semanticWeight: 0.5)),
                    ("hybrid: classifier 0.7 + BM25 0.3", (t, l) => RecommendEvaluation.EngineRankingAsync(db, t, l, RecommendStrategy.Hybrid, semanticWeight: 0.7)),
                    ("classifiers on embeddings 0.5 + on tf-idf 0.5", async (t, l) => RecommendEvaluation.Fuse(
                        await RecommendEvaluation.EngineScoresAsync(db, t, l, RecommendStrategy.Classifier), tfidf.Scores(t.Liked, t.Disliked, l), 0.5)),
                };
                var kinds = new[] { "author", "category", "category+disliked" };
                var rows = new List<(string Name, double[] Ndcg)>();
                foreach (var (name, rank) in rankers)
                {
                    var scores = new double[kinds.Length];
                    for (int k = 0; k < kinds.Length; k++)
                    {
                        string kind = kinds[k];
                        scores[k] = await RecommendEvaluation.MeanNdcgAsync(tasks.Where(t => t.Kind == kind), rank) * 100;
                    }
                    rows.Add((name, scores));
                    Console.Error.WriteLine($"  {name}: {string.Join(" / ", scores.Select(s => s.ToString("0.00")))}");
                }
                var counts = kinds.Select(kind => (Libraries: tasks.Count(t => t.Kind == kind), Days: tasks.Where(t => t.Kind == kind).Sum(t => t.Days.Count))).ToArray();
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(new
                    {
                        papers = papers.Count, testFrom = parse.GetValue(testFrom), tasks = kinds.Select((k, i) => new { kind = k, libraries = counts[i].Libraries, days = counts[i].Days }),
                        rows = rows.Select(r => new { strategy = r.Name, author = Math.Round(r.Ndcg[0], 2), category = Math.Round(r.Ndcg[1], 2), categoryDisliked = Math.Round(r.Ndcg[2], 2) }),
                    }, JsonSerializerOptions.Web));
                    return 0;
                }
                Console.WriteLine($"{papers.Count} papers listed {parse.GetValue(since):yyyy-MM-dd}..; test days from {parse.GetValue(testFrom):yyyy-MM-dd}; nDCG@10 of each day's listing, mean over (library, day)");
                Console.WriteLine($"| strategy | author ({counts[0].Libraries} libraries, {counts[0].Days} days) | category ({counts[1].Libraries}, {counts[1].Days}) | category + not interested ({counts[2].Libraries}, {counts[2].Days}) |");
                Console.WriteLine("|---|---:|---:|---:|");
                foreach (var (name, ndcg) in rows) Console.WriteLine($"| {name} | {ndcg[0]:0.00} | {ndcg[1]:0.00} | {ndcg[2]:0.00} |");
                Console.WriteLine($"({clock.Elapsed.TotalSeconds:0}s)");
                return 0;
            }
            finally { if (given == null) Directory.Delete(dir, true); }
        });
        return command;
    }

    /// <summary>Ingests (embedding them) the corpus papers the data directory does not hold yet, through PaperVec's own ingest.</summary>
    static async Task IngestMissingAsync(PaperCollection collection, List<ListedPaper> papers, Embedding.EmbeddingDevice device)
    {
        var missing = papers.Where(p => collection.Database.Catalog.ResolveId(p.Id) == null).ToList();
        if (missing.Count == 0) return;
        using var embedder = Embedding.Embedder.Load(new Embedding.EmbedderOptions { Device = device });
        await DataOptions.AttachModelAsync(collection, embedder);
        using var progress = new ConsoleProgress("ingesting", missing.Count, "papers");
        for (int start = 0; start < missing.Count; start += 256)
        {
            var batch = missing.Skip(start).Take(256).Select(p => new IncomingPaper(p.Title, p.Abstract)
            {
                SourceId = p.Id, Authors = string.Join(", ", p.Authors), Categories = string.Join(" ", p.Categories), Date = p.Listed,
            }).ToList();
            await collection.IngestAsync(batch);
            progress.Report(Math.Min(missing.Count, start + 256));
        }
    }
}
