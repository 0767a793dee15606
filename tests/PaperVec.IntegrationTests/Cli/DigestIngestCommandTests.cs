using PaperVec.Tests.Ingest;

namespace PaperVec.Tests.Cli;

/// <summary>`papervec ingest` over pasted variants of the sample digests (issue 26, items 1, 2 and 9): refusals exit 1 and write nothing.</summary>
[Collection("embedder")]
public class DigestIngestCommandTests
{
    static string Write(string dir, string name, string text)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void RefusedDigestsExitOneNameTheLinesAndWriteNothing()
    {
        string dir = Directory.CreateTempSubdirectory("pv-cli-digests").FullName;
        try
        {
            string data = Path.Combine(dir, "data");
            var clean = DigestVariants.Clean("daily-papers-mar-11.txt");
            string garbage = Write(dir, "garbage.txt", DigestVariants.WithUnknownLines(clean));
            var (exit, output, err) = CliRunner.Run("ingest", garbage, "--year", "2025", "--data", data);
            Assert.True(exit == 1, err + output);
            Assert.Contains("garbage.txt: refused: 31 of 62 blocks", err);
            Assert.Contains("lines 11, ", err);
            Assert.False(Directory.Exists(data), "a refused digest created the data directory");

            string undated = Write(dir, "undated.txt", DigestVariants.WithoutDateLine(DigestVariants.Raw("daily-papers-mar-11.txt"), "Mar 11"));
            (exit, _, err) = CliRunner.Run("ingest", undated, "--data", data);
            Assert.Equal(1, exit);
            Assert.Contains("undated.txt: refused: the digest has no date line", err);
            Assert.Contains("pass --date YYYY-MM-DD", err);

            string empty = Write(dir, "empty.txt", "\r\n  \r\n");
            (exit, _, err) = CliRunner.Run("ingest", empty, "--year", "2025", "--data", data);
            Assert.Equal(1, exit);
            Assert.Contains("empty.txt: refused: the digest is empty", err);

            // A good file before a refused one: nothing of either is written (every digest is parsed first).
            (exit, _, _) = CliRunner.Run("ingest", Path.Combine(RepoPaths.Digests, "daily-papers-mar-12.txt"), garbage, "--year", "2025", "--data", data);
            Assert.Equal(1, exit);
            Assert.False(Directory.Exists(data));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void PageLinesParagraphBreaksAndTwoDaysIngestAsTheCleanFiles()
    {
        string dir = Directory.CreateTempSubdirectory("pv-cli-digests").FullName;
        try
        {
            string data = Path.Combine(dir, "data");
            var mar11 = DigestVariants.Clean("daily-papers-mar-11.txt");
            var mar12 = DigestVariants.Clean("daily-papers-mar-12.txt");
            // The copy: a submitter line under each title, a paragraph break in each abstract, CRLF; then both days in one file.
            string copy = Write(dir, "daily-papers-mar-11.txt", DigestVariants.Encodings["crlf"](DigestVariants.WithBoth(mar11)));
            var (exit, output, err) = CliRunner.Run("ingest", copy, "--year", "2025", "--data", data);
            Assert.True(exit == 0, err);
            Assert.DoesNotContain("skipped", err);
            Assert.Contains("daily-papers-mar-11.txt: 31 papers, dated 2025-03-11 (year from --year, 31 page lines left out); 0 of 31 papers already seen", output);

            string both = Write(dir, "two-days.txt", DigestVariants.Raw("daily-papers-mar-11.txt") + "\n" + DigestVariants.WithParagraphBreaks(mar12));
            (exit, output, err) = CliRunner.Run("ingest", both, "--year", "2025", "--data", data);
            Assert.True(exit == 0, err);
            Assert.Contains("two-days.txt: 31 papers, dated 2025-03-11 (year from --year); 31 of 31 papers already seen (31 exact, 0 revised)", output);
            Assert.Contains("two-days.txt: 44 papers, dated 2025-03-12 (year from --year); 3 of 44 papers already seen (3 exact, 0 revised)", output);
            Assert.Contains("72 papers in", output);
        }
        finally { Directory.Delete(dir, true); }
    }
}
