using System.Text.Json;

namespace PaperVec.Tests.Cli;

/// <summary>`papervec digests list|delete` (issue 29 item 2): the issue's mistaken ingest undone from the command line.</summary>
[Collection("embedder")]
public class DigestsCommandTests
{
    [Fact]
    public void AMistakenIngestIsListedAndUndoneAndDupesNoLongerReportIt()
    {
        string data = Directory.CreateTempSubdirectory("pv-cli-digests").FullName;
        string mar11 = Path.Combine(RepoPaths.Digests, "daily-papers-mar-11.txt");
        try
        {
            var (exit, output, err) = CliRunner.Run("ingest", mar11, "--year", "2025", "--data", data);
            Assert.True(exit == 0, err);
            // The issue's mistake: the same file again, without --year, filed under another year as a second digest.
            (exit, output, err) = CliRunner.Run("ingest", mar11, "--year", "2026", "--data", data);
            Assert.True(exit == 0, err);

            (exit, output, err) = CliRunner.Run("digests", "list", "--data", data, "--json");
            Assert.True(exit == 0, err);
            var listed = JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
            Assert.Equal(["2025-03-11/daily-papers-mar-11", "2026-03-11/daily-papers-mar-11"], listed.Select(d => d.GetProperty("id").GetString()));
            int papers = listed[1].GetProperty("papers").GetInt32();
            Assert.Equal(papers, listed[1].GetProperty("seenBefore").GetInt32());
            Assert.Equal("daily-papers-mar-11", listed[1].GetProperty("name").GetString());
            (exit, output, err) = CliRunner.Run("digests", "list", "--data", data);
            Assert.True(exit == 0, err);
            Assert.Matches(@"2026-03-11/daily-papers-mar-11\s+2026-03-11\s+daily-papers-mar-11\s+" + papers + @"\s+" + papers, output);
            (exit, output, _) = CliRunner.Run("dupes", "--data", data);
            Assert.Contains("2026-03-11/daily-papers-mar-11", output);

            (exit, output, err) = CliRunner.Run("digests", "delete", "2026-03-11/daily-papers-mar-11", "--data", data);
            Assert.True(exit == 0, err);
            Assert.StartsWith($"deleted digest 2026-03-11/daily-papers-mar-11: 0 papers deleted, {papers} kept ({papers} listed by another digest)", output);
            Assert.Contains("(digest 2025-03-11/daily-papers-mar-11 lists it too)", output);
            (exit, output, _) = CliRunner.Run("dupes", "--data", data);
            Assert.Equal("no duplicates", output.Trim());
            (exit, output, _) = CliRunner.Run("digests", "list", "--data", data);
            Assert.DoesNotContain("2026-03-11", output);

            // Unknown id: one line, exit 1, naming it and the stored ones.
            (exit, output, err) = CliRunner.Run("digests", "delete", "2026-03-11/daily-papers-mar-11", "--data", data);
            Assert.Equal(1, exit);
            Assert.Single(err.Trim().Split('\n'));
            Assert.Contains("2026-03-11/daily-papers-mar-11", err);
            Assert.Contains("2025-03-11/daily-papers-mar-11", err);

            // The last digest goes with its papers: only it brought them.
            (exit, output, err) = CliRunner.Run("digests", "delete", "2025-03-11/daily-papers-mar-11", "--data", data, "--json");
            Assert.True(exit == 0, err);
            var answer = JsonDocument.Parse(output).RootElement;
            Assert.Equal(papers, answer.GetProperty("deleted").GetArrayLength());
            Assert.Equal(0, answer.GetProperty("kept").GetArrayLength());
            (exit, output, err) = CliRunner.Run("verify", "--data", data);
            Assert.True(exit == 0, err + output);
            (exit, output, _) = CliRunner.Run("digests", "list", "--data", data);
            Assert.Equal("no digests", output.Trim());
            (exit, output, _) = CliRunner.Run("rank", "--help");
            Assert.Contains("papervec digests list shows them", output);
        }
        finally { Directory.Delete(data, true); }
    }
}
