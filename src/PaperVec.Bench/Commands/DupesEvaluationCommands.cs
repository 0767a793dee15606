using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using PaperVec.Ingest;
using PaperVec.Duplicates;
using PaperVec.Embedding;
using PaperVec.Bench.Evaluation;
using PaperVec.Cli.Common;

namespace PaperVec.Bench.Commands;

/// <summary>
/// `papervec eval dupes` (precision and recall of duplicate detection on digests generated from real
/// abstracts) and `papervec bench dupes` (its speed at 40k papers over 100 digests).
/// </summary>
static class DupesEvaluationCommands
{
    static string DefaultCorpus => Path.Combine(ModelFiles.RepositoryRoot(), "..", "shared", "corpora", "arxiv-cs-2025.jsonl");

    sealed class SetOptions
    {
        public readonly Option<FileInfo?> Corpus = new("--corpus") { Description = "JSON Lines corpus of real papers (default ../shared/corpora/arxiv-cs-2025.jsonl)" };
        public readonly Option<int> Seed = new("--seed") { Description = "Random seed of the generated digests", DefaultValueFactory = _ => 1 };
        public readonly Option<DirectoryInfo?> Cache = new("--cache") { Description = "Keep the embedded vectors in this folder and reuse them when model and texts are unchanged" };
        public readonly Option<bool> Synthetic = new("--synthetic-vectors") { Description = "Use synthetic vectors (copies close, topics clustered) instead of embedding" };
        public readonly Option<bool> Json = new("--json") { Description = "Print JSON" };
        public readonly Option<DirectoryInfo?> WriteDigests = new("--write-digests") { Description = "Also write the generated digests as .txt files and the truth as truth.jsonl into this folder" };

        public void AddTo(Command command)
        {
            foreach (Option option in new Option[] { Corpus, Seed, Cache, Synthetic, Json, WriteDigests }) command.Options.Add(option);
        }
    }

