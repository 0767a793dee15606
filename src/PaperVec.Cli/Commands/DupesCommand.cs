using System.CommandLine;
using PaperVec.Duplicates;
using PaperVec.Engine;
using PaperVec.Cli.Common;

namespace PaperVec.Cli.Commands;

/// <summary>`papervec dupes`: listings across digests that are the same paper, with their evidence.</summary>
static class DupesCommand
{
    public static Command Create()
    {
        var data = DataOptions.Data();
        var from = new Option<DateOnly?>("--from") { Description = "Only digests dated on or after this date" };
        var to = new Option<DateOnly?>("--to") { Description = "Only digests dated on or before this date" };
        var digests = new Option<string[]>("--digest") { Description = "Only these digests, by id (date/name, e.g. 2025-03-11/daily-papers-mar-11; repeatable)", AllowMultipleArgumentsPerToken = true };
        var json = new Option<bool>("--json") { Description = "Print JSON: {\"groups\":[{\"kind\",\"members\":[{\"digest\",\"date\",\"paperId\",\"title\"}],\"cosine\",\"lexical\",\"rule\"}]}" };
        var defaults = new DuplicateSettings();
        var neighbours = CommonOptions.AtLeast(new Option<int>("--neighbours") { Description = "Candidates asked of the index per paper", DefaultValueFactory = _ => defaults.Neighbours }, 1);
        var minCosine = new Option<double>("--min-cosine") { Description = "Cosine a candidate needs to be looked at", DefaultValueFactory = _ => defaults.CandidateCosine };
        var minLexical = new Option<double>("--min-lexical") { Description = "Word-shingle Jaccard of title + abstract that confirms a candidate", DefaultValueFactory = _ => defaults.LexicalThreshold };
        var command = new Command("dupes", "Find listings across digests that are the same paper: exact, revised or retitled")
            { data, from, to, digests, json, neighbours, minCosine, minLexical };
        Cli.Common.Remote.ServerTarget.AddTo(command);
        command.SetAction(async parse =>
        {
            var settings = new DuplicateSettings
            {
                Neighbours = parse.GetValue(neighbours),
                CandidateCosine = Fraction(parse.GetValue(minCosine), "--min-cosine"),
                LexicalThreshold = Fraction(parse.GetValue(minLexical), "--min-lexical"),
            };
            var chosen = parse.GetValue(digests) is { Length: > 0 } ids ? ids.ToHashSet(StringComparer.Ordinal) : null;
            await using IPaperCollection collection = await DataOptions.OpenCollectionAsync(parse, parse.GetValue(data));
            // An unknown digest id is the collection's to refuse (naming the stored ones).
            var groups = await collection.DuplicatesAsync(new DuplicateScope(parse.GetValue(from), parse.GetValue(to), chosen), settings);
            if (parse.GetValue(json)) Console.WriteLine(new DuplicateReport(groups).ToJson());
            else Print(groups);
            return 0;
        });
        return command;
    }

    static double Fraction(double value, string name) =>
        value is >= 0 and <= 1 ? value : throw new UsageException($"{name} must be between 0 and 1");

    static void Print(List<DuplicateGroup> groups)
    {
        if (groups.Count == 0) { Console.WriteLine("no duplicates"); return; }
        foreach (var group in groups)
        {
            Console.WriteLine($"{group.Kind.ToString().ToLowerInvariant()}  cosine {group.Cosine:0.000}  lexical {group.Lexical:0.000}  ({group.Rule})");
            foreach (var m in group.Members)
                Console.WriteLine($"  {m.Date:yyyy-MM-dd}  {m.Digest,-32}  {m.PaperId}  {Shorten(m.Title, 70)}");
        }
        var counts = groups.GroupBy(g => g.Kind).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
        Console.WriteLine($"{groups.Count} groups ({string.Join(", ", counts)})");
    }

    static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
