using System.CommandLine;
using System.Text.Json;
using PaperVec.Cli.Common;
using PaperVec.Engine;
using PaperVec.Storage;

namespace PaperVec.Cli.Commands;

/// <summary>`papervec digests list|delete`: the ingested digests, and undoing one (a mistaken ingest).</summary>
static class DigestsCommand
{
    public static Command Create(PaperDatabaseOptions storage) =>
        new("digests", "The ingested digests: list them, or delete one with the papers only it brought") { List(), Delete(storage) };

    static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON: [{\"id\",\"date\",\"name\",\"papers\",\"seenBefore\",\"ingestedAt\"}]" };
        var data = DataOptions.Data();
        var list = new Command("list", "Every digest, oldest first: id, date, name, papers, papers an earlier digest listed") { json, data };
        list.SetAction(async parse =>
        {
            await using IPaperCollection collection = await DataOptions.OpenAsync(parse.GetValue(data));
            var rows = new List<(DigestRecord Digest, int SeenBefore)>();
            foreach (var d in await collection.DigestsAsync())
                rows.Add((d, await collection.DigestAsync(d.Id) is { } view ? view.Listings.Count(l => l.SeenBefore) : 0));
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(rows.Select(r => new
                {
                    r.Digest.Id, Date = r.Digest.Date.ToString("yyyy-MM-dd"), Name = r.Digest.Source, Papers = r.Digest.PaperKeys.Count, r.SeenBefore, r.Digest.IngestedAt,
                }), JsonSerializerOptions.Web));
                return 0;
            }
            if (rows.Count == 0) { Console.WriteLine("no digests"); return 0; }
            Console.WriteLine($"{"id",-40}  {"date",-10}  {"name",-24}  {"papers",6}  {"seen before",11}");
            foreach (var (d, seen) in rows)
                Console.WriteLine($"{d.Id,-40}  {d.Date:yyyy-MM-dd}  {d.Source,-24}  {d.PaperKeys.Count,6}  {seen,11}");
            return 0;
        });
        return list;
    }

    static Command Delete(PaperDatabaseOptions storage)
    {
        var id = new Argument<string>("ID") { Description = "The digest's id (date/name, as `papervec digests list` shows it), e.g. 2026-03-11/daily-papers-mar-11" };
        var json = new Option<bool>("--json") { Description = "Print JSON: {\"digest\",\"deleted\":[{\"id\",\"title\"}],\"kept\":[{\"id\",\"title\",\"reason\",\"detail\"}]}" };
        var data = DataOptions.Data();
        var delete = new Command("delete", "Delete a digest durably, with the papers only it brought (papers another digest, a record ingest or a library refers to are kept)") { id, json, data };
        delete.SetAction(async parse =>
        {
            string digestId = parse.GetValue(id)!;
            await using IPaperCollection collection = await DataOptions.OpenAsync(parse.GetValue(data), storage: storage);
            var deletion = await collection.DeleteDigestAsync(digestId) ?? throw new DigestNotFoundException(digestId, await collection.DigestsAsync());
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    Digest = deletion.DigestId,
                    Deleted = deletion.Deleted.Select(p => new { p.Id, p.Title }),
                    Kept = deletion.Kept.Select(p => new { p.Id, p.Title, Reason = DigestDeletion.Name(p.Reason), p.Detail }),
                }, JsonSerializerOptions.Web));
                return 0;
            }
            Console.WriteLine(deletion.Summary);
            foreach (var p in deletion.Deleted) Console.WriteLine($"  deleted  {p.Id}  {Shorten(p.Title)}");
            foreach (var p in deletion.Kept) Console.WriteLine($"  kept     {p.Id}  {Shorten(p.Title)}  ({p.Detail})");
            return 0;
        });
        return delete;
    }

    static string Shorten(string text) => text.Length <= 70 ? text : text[..69] + "…";
}
