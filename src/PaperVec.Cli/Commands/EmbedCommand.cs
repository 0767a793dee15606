using System.CommandLine;
using System.Runtime.InteropServices;
using PaperVec.Ingest;
using PaperVec.Storage;
using PaperVec.Cli.Common;

namespace PaperVec.Cli.Commands;

/// <summary>
/// `papervec embed --in FILE --out FILE.f32`: one UTF-8 text per input line, N x 384 little-endian
/// float32 rows out, in input order. Other tools check PaperVec's vectors with this: keep the format.
/// </summary>
static class EmbedCommand
{
    public static Command Create()
    {
        var input = new Option<FileInfo>("--in") { Description = "Text file, one text per line (UTF-8)", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "Output: N x 384 little-endian float32 rows", Required = true };
        var device = CommonOptions.Device();
        var batch = CommonOptions.Batch();
        var threads = CommonOptions.Threads();
        var workers = CommonOptions.Workers();
        var precision = CommonOptions.Precision();
        var command = new Command("embed", "Embed one text per line into raw float32 vectors") { input, output, device, batch, threads, workers, precision };
        command.SetAction(parse =>
        {
            var inFile = parse.GetValue(input)!;
            var outFile = parse.GetValue(output)!;
            if (!inFile.Exists) throw new CliException($"no such file: {inFile.FullName}");
            var texts = ReadLines(inFile.FullName);
            using var embedder = CommonOptions.LoadEmbedder(parse, device, batch, threads, workers, parse.GetValue(precision));
            var vectors = new float[texts.Count * embedder.Dimension];
            using (var progress = new ConsoleProgress("embed", texts.Count, "texts"))
                embedder.Embed(texts, vectors, done => progress.Report(done));
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the .f32 format is little-endian");
            AtomicFile.Write(outFile.FullName, MemoryMarshal.AsBytes(vectors.AsSpan()));
            Console.Error.WriteLine($"wrote {texts.Count} x {embedder.Dimension} float32 to {outFile.FullName}");
            return 0;
        });
        return command;
    }

    /// <summary>Lines of a UTF-8 file (LF or CRLF); a final newline does not start another text. Invalid UTF-8 is an error.</summary>
    internal static List<string> ReadLines(string path)
    {
        string text = DigestParser.DecodeUtf8(File.ReadAllBytes(path), path);
        var lines = text.Split('\n').Select(l => l.EndsWith('\r') ? l[..^1] : l).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }
}
