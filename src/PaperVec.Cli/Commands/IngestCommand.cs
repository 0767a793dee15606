using System.CommandLine;
using System.Text;
using PaperVec.Ingest;
using PaperVec.Embedding;
using PaperVec.Storage;
using PaperVec.Cli.Common;

namespace PaperVec.Cli.Commands;

/// <summary>
/// `papervec ingest FILES...`: digests (.txt) and paper records (.json, .jsonl, or - for JSON Lines
/// on stdin). Each digest is one durable write; a records stream is committed every --batch
/// records, and --ack prints "ack N ID,ID,..." once a batch is durable.
/// </summary>
static class IngestCommand
{
    /// <param name="storage">Settings the database is opened with (<see cref="Program.RunAsync"/>).</param>
    public static Command Create(PaperDatabaseOptions storage)
    {
        var files = new Argument<string[]>("FILES") { Description = "Digest .txt files, .json/.jsonl record files, or - for JSON Lines on stdin", Arity = ArgumentArity.OneOrMore };
        var data = DataOptions.Data();
        var date = new Option<DateOnly?>("--date") { Description = "The digest's date (YYYY-MM-DD)" };
        var year = new Option<int?>("--year") { Description = "Year of a bare date line such as 'Mar 11'" };
        var name = new Option<string?>("--name") { Description = "Source name of the digests (default: the file name)" };
        var batch = CommonOptions.AtLeast(new Option<int>("--batch") { Description = "Records per durable write (streaming: default 100; record files: 1,000 unless given)", DefaultValueFactory = _ => 100 }, 1);
        var ack = new Option<bool>("--ack") { Description = "Print 'ack N IDS' when each batch is durable (stdin and record files)" };
        var checkpoint = DataOptions.CheckpointMegabytes();
        var device = CommonOptions.Device();
        var precision = CommonOptions.Precision();
        var command = new Command("ingest", "Ingest digests and paper records") { files, data, date, year, name, batch, ack, checkpoint, device, precision };
        Cli.Common.Remote.ServerTarget.AddTo(command);
        command.SetAction(async parse =>
        {
            var paths = parse.GetValue(files)!;
            foreach (var path in paths)
                if (path != "-" && !File.Exists(path)) throw new CliException($"no such file: {path}");
            // Every digest is read and parsed before the store is opened: a refused one writes nothing, not even a new data directory.
            var digests = new Dictionary<string, IReadOnlyList<ParsedDigest>>(StringComparer.Ordinal);
            foreach (var path in paths.Where(p => p != "-" && !IsRecordFile(p)).Distinct())
                digests[path] = ParseDigestFile(path, parse.GetValue(date), parse.GetValue(year));
            bool acks = parse.GetValue(ack);
            // Record files are written 1,000 records at a time unless --batch is given.
            int fileBatch = parse.GetResult(batch) is { Implicit: false } ? parse.GetValue(batch) : 1000;
            // A running server holding the directory (or --server) takes the papers: sent there, printed the same.
            var opened = await Cli.Common.Remote.ServerTarget.OpenAsync(parse, parse.GetValue(data),
                async () => await DataOptions.OpenAsync(parse.GetValue(data), parse.GetValue(checkpoint), create: true, storage));
            if (opened is Cli.Common.Remote.RemoteCollection remote)
                await using (remote)
                    return await RemoteIngest.RunAsync(remote, paths, digests, parse.GetValue(name), parse.GetValue(batch), fileBatch, acks, Describe);
            await using var collection = (PaperVec.Engine.PaperCollection)opened;
            Embedder? embedder = null;
            // The model loads only when some paper carries no vector.
            async Task ModelForAsync(IReadOnlyList<IncomingPaper> papers)
            {
                if (embedder != null || papers.All(p => p.Vector != null)) return;
                embedder = Embedder.Load(new EmbedderOptions { Device = parse.GetValue(device), Precision = parse.GetValue(precision) });
                await DataOptions.AttachModelAsync(collection, embedder);
            }
            async Task<IngestResult> IngestAsync(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest = null)
            {
                await ModelForAsync(papers);
                return await collection.IngestAsync(papers, digest);
            }
            // Ctrl+C stops between durable writes and says what was kept; a second Ctrl+C ends the process at once.
            using var interrupted = new CancellationTokenSource();
            using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, context =>
            {
                if (interrupted.IsCancellationRequested) return;
                context.Cancel = true;
                interrupted.Cancel();
            });
            int Stopped(string path, int kept, int total)
            {
                Console.Out.Flush();
                Console.Error.WriteLine($"papervec: interrupted: kept {kept:N0} of {(total < 0 ? "the" : total.ToString("N0"))} papers of {(path == "-" ? "stdin" : Path.GetFileName(path))} (durable); run the same command again to resume: papers already stored are skipped");
                return 130;
            }
            try
            {
                foreach (var path in paths)
                {
                    if (path == "-")
                    {
                        int kept = await StreamRecordsAsync(Console.In, parse.GetValue(batch), acks, papers => IngestAsync(papers), interrupted.Token);
                        if (interrupted.IsCancellationRequested) return Stopped(path, kept, -1);
                        continue;
                    }
                    if (IsRecordFile(path))
                    {
                        var text = DigestParser.DecodeText(File.ReadAllBytes(path), path);
                        // Every record is validated before anything is written; then durable writes of 1,000
                        // records, in order, each batch's embedding made while the one before it is written.
                        var records = PaperRecordReader.ReadAll(text, path);
                        await ModelForAsync(records);
                        int newCount = 0, exact = 0, revised = 0;
                        var chunks = records.Chunk(fileBatch).ToList();
                        int done = 0;
                        using (var progress = new ConsoleProgress($"ingest {Path.GetFileName(path)}", records.Count, "records") { Enabled = records.Count > 1000 })
                        {
                            var ahead = Task.Run(() => collection.EmbedAhead(chunks[0]));
                            for (int c = 0; c < chunks.Count && !interrupted.IsCancellationRequested; c++)
                            {
                                var embedded = await ahead;
                                var next = c + 1 < chunks.Count ? chunks[c + 1] : null;
                                if (next != null) ahead = Task.Run(() => collection.EmbedAhead(next));
                                var result = await collection.IngestAsync(chunks[c], embedded: embedded);
                                (newCount, exact, revised) = (newCount + result.New, exact + result.SeenExact, revised + result.Revised);
                                if (acks)
                                {
                                    Console.Out.WriteLine($"ack {c + 1} {string.Join(',', result.Listings.Select(l => PaperIdentity.Format(l.Key)))}");
                                    Console.Out.Flush();
                                }
                                progress.Report(done += chunks[c].Length);
                            }
                            if (interrupted.IsCancellationRequested && done < records.Count) await ahead.ContinueWith(_ => { }); // let the embedding ahead finish before disposing
                        }
                        if (interrupted.IsCancellationRequested && done < records.Count) return Stopped(path, done, records.Count);
                        Console.WriteLine($"{Path.GetFileName(path)}: {records.Count} records; {exact + revised} of {records.Count} papers already seen ({exact} exact, {revised} revised)");
                        continue;
                    }
                    // A file with several date lines is one digest per day, each its own write.
                    foreach (var digest in digests[path])
                    {
                        foreach (var problem in digest.Problems) Console.Error.WriteLine($"{path}: {problem}");
                        string source = parse.GetValue(name) ?? Path.GetFileNameWithoutExtension(path);
                        var ingested = await IngestAsync(PaperIngestor.PapersOf(digest), PaperIngestor.DigestInfo.Of(digest, source));
                        string left = digest.PageLinesLeftOut > 0 ? $", {digest.PageLinesLeftOut} page lines left out" : "";
                        Console.WriteLine($"{Path.GetFileName(path)}: {digest.Papers.Count} papers, dated {digest.Date:yyyy-MM-dd} ({Describe(digest.DateRule)}{left}); {ingested.Summary}");
                    }
                }
                Console.WriteLine($"{collection.PaperCount} papers in {collection.Location}");
            }
            finally { embedder?.Dispose(); }
            return 0;
        });
        return command;
    }

    static bool IsRecordFile(string path) =>
        path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);

    /// <summary>The file's digests, one per date line; a refused digest is its problems on stderr and one line naming the file (exit 1).</summary>
    static IReadOnlyList<ParsedDigest> ParseDigestFile(string path, DateOnly? date, int? year)
    {
        var text = DigestParser.DecodeText(File.ReadAllBytes(path), path);
        try { return DigestParser.ParseDays(text, new DigestParseOptions { Date = date, Year = year, FileName = path, DateHint = "--date YYYY-MM-DD" }); }
        catch (DigestRefusedException e)
        {
            foreach (var problem in e.Problems) Console.Error.WriteLine($"{path}: {problem}");
            throw new CliException($"{path}: refused: {e.Message}");
        }
    }

    static string Describe(DateRule rule) => rule switch
    {
        DateRule.DateLineWithYear => "from the date line",
        DateRule.GivenDate => "from --date",
        DateRule.GivenYear => "year from --year",
        DateRule.FileName => "year from the file name",
        _ => "year of the ingest date",
    };

    /// <returns>Records made durable (all of them unless <paramref name="stop"/> fired: then those of the batches written before it).</returns>
    static async Task<int> StreamRecordsAsync(TextReader input, int batchSize, bool ack, Func<IReadOnlyList<IncomingPaper>, Task<IngestResult>> ingest, CancellationToken stop)
    {
        var pending = new List<IncomingPaper>();
        int line = 0, batches = 0, kept = 0;
        async Task FlushAsync()
        {
            if (pending.Count == 0) return;
            var result = await ingest(pending.ToList());
            batches++;
            if (ack) Console.Out.WriteLine($"ack {batches} {string.Join(',', result.Listings.Select(l => PaperIdentity.Format(l.Key)))}");
            Console.Out.Flush();
            kept += pending.Count;
            pending.Clear();
        }
        while (input.ReadLine() is { } text)
        {
            if (stop.IsCancellationRequested) return kept; // the records read since the last batch were never acknowledged
            line++;
            if (text.Trim().Length == 0) continue;
            pending.Add(PaperRecordReader.ReadLine(text, $"stdin:{line}"));
            if (pending.Count >= batchSize) await FlushAsync();
        }
        if (stop.IsCancellationRequested) return kept;
        await FlushAsync();
        return kept;
    }
}
