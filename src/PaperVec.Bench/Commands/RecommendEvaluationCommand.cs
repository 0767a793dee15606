using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using PaperVec.Ingest;
using PaperVec.Engine;
using PaperVec.Recommend;
using PaperVec.Bench.Evaluation;
using PaperVec.Search;
using PaperVec.Storage;
using PaperVec.Cli.Common;

namespace PaperVec.Bench.Commands;

/// <summary>`papervec eval recommend`: recommendation strategies compared on the arXiv corpus (RecommendEvaluation).</summary>
static class RecommendEvaluationCommand
{
    public static Command Create()
    {
        var corpus = new Argument<FileInfo>("CORPUS") { Description = "arXiv records (JSON Lines: id, title, abstract, authors, categories, listing_date), e.g. ../shared/corpora/arxiv-cs-2025.jsonl" };
        var since = new Option<DateOnly>("--since") { Description = "Only papers listed on or after this date (libraries come from here on)", DefaultValueFactory = _ => new DateOnly(2025, 10, 15) };
        var testFrom = new Option<DateOnly>("--test-from") { Description = "Test days start here: libraries hold only papers listed before", DefaultValueFactory = _ => new DateOnly(2025, 12, 15) };
        var authors = CommonOptions.AtLeast(new Option<int>("--authors") { Description = "Author libraries to judge at most, per size", DefaultValueFactory = _ => 100 }, 1);
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var data = DataOptions.Data();
        data.Description = "Data directory holding (or to ingest) the corpus; reused when it already holds the papers (default: a temporary one, deleted afterwards)";
        var device = CommonOptions.Device();
        var command = new Command("recommend", "Compare recommendation strategies by library size (1, 3, 5, 10, 50 liked) on the arXiv corpus: MRR, hit@10, nDCG@10 of later days' listings, tuning and test parts")
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
                var tasks = LibrarySizeEvaluation.Tasks(papers, id => db.Catalog.ResolveId(id), parse.GetValue(testFrom), parse.GetValue(authors), db);
                var source = new CachingRecommendSource(new StoredPapersSource(db));
                LibraryComponent[] all = Enum.GetValues<LibraryComponent>();
                // Each task is scored once per component (and once by today's default); every row below is computed from those scores.
                var scored = new List<(SizedTask Task, Dictionary<LibraryComponent, Dictionary<long, double>> Z, Dictionary<LibraryComponent, Dictionary<long, double>> Raw, List<long> Hybrid)>();
                using (var progress = new ConsoleProgress("scoring", tasks.Count, "rankings"))
                    foreach (var task in tasks)
                    {
                        var query = new RecommendQuery(task.Liked, task.Disliked) { Candidates = task.Listing, Fusion = [.. all.Select(c => (c, 1.0))] };
                        var pool = await Recommender.ScoreComponentsAsync(source, query, new SearchScope { K = 10 });
                        var z = all.ToDictionary(c => c, c => ScoredPool.Fuse(pool.Components, [(c, 1.0)], pool.Judged, out _));
                        var hybrid = await Recommender.RankAsync(source, query with { Strategy = RecommendStrategy.Hybrid, Fusion = null },
                            new SearchScope { K = Math.Clamp(task.Listing.Count, 1, SearchScope.MaxK) });
                        scored.Add((task, z, pool.Components.ToDictionary(c => c.Key, c => c.Value), hybrid.Select(r => PaperIdentity.TryParse(r.Id, out long key) ? key : 0).ToList()));
                        progress.Report(scored.Count);
                    }
                Dictionary<long, double> Sum(Dictionary<LibraryComponent, Dictionary<long, double>> z, IEnumerable<(LibraryComponent C, double W)> weights)
                {
                    var sum = new Dictionary<long, double>();
                    foreach (var (c, w) in weights)
                        foreach (var (key, v) in z[c]) sum[key] = sum.GetValueOrDefault(key) + w * v;
                    return sum;
                }
                (double Rr, double Hit, double Ndcg) Mean(IEnumerable<(SizedTask Task, Dictionary<LibraryComponent, Dictionary<long, double>> Z, Dictionary<LibraryComponent, Dictionary<long, double>> Raw, List<long> Hybrid)> part,
                    Func<(SizedTask Task, Dictionary<LibraryComponent, Dictionary<long, double>> Z, Dictionary<LibraryComponent, Dictionary<long, double>> Raw, List<long> Hybrid), List<long>> rank)
                {
                    var m = part.Select(s => LibrarySizeEvaluation.Measure(rank(s), s.Task.Wanted)).ToList();
                    return m.Count == 0 ? (0, 0, 0) : (m.Average(x => x.Rr), m.Average(x => x.Hit), m.Average(x => x.Ndcg));
                }
                // Weights tried for the tuned fusion: 0, 1 or 2 for each of four components.
                LibraryComponent[] tuned = [LibraryComponent.TermCentroid, LibraryComponent.TermClassifier, LibraryComponent.BestMatch, LibraryComponent.Classifier];
                var grid = new List<(LibraryComponent, double)[]>();
                for (int code = 1; code < 81; code++)
                {
                    var weights = new List<(LibraryComponent, double)>();
                    for (int i = 0, c = code; i < tuned.Length; i++, c /= 3) if (c % 3 > 0) weights.Add((tuned[i], c % 3));
                    grid.Add([.. weights]);
                }
                var best = new Dictionary<int, (LibraryComponent C, double W)[]>();
                foreach (int size in LibrarySizeEvaluation.Sizes)
                {
                    var tuning = scored.Where(s => s.Task.Size == size && s.Task.Tuning).ToList();
                    best[size] = grid.OrderByDescending(g => Mean(tuning, s => LibrarySizeEvaluation.Ranked(Sum(s.Z, g))) is var m ? m.Rr + m.Ndcg : 0).First();
                }
                // One fusion for every size, chosen on the whole tuning part (5x the rankings a single size has there, so less fitted to noise).
                var allTuning = scored.Where(s => s.Task.Tuning).ToList();
                var global = grid.OrderByDescending(g => LibrarySizeEvaluation.Sizes.Average(size =>
                    Mean(allTuning.Where(s => s.Task.Size == size), s => LibrarySizeEvaluation.Ranked(Sum(s.Z, g))) is var m ? m.Rr + m.Ndcg : 0)).First();
                string Describe((LibraryComponent C, double W)[] weights) => string.Join(" + ", weights.Select(w => $"{w.W:0.#} {w.C}"));
                var rows = new List<(string Name, Func<(SizedTask Task, Dictionary<LibraryComponent, Dictionary<long, double>> Z, Dictionary<LibraryComponent, Dictionary<long, double>> Raw, List<long> Hybrid), List<long>> Rank)>
                {
                    ("today's default: embedding classifier + BM25 of the library's terms (Hybrid)", s => s.Hybrid),
                    ("MiniLM centroid (Centroid)", s => LibrarySizeEvaluation.Ranked(s.Raw[LibraryComponent.Centroid])),
                    ("best single liked match, MiniLM (BestMatch)", s => LibrarySizeEvaluation.Ranked(s.Raw[LibraryComponent.BestMatch])),
                    ("linear classifier on embeddings (Classifier)", s => LibrarySizeEvaluation.Ranked(s.Raw[LibraryComponent.Classifier])),
                    ("tf-idf centroid of title + abstract (TermCentroid, baseline)", s => LibrarySizeEvaluation.Ranked(s.Raw[LibraryComponent.TermCentroid])),
                    ("best single liked match, tf-idf (TermBestMatch)", s => LibrarySizeEvaluation.Ranked(s.Raw[LibraryComponent.TermBestMatch])),
                    ("linear SVM on 1-2-gram tf-idf, C=0.1, balanced (TermClassifier)", s => LibrarySizeEvaluation.Ranked(s.Raw[LibraryComponent.TermClassifier])),
                    ("z-sum: tf-idf centroid + best match", s => LibrarySizeEvaluation.Ranked(Sum(s.Z, [(LibraryComponent.TermCentroid, 1), (LibraryComponent.BestMatch, 1)]))),
                    ("z-sum: tf-idf SVM + embedding classifier", s => LibrarySizeEvaluation.Ranked(Sum(s.Z, [(LibraryComponent.TermClassifier, 1), (LibraryComponent.Classifier, 1)]))),
                    ("z-sum: all six", s => LibrarySizeEvaluation.Ranked(Sum(s.Z, all.Select(c => (c, 1.0))))),
                    ("rank fusion: tf-idf centroid + best match", s => LibrarySizeEvaluation.Ranked(LibrarySizeEvaluation.RankFusion([s.Raw[LibraryComponent.TermCentroid], s.Raw[LibraryComponent.BestMatch]]))),
                    ("z-sum tuned per size on the tuning part", s => LibrarySizeEvaluation.Ranked(Sum(s.Z, best[s.Task.Size]))),
                    ("z-sum tuned over all sizes on the tuning part", s => LibrarySizeEvaluation.Ranked(Sum(s.Z, global))),
                    ("**default: Fused, Recommender.DefaultFusion(size)**", s => LibrarySizeEvaluation.Ranked(Sum(s.Z, Recommender.DefaultFusion(s.Task.Size)))),
                };
                var table = new List<object>();
                foreach (var (partName, tuning) in new[] { ("tuning", true), ("test", false) })
                {
                    var part = scored.Where(s => s.Task.Tuning == tuning).ToList();
                    var counts = LibrarySizeEvaluation.Sizes.Select(size => part.Count(s => s.Task.Size == size)).ToArray();
                    if (!parse.GetValue(json))
                    {
                        Console.WriteLine();
                        Console.WriteLine($"{partName} part: MRR / hit@10 / nDCG@10 by library size (rankings: {string.Join(", ", LibrarySizeEvaluation.Sizes.Select((size, i) => $"{size}: {counts[i]}"))})");
                        Console.WriteLine("| strategy | " + string.Join(" | ", LibrarySizeEvaluation.Sizes.Select(size => $"{size} liked")) + " |");
                        Console.WriteLine("|---|" + string.Concat(LibrarySizeEvaluation.Sizes.Select(_ => "---:|")));
                    }
                    foreach (var (name, rank) in rows)
                    {
                        var cells = LibrarySizeEvaluation.Sizes.Select(size => Mean(part.Where(s => s.Task.Size == size), rank)).ToList();
                        if (parse.GetValue(json))
                            table.Add(new { part = partName, strategy = name, sizes = LibrarySizeEvaluation.Sizes.Zip(cells, (size, c) => new { size, mrr = Math.Round(c.Rr, 3), hit10 = Math.Round(c.Hit, 3), ndcg10 = Math.Round(c.Ndcg, 3) }) });
                        else Console.WriteLine($"| {name} | " + string.Join(" | ", cells.Select(c => $"{c.Rr:0.000} / {c.Hit:0.000} / {c.Ndcg:0.000}")) + " |");
                    }
                }
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(new { papers = papers.Count, testFrom = parse.GetValue(testFrom), tuned = best.ToDictionary(b => b.Key.ToString(), b => Describe(b.Value)), tunedEverySize = Describe(global), rows = table }, JsonSerializerOptions.Web));
                    return 0;
                }
                Console.WriteLine();
                Console.WriteLine($"{papers.Count} papers listed {parse.GetValue(since):yyyy-MM-dd}..; libraries before {parse.GetValue(testFrom):yyyy-MM-dd}, each ranking a {LibrarySizeEvaluation.ListingSize}-paper listing of a later day; proxies: " +
                    string.Join(", ", tasks.GroupBy(t => t.Proxy).Select(g => $"{g.Key} {g.Count()}")));
                foreach (var (size, weights) in best) Console.WriteLine($"tuned on the tuning part, {size} liked: {Describe(weights)}");
                Console.WriteLine($"tuned on the tuning part, every size: {Describe(global)}");
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
