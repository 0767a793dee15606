using System.CommandLine;
using System.Text.Json;
using PaperVec.Engine;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;
using PaperVec.Cli.Common;

namespace PaperVec.Cli.Commands;

/// <summary>`papervec recommend`, `papervec rank DIGEST --library NAME` and `papervec library ...`: recommendations from liked papers.</summary>
static class RecommendCommands
{
    public static Command Recommend()
    {
        var like = new Option<string[]>("--like") { Description = "Ids of papers the reader liked", AllowMultipleArgumentsPerToken = true };
        var unlike = new Option<string[]>("--unlike") { Description = "Ids of papers the reader did not want", AllowMultipleArgumentsPerToken = true };
        var library = new Option<string?>("--library") { Description = "Recommend from a stored library instead of --like/--unlike" };
        var digest = new Option<string?>("--digest") { Description = "Only papers of this digest" };
        var k = new Option<int>("--k") { Description = "How many results (1..1000)", DefaultValueFactory = _ => 10 };
        var from = new Option<DateOnly?>("--from") { Description = "Only papers first seen on or after this date" };
        var to = new Option<DateOnly?>("--to") { Description = "Only papers first seen on or before this date" };
        var diversity = new Option<double>("--diversity") { Description = "0 (none) .. 1: trade relevance for results unlike each other (MMR)" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var data = DataOptions.Data();
        var command = new Command("recommend", "Papers for a reader who liked some papers (and not others)") { like, unlike, library, digest, k, from, to, diversity, json, data };
        command.SetAction(async parse =>
        {
            string[] liked = parse.GetValue(like) ?? [], disliked = parse.GetValue(unlike) ?? [];
            string? name = parse.GetValue(library);
            if (name == null && liked.Length == 0) throw new UsageException("name the papers the reader liked (--like ID...) or a library (--library NAME)");
            if (name != null && (liked.Length > 0 || disliked.Length > 0)) throw new UsageException("use either --library or --like/--unlike, not both");
            var scope = new SearchScope { K = parse.GetValue(k), From = parse.GetValue(from), To = parse.GetValue(to), Diversity = parse.GetValue(diversity) };
            await using IPaperCollection collection = await DataOptions.OpenAsync(parse.GetValue(data));
            var results = name != null
                ? await collection.RecommendForLibraryAsync(name, scope, parse.GetValue(digest)) ?? throw new CliException($"no library named '{name}'")
                : await collection.RecommendAsync(liked, disliked, scope, parse.GetValue(digest));
            Print(collection.PaperCount, results, name != null ? $"recommended for library '{name}'" : $"recommended for {liked.Length} liked papers", parse.GetValue(json));
            return 0;
        });
        return command;
    }

    public static Command Rank()
    {
        var digestId = new Argument<string>("DIGEST") { Description = "A digest id (papervec digests list shows them), e.g. 2025-03-11/daily-papers-mar-11" };
        var library = new Option<string>("--library") { Description = "The reader's library to rank by", Required = true };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var data = DataOptions.Data();
        var command = new Command("rank", "A digest's papers ordered by a reader's library, with why") { digestId, library, json, data };
        command.SetAction(async parse =>
        {
            string id = parse.GetValue(digestId)!, name = parse.GetValue(library)!;
            await using IPaperCollection collection = await DataOptions.OpenAsync(parse.GetValue(data));
            var results = await collection.RankDigestAsync(id, name) ?? throw new CliException($"no library named '{name}'");
            Print(collection.PaperCount, results, $"digest {id} ranked for library '{name}'", parse.GetValue(json));
            return 0;
        });
        return command;
    }

    public static Command Library()
    {
        var command = new Command("library", "A reader's named list of liked and disliked papers") { List(), Show(), Change("like", "Mark papers liked"), Change("dislike", "Mark papers not interesting"), Change("remove", "Take papers out"), Delete() };
        return command;

        static Command List()
        {
            var data = DataOptions.Data();
            var list = new Command("list", "Every library") { data };
            list.SetAction(async parse =>
            {
                await using IPaperCollection collection = await DataOptions.OpenAsync(parse.GetValue(data));
                foreach (var l in await collection.LibrariesAsync()) Console.WriteLine($"{l.Name}\t{l.Liked.Count} liked\t{l.Disliked.Count} disliked\t{l.UpdatedAt:yyyy-MM-dd HH:mm}");
                return 0;
            });
            return list;
        }

        static Command Show()
        {
            var name = new Argument<string>("NAME");
            var json = new Option<bool>("--json") { Description = "Print JSON" };
            var data = DataOptions.Data();
            var show = new Command("show", "A library's papers") { name, json, data };
            show.SetAction(async parse =>
            {
                await using IPaperCollection collection = await DataOptions.OpenAsync(parse.GetValue(data));
                var library = await collection.LibraryAsync(parse.GetValue(name)!) ?? throw new CliException($"no library named '{parse.GetValue(name)}'");
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(new { library.Name, Liked = library.Liked.Select(PaperIdentity.Format), Disliked = library.Disliked.Select(PaperIdentity.Format), library.UpdatedAt }, JsonSerializerOptions.Web));
                    return 0;
                }
                foreach (var (mark, keys) in new[] { ("liked", library.Liked), ("disliked", library.Disliked) })
                    foreach (long key in keys)
                        Console.WriteLine($"{mark}\t{PaperIdentity.Format(key)}\t{(await collection.FindPaperAsync(PaperIdentity.Format(key)))?.Title ?? "(deleted)"}");
                return 0;
            });
            return show;
        }

        static Command Change(string verb, string description)
        {
            var name = new Argument<string>("NAME");
            var ids = new Argument<string[]>("IDS") { Description = "Paper ids (PaperVec ids or source ids)", Arity = ArgumentArity.OneOrMore };
            var data = DataOptions.Data();
            var change = new Command(verb, description + " in a library (created when missing)") { name, ids, data };
            change.SetAction(async parse =>
            {
                string[] given = parse.GetValue(ids)!;
                await using IPaperCollection collection = await DataOptions.OpenAsync(parse.GetValue(data));
                var library = await collection.ChangeLibraryAsync(parse.GetValue(name)!,
                    verb == "like" ? given : [], verb == "dislike" ? given : [], verb == "remove" ? given : [], replace: false);
                Console.WriteLine($"library '{library.Name}': {library.Liked.Count} liked, {library.Disliked.Count} disliked");
                return 0;
            });
            return change;
        }

        static Command Delete()
        {
            var name = new Argument<string>("NAME");
            var data = DataOptions.Data();
            var delete = new Command("delete", "Delete a library") { name, data };
            delete.SetAction(async parse =>
            {
                await using IPaperCollection collection = await DataOptions.OpenAsync(parse.GetValue(data));
                if (!await collection.DeleteLibraryAsync(parse.GetValue(name)!)) throw new CliException($"no library named '{parse.GetValue(name)}'");
                Console.WriteLine($"library '{parse.GetValue(name)}' deleted");
                return 0;
            });
            return delete;
        }
    }

    static void Print(int papers, List<SearchResult> results, string heading, bool json) => SearchCommand.Print(papers, results, heading, json);
}
