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
        var authors = CommonOptions.AtLeast(new Option<int>("--authors") { Description = "Author libraries, and author-pair libraries, to judge at most per size", DefaultValueFactory = _ => 200 }, 1);
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var previous = new Option<bool>("--previous-default") { Description = "Also rank by the default before issue 28 (Hybrid: embedding classifier + BM25 of the library's terms; slower)" };
        var data = DataOptions.Data();
        data.Description = "Data directory holding (or to ingest) the corpus; reused when it already holds the papers (default: a temporary one, deleted afterwards)";
        var device = CommonOptions.Device();
        var command = new Command("recommend", "Compare recommendation strategies by library size (1, 3, 5, 10, 50 liked) on the arXiv corpus: MRR, hit@10, nDCG@10 of later days' listings, tuning and test parts")
            { corpus, since, testFrom, authors, json, previous, data, device };
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
                var tasks = LibrarySizeEvaluation.Tasks(papers, id => db.Catalog.ResolveId(id), parse.GetValue(testFrom), parse.GetValue(authors),
                    (liked, allowed, count) => LibrarySizeEvaluation.NearMisses(db, liked, allowed, count));
                var source = new CachingRecommendSource(new StoredPapersSource(db));
                bool withHybrid = parse.GetValue(previous);
                // Each task is scored once per component (and, when asked, once by the previous default); every row below is computed from those scores.
                var scored = new ScoredTask?[tasks.Count];
                int done = 0;
                using (var progress = new ConsoleProgress("scoring", tasks.Count, "rankings"))
                    await Parallel.ForEachAsync(Enumerable.Range(0, tasks.Count), new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, async (i, cancel) =>
                    {
                        var task = tasks[i];
                        var query = new RecommendQuery(task.Liked, task.Disliked) { Candidates = task.Listing, Fusion = [.. All.Select(c => (c, 1.0))] };
                        var pool = await Recommender.ScoreComponentsAsync(source, query, new SearchScope { K = 10 });
                        var keys = pool.Components[LibraryComponent.Centroid].Keys.Order().ToArray();
                        var z = All.ToDictionary(c => c, c => ScoredPool.Fuse(pool.Components, [(c, 1.0)], pool.Judged, out _) is var f ? keys.Select(k => f[k]).ToArray() : null!);
                        var raw = All.ToDictionary(c => c, c => keys.Select(k => pool.Components[c][k]).ToArray());
                        List<long>? hybrid = null;
                        if (withHybrid)
                            hybrid = (await Recommender.RankAsync(source, query with { Strategy = RecommendStrategy.Hybrid, Fusion = null },
                                new SearchScope { K = Math.Clamp(task.Listing.Count, 1, SearchScope.MaxK) })).Select(r => PaperIdentity.TryParse(r.Id, out long key) ? key : 0).ToList();
                        scored[i] = new ScoredTask(task, keys, keys.Select(task.Wanted.Contains).ToArray(), z, raw, hybrid);
                        progress.Report(Interlocked.Increment(ref done));
                    });
                var all = scored.Select(s => s!).ToList();
                double scoringSeconds = clock.Elapsed.TotalSeconds;

                // Weightings tried for the tuned fusions: 0, 1 or 2 for each of five components (242 in all).
                LibraryComponent[] tuned = [LibraryComponent.TermCentroid, LibraryComponent.TermBestMatch, LibraryComponent.TermClassifier, LibraryComponent.BestMatch, LibraryComponent.Classifier];
                var grid = new List<(LibraryComponent C, double W)[]>();
                for (int code = 1; code < 243; code++)
                {
                    var weights = new List<(LibraryComponent, double)>();
                    for (int i = 0, c = code; i < tuned.Length; i++, c /= 3) if (c % 3 > 0) weights.Add((tuned[i], c % 3));
                    grid.Add([.. weights]);
                }
                // Every weighting measured on every tuning ranking once; the choices below only average these.
                var tuningTasks = all.Where(s => s.Task.Tuning).ToList();
                var gridScores = grid.Select(g => tuningTasks.Select(s => s.Measure(s.Sum(g))).ToArray()).ToArray();
                double Objective(int g, Func<int, bool> which)
                {
                    double sum = 0;
                    int count = 0;
                    for (int i = 0; i < tuningTasks.Count; i++)
                        if (which(i)) { sum += gridScores[g][i].Rr + gridScores[g][i].Ndcg; count++; }
                    return count == 0 ? 0 : sum / count;
                }
                // Sizes weigh alike whatever their ranking counts.
                (LibraryComponent C, double W)[] Best(IReadOnlyCollection<int> sizes, Func<int, bool> which) =>
                    grid[Enumerable.Range(0, grid.Count).OrderByDescending(g => sizes.Average(size => Objective(g, i => tuningTasks[i].Task.Size == size && which(i)))).ThenBy(g => g).First()];
                var perSize = LibrarySizeEvaluation.Sizes.ToDictionary(size => size, size => Best([size], _ => true));
                var small = Best([1, 3], _ => true);
                var large = Best([5, 10, 50], _ => true);
                var global = Best(LibrarySizeEvaluation.Sizes, _ => true);
                // How finely to tune (per size, 1-3 and 5-50, one for every size) is itself decided on the tuning part
                // alone: two-fold cross-validation inside it (weights chosen on one half, measured on the other).
                var fold = tuningTasks.Select(s => LibrarySizeEvaluation.Fold(s.Task)).ToArray();
                var granularities = new (string Name, int[][] Groups)[]
                {
                    ("per size", [.. LibrarySizeEvaluation.Sizes.Select(size => new[] { size })]),
                    ("1-3 and 5-50 liked", [[1, 3], [5, 10, 50]]),
                    ("one for every size", [LibrarySizeEvaluation.Sizes]),
                };
                var crossValidated = granularities.Select(gr => (gr.Name, Score: new[] { 0, 1 }.Average(f => gr.Groups.SelectMany(group =>
                {
                    var chosen = Best(group, i => fold[i] != f);
                    int g = grid.FindIndex(x => x.SequenceEqual(chosen));
                    return group.Select(size => Objective(g, i => tuningTasks[i].Task.Size == size && fold[i] == f));
                }).Average()))).ToList();
                // The weights the cross-validation's granularity picks, tuned on the whole tuning part: what Recommender.DefaultFusion must be.
                string picked = crossValidated.MaxBy(c => c.Score).Name;
                (LibraryComponent C, double W)[] Picked(int size) => picked switch
                {
                    "per size" => perSize[size],
                    "1-3 and 5-50 liked" => size <= 3 ? small : large,
                    _ => global,
                };
                string Describe(IEnumerable<(LibraryComponent C, double W)> weights) => string.Join(" + ", weights.Select(w => $"{w.W:0.#} {w.C}"));

                var rows = new List<(string Name, Func<ScoredTask, (double Rr, double Hit, double Ndcg)> Measure)>();
                if (withHybrid) rows.Add(("embedding classifier + BM25 of the library's terms (Hybrid, the default before issue 28)", s => LibrarySizeEvaluation.Measure(s.Hybrid!, s.Task.Wanted)));
                rows.AddRange([
                    ("MiniLM centroid (Centroid)", s => s.Measure(s.Raw[LibraryComponent.Centroid])),
                    ("best single liked match, MiniLM (BestMatch, baseline)", s => s.Measure(s.Raw[LibraryComponent.BestMatch])),
                    ("linear classifier on embeddings (Classifier)", s => s.Measure(s.Raw[LibraryComponent.Classifier])),
                    ("tf-idf centroid of title + abstract (TermCentroid, baseline)", s => s.Measure(s.Raw[LibraryComponent.TermCentroid])),
                    ("max-sim on tf-idf: best single liked match in term space (TermBestMatch)", s => s.Measure(s.Raw[LibraryComponent.TermBestMatch])),
                    ("linear SVM on 1-2-gram tf-idf, C=0.1, balanced (TermClassifier)", s => s.Measure(s.Raw[LibraryComponent.TermClassifier])),
                    ("z-sum: tf-idf centroid + best match (held-out's strong baseline)", s => s.Measure(s.Sum(StrongBaseline))),
                    ("z-sum: tf-idf centroid + tf-idf max-sim", s => s.Measure(s.Sum([(LibraryComponent.TermCentroid, 1), (LibraryComponent.TermBestMatch, 1)]))),
                    ("z-sum: all six", s => s.Measure(s.Sum(All.Select(c => (c, 1.0))))),
                    ("rank fusion: tf-idf centroid + best match", s => LibrarySizeEvaluation.Measure(LibrarySizeEvaluation.Ranked(LibrarySizeEvaluation.RankFusion(
                        [s.ScoresOf(s.Raw[LibraryComponent.TermCentroid]), s.ScoresOf(s.Raw[LibraryComponent.BestMatch])])), s.Task.Wanted)),
                    ("Fused before this change: 2 TermClassifier + 1 BestMatch + 2 Classifier", s => s.Measure(s.Sum([(LibraryComponent.TermClassifier, 2), (LibraryComponent.BestMatch, 1), (LibraryComponent.Classifier, 2)]))),
                    ("z-sum tuned per size on the tuning part", s => s.Measure(s.Sum(perSize[s.Task.Size]))),
                    ("z-sum tuned for 1-3 and for 5-50 liked on the tuning part", s => s.Measure(s.Sum(s.Task.Size <= 3 ? small : large))),
                    ("z-sum tuned over all sizes on the tuning part", s => s.Measure(s.Sum(global))),
                    ("**default: Fused, Recommender.DefaultFusion(size)**", s => s.Measure(s.Sum(Recommender.DefaultFusion(s.Task.Size)))),
                ]);
                bool asJson = parse.GetValue(json);
                var table = new List<object>();
                var comparisons = new List<object>();
                // Ranking by ranking, the fusion the tuning part picked (the default when it equals DefaultFusion, as the run prints).
                Func<ScoredTask, (double Rr, double Hit, double Ndcg)> byDefault = s => s.Measure(s.Sum(Picked(s.Task.Size)));
                var baselines = new (string Name, Func<ScoredTask, (double Rr, double Hit, double Ndcg)> Measure)[]
                {
                    ("tf-idf centroid", s => s.Measure(s.Raw[LibraryComponent.TermCentroid])),
                    ("best single match", s => s.Measure(s.Raw[LibraryComponent.BestMatch])),
                    ("z-sum tf-idf centroid + best match", s => s.Measure(s.Sum(StrongBaseline))),
                };
                foreach (var (partName, tuning) in new[] { ("tuning", true), ("test", false) })
                {
                    var part = all.Where(s => s.Task.Tuning == tuning).ToList();
                    var counts = LibrarySizeEvaluation.Sizes.Select(size => part.Count(s => s.Task.Size == size)).ToArray();
                    if (!asJson)
                    {
                        Console.WriteLine();
                        Console.WriteLine($"{partName} part: MRR / hit@10 / nDCG@10 by library size (rankings: {string.Join(", ", LibrarySizeEvaluation.Sizes.Select((size, i) => $"{size}: {counts[i]}"))}; " +
                            string.Join(", ", part.GroupBy(s => s.Task.Proxy).Select(g => $"{g.Key} {g.Count()}")) + ")");
                        Console.WriteLine("| strategy | " + string.Join(" | ", LibrarySizeEvaluation.Sizes.Select(size => $"{size} liked")) + " |");
                        Console.WriteLine("|---|" + string.Concat(LibrarySizeEvaluation.Sizes.Select(_ => "---:|")));
                    }
                    foreach (var (name, measure) in rows)
                    {
                        var cells = LibrarySizeEvaluation.Sizes.Select(size => Mean(part.Where(s => s.Task.Size == size), measure)).ToList();
                        if (asJson)
                            table.Add(new { part = partName, strategy = name, sizes = LibrarySizeEvaluation.Sizes.Zip(cells, (size, c) => new { size, mrr = Math.Round(c.Rr, 3), hit10 = Math.Round(c.Hit, 3), ndcg10 = Math.Round(c.Ndcg, 3) }) });
                        else Console.WriteLine($"| {name} | " + string.Join(" | ", cells.Select(c => $"{c.Rr:0.000} / {c.Hit:0.000} / {c.Ndcg:0.000}")) + " |");
                    }
                    // The default against each baseline, ranking by ranking: wins / ties / losses by reciprocal rank and the MRR difference's 95% bootstrap interval.
                    if (!asJson)
                    {
                        Console.WriteLine();
                        Console.WriteLine($"{partName} part, the fusion the tuning part picked ({picked}) vs baseline per ranking: wins / ties / losses by reciprocal rank; MRR difference [95% paired bootstrap interval]");
                        Console.WriteLine("| tuning part's pick vs | " + string.Join(" | ", LibrarySizeEvaluation.Sizes.Select(size => $"{size} liked")) + " | all sizes |");
                        Console.WriteLine("|---|" + string.Concat(LibrarySizeEvaluation.Sizes.Select(_ => "---:|")) + "---:|");
                    }
                    foreach (var (name, measure) in baselines)
                    {
                        var cells = LibrarySizeEvaluation.Sizes.Select(size => (int?)size).Append(null).Select(size =>
                        {
                            var which = part.Where(s => size == null || s.Task.Size == size).ToList();
                            return LibrarySizeEvaluation.Paired(which.Select(s => byDefault(s).Rr).ToList(), which.Select(s => measure(s).Rr).ToList());
                        }).ToList();
                        if (asJson) comparisons.Add(new { part = partName, baseline = name, sizes = cells.Select((c, i) => new { size = i < LibrarySizeEvaluation.Sizes.Length ? LibrarySizeEvaluation.Sizes[i] : (int?)null, c.Wins, c.Ties, c.Losses, mrrDifference = Math.Round(c.Difference, 4), low = Math.Round(c.Low, 4), high = Math.Round(c.High, 4) }) });
                        else Console.WriteLine($"| {name} | " + string.Join(" | ", cells.Select(c => $"{c.Wins}/{c.Ties}/{c.Losses}, {c.Difference:+0.000;-0.000} [{c.Low:+0.000;-0.000}, {c.High:+0.000;-0.000}]")) + " |");
                    }
                    if (!asJson)
                    {
                        // By proxy over every size: which reader each strategy serves.
                        var proxies = part.Select(s => s.Task.Proxy).Distinct().Order(StringComparer.Ordinal).ToList();
                        Console.WriteLine();
                        Console.WriteLine($"{partName} part by proxy, every size: MRR / hit@10 / nDCG@10");
                        Console.WriteLine("| strategy | " + string.Join(" | ", proxies) + " |");
                        Console.WriteLine("|---|" + string.Concat(proxies.Select(_ => "---:|")));
                        foreach (var (name, measure) in rows)
                            Console.WriteLine($"| {name} | " + string.Join(" | ", proxies.Select(p => Mean(part.Where(s => s.Task.Proxy == p), measure)).Select(c => $"{c.Rr:0.000} / {c.Hit:0.000} / {c.Ndcg:0.000}")) + " |");
                    }
                }
                if (asJson)
                {
                    Console.WriteLine(JsonSerializer.Serialize(new { papers = papers.Count, testFrom = parse.GetValue(testFrom), tuned = perSize.ToDictionary(b => b.Key.ToString(), b => Describe(b.Value)),
                        tunedSmall = Describe(small), tunedLarge = Describe(large), tunedEverySize = Describe(global), crossValidated = crossValidated.ToDictionary(c => c.Name, c => Math.Round(c.Score, 4)), rows = table, comparisons, seconds = Math.Round(clock.Elapsed.TotalSeconds) }, JsonSerializerOptions.Web));
                    return 0;
                }
                Console.WriteLine();
                Console.WriteLine($"{papers.Count} papers listed {parse.GetValue(since):yyyy-MM-dd}..; libraries before {parse.GetValue(testFrom):yyyy-MM-dd}, each ranking a {LibrarySizeEvaluation.ListingSize}-paper listing of a later day; proxies: " +
                    string.Join(", ", tasks.GroupBy(t => t.Proxy).Select(g => $"{g.Key} {g.Count()}")));
                foreach (var (size, weights) in perSize) Console.WriteLine($"tuned on the tuning part, {size} liked: {Describe(weights)}");
                Console.WriteLine($"tuned on the tuning part, 1-3 liked: {Describe(small)}; 5-50 liked: {Describe(large)}");
                Console.WriteLine($"tuned on the tuning part, every size: {Describe(global)}");
                Console.WriteLine("two-fold cross-validation inside the tuning part, mean MRR + nDCG@10 over sizes: " + string.Join(", ", crossValidated.Select(c => $"{c.Name} {c.Score:0.0000}")));
                foreach (int size in LibrarySizeEvaluation.Sizes)
                    Console.WriteLine($"default, {size} liked: {Describe(Recommender.DefaultFusion(size))}" +
                        (Recommender.DefaultFusion(size).SequenceEqual(Picked(size)) ? " (the tuning part's pick)" : $"; the tuning part picked {Describe(Picked(size))}"));
                Console.WriteLine($"({clock.Elapsed.TotalSeconds:0}s, scoring done at {scoringSeconds:0}s)");
                return 0;
            }
            finally { if (given == null) Directory.Delete(dir, true); }
        });
        return command;
    }

    static readonly LibraryComponent[] All = Enum.GetValues<LibraryComponent>();
    /// <summary>The held-out check's strong baseline: tf-idf centroid + best single liked match, z-scores summed.</summary>
    static readonly (LibraryComponent, double)[] StrongBaseline = [(LibraryComponent.TermCentroid, 1), (LibraryComponent.BestMatch, 1)];

    static (double Rr, double Hit, double Ndcg) Mean(IEnumerable<ScoredTask> part, Func<ScoredTask, (double Rr, double Hit, double Ndcg)> measure)
    {
        var m = part.Select(measure).ToList();
        return m.Count == 0 ? (0, 0, 0) : (m.Average(x => x.Rr), m.Average(x => x.Hit), m.Average(x => x.Ndcg));
    }

    /// <summary>One task's candidates (keys ascending) with each component's raw score and z-score, and the previous default's ranking when asked.</summary>
    sealed record ScoredTask(SizedTask Task, long[] Keys, bool[] Wanted, Dictionary<LibraryComponent, double[]> Z, Dictionary<LibraryComponent, double[]> Raw, List<long>? Hybrid)
    {
        public double[] Sum(IEnumerable<(LibraryComponent C, double W)> weights)
        {
            var sum = new double[Keys.Length];
            foreach (var (c, w) in weights)
            {
                var z = Z[c];
                for (int i = 0; i < sum.Length; i++) sum[i] += w * z[i];
            }
            return sum;
        }

        public (double Rr, double Hit, double Ndcg) Measure(double[] scores) => LibrarySizeEvaluation.Measure(Keys, scores, Wanted, Task.Wanted.Count);

        public Dictionary<long, double> ScoresOf(double[] scores) => Keys.Select((k, i) => (k, i)).ToDictionary(x => x.k, x => scores[x.i]);
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