    public static Command Eval()
    {
        var set = new SetOptions();
        var digests = CommonOptions.AtLeast(new Option<int>("--digests") { Description = "Generated digests", DefaultValueFactory = _ => 20 }, 2);
        var perDigest = CommonOptions.AtLeast(new Option<int>("--per-digest") { Description = "Listings per digest", DefaultValueFactory = _ => 100 }, 5);
        var sweep = new Option<bool>("--sweep") { Description = "Also grade a grid of thresholds (how the defaults were chosen)" };
        var command = new Command("dupes", "Precision and recall of duplicate detection on digests generated from real abstracts") { digests, perDigest, sweep };
        set.AddTo(command);
        command.SetAction(async parse =>
        {
            var options = new DuplicateDigestSetOptions { Digests = parse.GetValue(digests), PapersPerDigest = parse.GetValue(perDigest), Seed = parse.GetValue(set.Seed) };
            await using var evaluation = await PrepareAsync(parse, set, options);
            var clock = Stopwatch.StartNew();
            var groups = evaluation.Find(new DuplicateSettings());
            double seconds = clock.Elapsed.TotalSeconds;
            var grade = evaluation.Grade(groups);
            if (parse.GetValue(set.Json))
                Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new
                {
                    listings = evaluation.Listings, groups = groups.Count, precision = grade.Precision, recall = grade.Recall,
                    kinds = grade.Kinds.ToDictionary(k => k.Kind.ToString().ToLowerInvariant(), k => new { truePairs = k.TruePairs, found = k.Found, recall = k.Recall }),
                    kindAccuracy = grade.KindAccuracy, secondsPer1kListings = seconds / evaluation.Listings * 1000,
                }));
            else
            {
                Console.WriteLine($"{evaluation.Digests.Count} digests, {evaluation.Listings} listings, seed {options.Seed}; default settings {new DuplicateSettings()}");
                PrintGrade(grade);
                Console.WriteLine($"{groups.Count} groups found in {seconds:0.00} s ({seconds / evaluation.Listings * 1000:0.000} s per 1k listings)");
            }
            if (parse.GetValue(sweep))
            {
                Console.WriteLine();
                Console.WriteLine("min-cosine  min-lexical  precision  recall  retitled-recall  kind-accuracy");
                foreach (double cosine in new[] { 0.70, 0.75, 0.80, 0.85, 0.90 })
                    foreach (double lexical in new[] { 0.05, 0.10, 0.15, 0.20, 0.30, 0.40, 0.50, 0.60 })
                    {
                        var g = evaluation.Grade(evaluation.Find(new DuplicateSettings { CandidateCosine = cosine, LexicalThreshold = lexical }));
                        Console.WriteLine($"{cosine,10:0.00}  {lexical,11:0.00}  {g.Precision,9:0.0000}  {g.Recall,6:0.0000}  {g.RecallOf(DuplicateKind.Retitled),15:0.0000}  {g.KindAccuracy,13:0.0000}");
                    }
            }
            return 0;
        });
        return command;
    }

    public static Command Bench()
    {
        var set = new SetOptions();
        var papers = CommonOptions.AtLeast(new Option<int>("--papers") { Description = "Listings in all (real abstracts)", DefaultValueFactory = _ => 40_000 }, 100);
        var digests = CommonOptions.AtLeast(new Option<int>("--digests") { Description = "Digests they are spread over", DefaultValueFactory = _ => 100 }, 2);
        var threads = CommonOptions.AtLeast(new Option<int>("--threads") { Description = "Threads of the duplicate search (0: one per core)", DefaultValueFactory = _ => 0 }, 0);
        var command = new Command("dupes", "Speed of duplicate detection: seconds per 1k listings once vectors exist") { papers, digests, threads };
        set.AddTo(command);
        command.SetAction(async parse =>
        {
            int digestCount = parse.GetValue(digests);
            var options = new DuplicateDigestSetOptions { Digests = digestCount, PapersPerDigest = Math.Max(1, parse.GetValue(papers) / digestCount), Seed = parse.GetValue(set.Seed) };
            await using var evaluation = await PrepareAsync(parse, set, options);
            int threadCount = parse.GetValue(threads);
            evaluation.Find(new DuplicateSettings(), threadCount); // warm-up: JIT, page cache
            var clock = Stopwatch.StartNew();
            var groups = evaluation.Find(new DuplicateSettings(), threadCount);
            double seconds = clock.Elapsed.TotalSeconds;
            var grade = evaluation.Grade(groups);
            double perThousand = seconds / evaluation.Listings * 1000;
            if (parse.GetValue(set.Json))
                Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new
                {
                    listings = evaluation.Listings, papers = evaluation.Database.PaperCount, digests = digestCount, groups = groups.Count,
                    seconds, secondsPer1kListings = perThousand, precision = grade.Precision, recall = grade.Recall,
                }));
            else
            {
                Console.WriteLine($"{evaluation.Listings} listings ({evaluation.Database.PaperCount} papers) over {digestCount} digests, {(parse.GetValue(set.Synthetic) ? "synthetic" : "embedded")} vectors");
                Console.WriteLine($"duplicate search: {seconds:0.00} s, {perThousand:0.000} s per 1k listings, {groups.Count} groups");
                PrintGrade(grade);
            }
            return 0;
        });
        return command;
    }

    static void PrintGrade(DuplicateGrade grade)
    {
        foreach (var (a, b) in grade.FalsePairs) Console.WriteLine($"  false pair: \"{a}\" / \"{b}\"");
        foreach (var (a, b, kind) in grade.MissedPairs) Console.WriteLine($"  missed {kind.ToString().ToLowerInvariant()}: \"{a}\" / \"{b}\"");
        Console.WriteLine($"precision {grade.Precision:0.0000} ({grade.CorrectPredictedPairs}/{grade.PredictedPairs} pairs)   recall {grade.Recall:0.0000} ({grade.TruePairs} true pairs)   kind accuracy {grade.KindAccuracy:0.0000}");
        foreach (var k in grade.Kinds)
            Console.WriteLine($"  {k.Kind.ToString().ToLowerInvariant(),-9} recall {k.Recall:0.0000} ({k.Found}/{k.TruePairs})");
    }

    static async Task<DuplicateEvaluation> PrepareAsync(ParseResult parse, SetOptions set, DuplicateDigestSetOptions options)
    {
        var corpusFile = parse.GetValue(set.Corpus)?.FullName ?? DefaultCorpus;
        if (!File.Exists(corpusFile)) throw new CliException($"no corpus at {corpusFile} (give one with --corpus)");
        var corpus = PaperRecordReader.ReadAll(DigestParser.DecodeUtf8(File.ReadAllBytes(corpusFile), corpusFile), corpusFile);
        var generated = DuplicateDigestSet.Generate(corpus, options);
        int listings = generated.Sum(d => d.Listings.Count);
        if (parse.GetValue(set.WriteDigests) is { } folder)
        {
            Directory.CreateDirectory(folder.FullName);
            foreach (var d in generated) File.WriteAllText(Path.Combine(folder.FullName, $"{d.Date:yyyy-MM-dd}-{d.Name}.txt"), d.ToText());
            File.WriteAllLines(Path.Combine(folder.FullName, "truth.jsonl"), generated.SelectMany(d => d.Listings.Select(l =>
                System.Text.Json.JsonSerializer.Serialize(new { digest = DuplicateEvaluation.DigestId(d), date = d.Date, work = l.WorkId, title = l.Title }))));
        }

        Func<GeneratedListing, float[]> vectorOf;
        if (parse.GetValue(set.Synthetic)) vectorOf = new SyntheticListingVectors(seed: options.Seed).VectorOf;
        else
        {
            var texts = generated.SelectMany(d => d.Listings).Select(l => PaperText.ForEmbedding(l.Title, l.Abstract)).Distinct().ToList();
            using var embedder = Embedder.Load();
            float[] vectors = EvalCommands.CachedOrEmbed(embedder, texts, parse.GetValue(set.Cache), "dupes");
            var byText = new Dictionary<string, float[]>(texts.Count);
            for (int i = 0; i < texts.Count; i++) byText[texts[i]] = vectors.AsSpan(i * embedder.Dimension, embedder.Dimension).ToArray();
            vectorOf = l => byText[PaperText.ForEmbedding(l.Title, l.Abstract)];
        }

        string dataDir = Path.Combine(Path.GetTempPath(), $"papervec-dupes-{Guid.NewGuid():N}");
        using var progress = new ConsoleProgress("ingesting generated digests", listings, "listings");
        return await DuplicateEvaluation.PrepareAsync(dataDir, generated, null, vectorOf, done => progress.Report(done), deleteDirectoryOnDispose: true);
    }
}
