using System.CommandLine;
using System.Text.Json;
using PaperVec.Embedding;
using PaperVec.Engine;
using PaperVec.Search;
using PaperVec.Cli.Common;

namespace PaperVec.Cli.Commands;

/// <summary>`papervec search "text"` and `papervec similar ID`: nearest papers in the data directory.</summary>
static class SearchCommand
{
    public static Command Create()
    {
        var query = new Argument<string>("TEXT") { Description = "What to look for: a few words or a whole abstract" };
        var options = new SearchOptions();
        var device = CommonOptions.Device();
        var precision = CommonOptions.Precision();
        var mode = new Option<string>("--mode") { Description = "hybrid (BM25 and meaning fused), semantic or lexical", DefaultValueFactory = _ => "hybrid" };
        var command = new Command("search", "Search for free text: hybrid (default), semantic or lexical") { query, device, precision, mode };
        options.AddTo(command);
        command.SetAction(async parse =>
        {
            string text = parse.GetValue(query)!;
            if (string.IsNullOrWhiteSpace(text)) throw new UsageException("the search text is empty");
            await using IPaperCollection collection = await DataOptions.OpenCollectionAsync(parse, parse.GetValue(options.Data));
            if (collection.PaperCount == 0) throw new CliException($"no papers in {collection.Location} yet: run `papervec ingest` first");
            SearchMode searchMode;
            try { searchMode = SearchQuery.ParseMode(parse.GetValue(mode)); }
            catch (InvalidDataException e) { throw new UsageException(e.Message); }
            float[]? vector = null;
            // A server embeds the text with its own model.
            if (searchMode != SearchMode.Lexical && collection is not Cli.Common.Remote.RemoteCollection)
            {
                using var embedder = Embedder.Load(new EmbedderOptions { Device = parse.GetValue(device), Precision = parse.GetValue(precision) });
                await DataOptions.AttachModelAsync(collection, embedder);
                vector = embedder.Embed(text);
            }
            Print(collection.PaperCount, await collection.SearchAsync(new SearchQuery(text, vector, searchMode), options.Scope(parse)), $"top results for \"{(text.Length > 60 ? text[..57] + "..." : text)}\"", parse.GetValue(options.Json));
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
        command.SetAction(async parse =>
        {
            await using IPaperCollection collection = await DataOptions.OpenCollectionAsync(parse, parse.GetValue(options.Data));
            string given = parse.GetValue(id)!;
            var paper = await collection.FindPaperAsync(given) ?? throw new CliException(NotFoundHints.Paper(given));
            // The collection leaves the paper itself out.
            var results = await collection.SimilarAsync(given, options.Scope(parse)) ?? throw new CliException(NotFoundHints.Paper(given));
            Print(collection.PaperCount, results, $"papers like \"{paper.Title}\"", parse.GetValue(options.Json));
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
        public readonly Option<double> Diversity = new("--diversity") { Description = "0 (none) .. 1: trade relevance for results unlike each other (MMR)" };

        // Ranges (--k 1..1000, --diversity 0..1) and date forms are checked for every verb in CommandLineRules.

        public void AddTo(Command command)
        {
            Cli.Common.Remote.ServerTarget.AddTo(command);
            command.Options.Add(Data); command.Options.Add(K); command.Options.Add(From); command.Options.Add(To); command.Options.Add(Json); command.Options.Add(Diversity);
        }

        public SearchScope Scope(ParseResult parse) => new()
        {
            K = parse.GetValue(K), From = parse.GetValue(From), To = parse.GetValue(To), Diversity = parse.GetValue(Diversity),
        };
    }

    /// <summary>Results as JSON ({"results": [...]}, the API's shape) or one line each, with "because you liked" for recommendations.</summary>
    internal static void Print(int papers, List<SearchResult> results, string heading, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { results }, JsonSerializerOptions.Web));
            return;
        }
        Console.WriteLine($"{papers} papers; {heading}:");
        foreach (var r in results)
        {
            Console.WriteLine($"  {r.Score:0.000}  {r.Date}  {r.Id}  {r.Title}");
            if (r.Judged != null) Console.WriteLine($"         in the library: {r.Judged}");
            else if (r.Because is [var first, ..])
                Console.WriteLine($"         because you liked \"{first.Title}\"" + (r.Because.Count > 1 ? $" and \"{r.Because[1].Title}\"" : "")
                    + (r.SharedTerms is { } shared ? $" (matches: {string.Join(", ", shared)})" : ""));
        }
    }
}
