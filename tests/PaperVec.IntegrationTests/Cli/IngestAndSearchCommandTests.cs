using System.Text.Json;
using PaperVec.Tests.Embedding;

namespace PaperVec.Tests.Cli;

[Collection("embedder")]
public class IngestAndSearchCommandTests
{
    [Fact]
    public void SampleDigestsIngestIdempotentlyAndAnswerSearches()
    {
        string data = Directory.CreateTempSubdirectory("pv-cli-data").FullName;
        try
        {
            string mar11 = Path.Combine(RepoPaths.Digests, "daily-papers-mar-11.txt"), mar12 = Path.Combine(RepoPaths.Digests, "daily-papers-mar-12.txt");
            var (exit, output, err) = CliRunner.Run("ingest", mar11, mar12, "--year", "2025", "--data", data);
            Assert.True(exit == 0, err);
            Assert.Contains("daily-papers-mar-11.txt: 31 papers, dated 2025-03-11 (year from --year); 0 of 31 papers already seen (0 exact, 0 revised)", output);
            Assert.Contains("daily-papers-mar-12.txt: 44 papers, dated 2025-03-12 (year from --year); 3 of 44 papers already seen (3 exact, 0 revised)", output);
            Assert.Contains("72 papers in", output);

            (exit, output, err) = CliRunner.Run("ingest", mar12, "--year", "2025", "--data", data);
            Assert.True(exit == 0, err);
            Assert.Contains("44 of 44 papers already seen (44 exact, 0 revised)", output);
            Assert.Contains("72 papers in", output);

            (exit, output, err) = CliRunner.Run("search", "visual explanations of CNN decisions with class activation maps", "--data", data, "--k", "3", "--json");
            Assert.True(exit == 0, err);
            using var results = JsonDocument.Parse(output);
            var first = results.RootElement.GetProperty("results")[0];
            Assert.StartsWith("Grad-CAM", first.GetProperty("title").GetString());
            Assert.Equal("2025-03-11", first.GetProperty("date").GetString());
            string id = first.GetProperty("id").GetString()!;

            (exit, output, err) = CliRunner.Run("search", "visual explanations of CNN decisions", "--data", data, "--k", "5", "--from", "2025-03-12", "--json");
            Assert.True(exit == 0, err);
            using (var later = JsonDocument.Parse(output))
            {
                var dates = later.RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("date").GetString()).ToList();
                Assert.Equal(5, dates.Count);
                Assert.All(dates, d => Assert.Equal("2025-03-12", d));
            }

            (exit, output, err) = CliRunner.Run("similar", id, "--data", data, "--k", "5", "--json");
            Assert.True(exit == 0, err);
            using var similar = JsonDocument.Parse(output);
            var hits = similar.RootElement.GetProperty("results").EnumerateArray().ToList();
            Assert.Equal(5, hits.Count);
            Assert.DoesNotContain(hits, h => h.GetProperty("id").GetString() == id);
            Assert.Contains(hits, h => h.GetProperty("title").GetString()!.Contains("Grad-CAM++"));

            Assert.Equal(1, CliRunner.Run("similar", "0123456789abcdef", "--data", data).Exit);
            Assert.Equal(2, CliRunner.Run("search", "x", "--data", data, "--k", "0").Exit);

            (exit, output, err) = CliRunner.Run("dupes", "--data", data);
            Assert.True(exit == 0, err);
            Assert.Contains("3 groups (3 exact)", output);
            (exit, output, err) = CliRunner.Run("dupes", "--data", data, "--json");
            Assert.True(exit == 0, err);
            using (var dupes = JsonDocument.Parse(output))
            {
                var groups = dupes.RootElement.GetProperty("groups").EnumerateArray().ToList();
                Assert.Equal(3, groups.Count);
                Assert.All(groups, g => Assert.Equal("exact", g.GetProperty("kind").GetString()));
                Assert.All(groups, g => Assert.Equal(["2025-03-11", "2025-03-12"], g.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("date").GetString())));
            }
            (exit, output, err) = CliRunner.Run("dupes", "--data", data, "--from", "2025-03-12");
            Assert.True(exit == 0, err);
            Assert.Contains("no duplicates", output);
            Assert.Equal(2, CliRunner.Run("dupes", "--data", data, "--min-cosine", "2").Exit);
            (exit, _, err) = CliRunner.Run("dupes", "--data", data, "--digest", "2025-01-01/nope");
            Assert.Equal(1, exit);
            Assert.Contains("no digest '2025-01-01/nope'", err);
        }
        finally { Directory.Delete(data, true); }
    }

    [Fact]
    public void RecordFilesIngestWithTheirOwnIdsAsAliases()
    {
        string data = Directory.CreateTempSubdirectory("pv-cli-data").FullName;
        string file = Path.Combine(data, "..", $"records-{Guid.NewGuid():N}.jsonl");
        try
        {
            File.WriteAllLines(file,
            [
                """{"id":"2503.00001","title":"Sparse attention for long documents","abstract":"We study sparse attention patterns.","authors":["A. Author","B. Author"],"date":"2025-03-18","categories":["cs.CL"]}""",
                """{"id":"2503.00002","title":"Robot grasping with tactile sensing","abstract":"Tactile feedback improves grasp success.","date":"2025-03-19"}""",
            ]);
            var (exit, output, err) = CliRunner.Run("ingest", file, "--data", data);
            Assert.True(exit == 0, err);
            Assert.Contains("2 records; 0 of 2 papers already seen", output);
            (exit, output, err) = CliRunner.Run("similar", "2503.00001", "--data", data, "--k", "1", "--json");
            Assert.True(exit == 0, err);
            Assert.Contains("Robot grasping", output);

            File.WriteAllText(file, "{\"id\":\"x\",\"title\":\"\"}\n");
            (exit, _, err) = CliRunner.Run("ingest", file, "--data", data);
            Assert.Equal(1, exit);
            Assert.Contains(":1: record has no title", err);
        }
        finally
        {
            Directory.Delete(data, true);
            File.Delete(file);
        }
    }
}
