using System.Text;
using System.Text.Json;
using PaperVec.Cli.Common;
using PaperVec.Cli.Common.Remote;
using PaperVec.Ingest;

namespace PaperVec.Cli.Commands;

/// <summary>
/// `papervec ingest` against a running server: a digest file's text goes to POST /digests (dated as
/// parsed here, so it lands under the same id), records go to POST /papers in batches; every file is
/// read and checked here first, as locally, and the lines printed are the local ones.
/// </summary>
static class RemoteIngest
{
    /// <summary>Most records one request carries (the server's own per-request limit).</summary>
    const int MaxPerRequest = 1000;

    public static async Task<int> RunAsync(RemoteCollection remote, string[] paths, IReadOnlyDictionary<string, IReadOnlyList<ParsedDigest>> digests,
        string? name, int streamBatch, int fileBatch, bool acks, Func<DateRule, string> describe)
    {
        var client = remote.Client;
        foreach (var path in paths)
        {
            if (path == "-")
            {
                await StreamAsync(client, Console.In, Math.Min(streamBatch, MaxPerRequest), acks);
                continue;
            }
            if (IsRecordFile(path))
            {
                var text = DigestParser.DecodeText(File.ReadAllBytes(path), path);
                var records = PaperRecordReader.ReadAll(text, path); // every record checked before anything is sent, as locally
                var raw = RawRecords(text);
                if (raw.Count != records.Count) throw new CliException($"{path}: {records.Count} records read but {raw.Count} JSON values found; ingest it with the server stopped");
                int exact = 0, revised = 0, batchNumber = 0;
                foreach (var chunk in raw.Chunk(Math.Min(fileBatch, MaxPerRequest)))
                {
                    var answer = await client.SendTextAsync<RemoteIngestAnswer>("papers", string.Join('\n', chunk), "application/x-ndjson");
                    (exact, revised) = (exact + answer.Exact, revised + answer.Revised);
                    if (acks) Ack(++batchNumber, answer);
                }
                Console.WriteLine($"{Path.GetFileName(path)}: {records.Count} records; {exact + revised} of {records.Count} papers already seen ({exact} exact, {revised} revised)");
                continue;
            }
            var days = digests[path];
            // POST /digests takes one day's text; the file's days are not cut apart here.
            if (days.Count > 1) throw new CliException($"{path} holds {days.Count} days, and a server takes one digest per request: split it into one file per day, or ingest it with the server stopped");
            var digest = days[0];
            foreach (var problem in digest.Problems) Console.Error.WriteLine($"{path}: {problem}");
            string source = name ?? Path.GetFileNameWithoutExtension(path);
            string body = DigestParser.DecodeText(File.ReadAllBytes(path), path);
            var ingested = await client.SendTextAsync<RemoteIngestAnswer>("digests" + PaperServerClient.Query(("date", PaperServerClient.Date(digest.Date)), ("name", source)), body, "text/plain");
            string left = digest.PageLinesLeftOut > 0 ? $", {digest.PageLinesLeftOut} page lines left out" : "";
            Console.WriteLine($"{Path.GetFileName(path)}: {digest.Papers.Count} papers, dated {digest.Date:yyyy-MM-dd} ({describe(digest.DateRule)}{left}); {ingested.Summary}");
        }
        await remote.RefreshCountAsync();
        Console.WriteLine($"{remote.PaperCount} papers in {remote.Location}");
        return 0;
    }

    static bool IsRecordFile(string path) =>
        path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);

    /// <summary>Each record's own JSON text: an array's elements, else the non-blank lines (JSON Lines).</summary>
    static List<string> RawRecords(string text)
    {
        if (text.TrimStart().StartsWith('['))
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.EnumerateArray().Select(e => e.GetRawText()).ToList();
        }
        return text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
    }

    /// <summary>The server's ids of a durable batch: its new papers, then the ones it had already.</summary>
    static void Ack(int batch, RemoteIngestAnswer answer)
    {
        Console.Out.WriteLine($"ack {batch} {string.Join(',', answer.NewPapers.Concat(answer.Duplicates).Select(p => p.Id))}");
        Console.Out.Flush();
    }

    static async Task StreamAsync(PaperServerClient client, TextReader input, int batchSize, bool acks)
    {
        var pending = new List<string>();
        int line = 0, batches = 0;
        async Task FlushAsync()
        {
            if (pending.Count == 0) return;
            var answer = await client.SendTextAsync<RemoteIngestAnswer>("papers", string.Join('\n', pending), "application/x-ndjson");
            batches++;
            if (acks) Ack(batches, answer);
            pending.Clear();
        }
        while (input.ReadLine() is { } text)
        {
            line++;
            if (text.Trim().Length == 0) continue;
            PaperRecordReader.ReadLine(text, $"stdin:{line}"); // refused here with the local message, before it is sent
            pending.Add(text);
            if (pending.Count >= batchSize) await FlushAsync();
        }
        await FlushAsync();
    }
}
