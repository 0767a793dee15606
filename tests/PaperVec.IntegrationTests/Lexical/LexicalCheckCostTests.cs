using System.Diagnostics;
using System.Text.Json;
using PaperVec.Lexical;
using Xunit.Abstractions;

namespace PaperVec.Tests.Lexical;

/// <summary>
/// What checking the lexical index at every open costs on a realistically large index (real arXiv
/// abstracts, repeated to about 160k papers): the CRC-32 check of every file and the key-set read.
/// A measurement, not a pass/fail timing: run with PAPERVEC_MEASURE_LEXICAL=1 (and PAPERVEC_SHARED when shared/ is elsewhere) and read the output.
/// </summary>
public class LexicalCheckCostTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void MeasureTheOpenTimeCheckOnALargeIndex()
    {
        if (Environment.GetEnvironmentVariable("PAPERVEC_MEASURE_LEXICAL") != "1") return;
        string corpus = RepoPaths.RequireShared(RepoPaths.SharedCorpus);
        var papers = File.ReadLines(corpus).Select(line => JsonDocument.Parse(line).RootElement)
            .Select(e => (Title: e.GetProperty("title").GetString()!, Abstract: e.GetProperty("abstract").GetString()!)).ToList();
        string dir = Directory.CreateTempSubdirectory("pv-lexcost-").FullName;
        try
        {
            var keys = new HashSet<long>();
            var clock = Stopwatch.StartNew();
            using (var index = LexicalIndex.Open(dir, out _))
            {
                for (int copy = 0; copy < 4; copy++)
                    for (int i = 0; i < papers.Count; i++)
                    {
                        long key = (long)copy * 1_000_000 + i + 1;
                        keys.Add(key);
                        index.Put(key, $"{papers[i].Title} (part {copy})", papers[i].Abstract);
                    }
                index.Commit(1);
            }
            long bytes = Directory.GetFiles(dir).Sum(f => new FileInfo(f).Length);
            output.WriteLine($"indexed {keys.Count} papers in {clock.Elapsed.TotalSeconds:0.0} s; {Directory.GetFiles(dir).Length} files, {bytes / 1e6:0.0} MB");
            for (int run = 0; run < 3; run++)
            {
                clock.Restart();
                Assert.Null(LexicalIndex.Check(dir));
                double check = clock.Elapsed.TotalMilliseconds;
                clock.Restart();
                using var index = LexicalIndex.Open(dir, out string? damage);
                Assert.Null(damage);
                double open = clock.Elapsed.TotalMilliseconds;
                clock.Restart();
                Assert.Null(index.DifferenceFrom(keys));
                output.WriteLine($"run {run}: checksums of every file {check:0} ms ({bytes / 1e6 / (check / 1000):0} MB/s); open (checksums again + writer) {open:0} ms; key set {clock.Elapsed.TotalMilliseconds:0} ms");
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
