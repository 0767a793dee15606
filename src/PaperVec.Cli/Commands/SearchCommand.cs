using System.CommandLine;
using System.Text.Json;
using PaperVec.Embedding;
using PaperVec.Index;
using PaperVec.Storage;

namespace PaperVec.Cli.Commands;

/// <summary>`papervec search "text"` and `papervec similar ID`: nearest papers in the data directory.</summary>
static class SearchCommand
{
    public static Command Create()
    {
        var query = new Argument<string>("TEXT") { Description = "What to look for: a few words or a whole abstract" };
        var options = new SearchOptions();
        var device = CommonOptions.Device();
        var command = new Command("search", "Semantic search for free text") { query, device };
        options.AddTo(command);
        command.SetAction(parse =>
        {
            string text = parse.GetValue(query)!;
            if (string.IsNullOrWhiteSpace(text)) throw new UsageException("the search text is empty");
            if (text.Length > 100_000) throw new UsageException("the search text is longer than 100,000 characters");
            using var db = DataOptions.Open(parse.GetValue(options.Data));
            if (db.PaperCount == 0) throw new CliException($"no papers in {db.Root} yet: run `papervec ingest` first");
            using var embedder = Embedder.Load(new EmbedderOptions { Device = parse.GetValue(device) });
            DataOptions.EnsureSameModel(db, embedder);
            var vector = embedder.Embed(text);
            Print(db, options.Run(parse, db, vector, exclude: null), $"top results for \"{(text.Length > 60 ? text[..57] + "..." : text)}\"", parse.GetValue(options.Json));
            return 0;
        });
        return command;
    }

    public static Command CreateSimilar()
    {
        var id = new Argument<string>("ID") { Description = "A paper id, or a record's own id (an arXiv id, say)" };
        var options = new SearchOptions();
        var command = new Command("similar", "Papers like a stored one");
        command.Arguments.Add(id);
        options.AddTo(command);
        command.SetAction(parse =>
        {
            using var db = DataOptions.Open(parse.GetValue(options.Data));
            var paper = db.FindPaper(parse.GetValue(id)!) ?? throw new CliException($"no paper with id {parse.GetValue(id)}");
            Print(db, options.Run(parse, db, paper.Vector, exclude: paper.Key), $"papers like \"{paper.Title}\"", parse.GetValue(options.Json));
            return 0;
        });
        return command;
    }

    sealed class SearchOptions
    {
        public readonly Option<string?> Data = DataOptions.Data();
        public readonly Option<int> K = new("--k") { Description = "How many results (1..1000)", DefaultValueFactory = _ => 10 };
        public readonly Option<DateOnly?> From = new("--from") { Description = "Only papers first seen on or after this date" };
        public readonly Option<DateOnly?> To = new("--to") { Description = "Only papers first seen on or before this date" };
        public readonly Option<bool> Json = new("--json") { Description = "Print JSON" };

        public SearchOptions() => K.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 1000) r.AddError("--k must be within 1..1000"); });

        public void AddTo(Command command)
        {
            command.Options.Add(Data); command.Options.Add(K); command.Options.Add(From); command.Options.Add(To); command.Options.Add(Json);
        }

        public List<(PaperRecord Paper, float Score)> Run(ParseResult parse, PaperDatabase db, float[] vector, long? exclude)
        {
            int k = parse.GetValue(K);
            DateOnly? from = parse.GetValue(From), to = parse.GetValue(To);
            Func<long, bool>? filter = null;
            if (from != null || to != null || exclude != null)
            {
                // First-seen dates live in the store; the filter reads just the date per candidate.
                filter = key =>
                {
                    if (key == exclude) return false;
                    if (from == null && to == null) return true;
                    var seen = db.FirstSeen(key);
                    return seen != null && (from == null || seen >= from) && (to == null || seen <= to);
                };
            }
            return db.Search(vector, k, filter: filter)
                .Select(hit => (db.GetPaper(hit.Id), hit.Score)).Where(r => r.Item1 != null).Select(r => (r.Item1!, r.Score)).ToList();
        }
    }

    static void Print(PaperDatabase db, List<(PaperRecord Paper, float Score)> results, string heading, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                results = results.Select(r => new { id = r.Paper.Id, title = r.Paper.Title, date = r.Paper.FirstSeen.ToString("yyyy-MM-dd"), score = Math.Round(r.Score, 4), snippet = Snippet(r.Paper.Abstract) }),
            }));
            return;
        }
        Console.WriteLine($"{db.PaperCount} papers; {heading}:");
        foreach (var (paper, score) in results)
            Console.WriteLine($"  {score:0.000}  {paper.FirstSeen:yyyy-MM-dd}  {paper.Id}  {paper.Title}");
    }

    internal static string Snippet(string text) => text.Length <= 240 ? text : text[..text.LastIndexOf(' ', 239)] + "…";

    internal static string DefaultDigestFolder() => Path.Combine(ModelFiles.RepositoryRoot(), "data", "digests");
}
