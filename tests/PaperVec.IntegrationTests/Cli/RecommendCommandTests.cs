using System.Text.Json;

namespace PaperVec.Tests.Cli;

/// <summary>`papervec recommend`, `papervec library ...` and `papervec rank` over the sample digests.</summary>
[Collection("embedder")]
public class RecommendCommandTests
{
    [Fact]
    public void ALibraryBuiltOnTheCommandLineRanksADigestAndRecommends()
    {
        string data = Directory.CreateTempSubdirectory("pv-cli-rec").FullName;
        try
        {
            var (exit, output, err) = CliRunner.Run("ingest", Path.Combine(RepoPaths.Digests, "daily-papers-mar-11.txt"), Path.Combine(RepoPaths.Digests, "daily-papers-mar-12.txt"), "--year", "2025", "--data", data);
            Assert.True(exit == 0, err);
            (exit, output, err) = CliRunner.Run("search", "Grad-CAM visual explanations", "--data", data, "--k", "1", "--json", "--mode", "lexical");
            Assert.True(exit == 0, err);
            string gradCam = JsonDocument.Parse(output).RootElement.GetProperty("results")[0].GetProperty("id").GetString()!;

            (exit, output, err) = CliRunner.Run("recommend", "--like", gradCam, "--k", "3", "--data", data, "--json");
            Assert.True(exit == 0, err);
            var results = JsonDocument.Parse(output).RootElement.GetProperty("results").EnumerateArray().ToList();
            Assert.Equal(3, results.Count);
            Assert.DoesNotContain(results, r => r.GetProperty("id").GetString() == gradCam);
            Assert.Contains(results, r => r.GetProperty("title").GetString()!.Contains("Grad-CAM++"));

            (exit, output, err) = CliRunner.Run("library", "like", "mine", gradCam, "--data", data);
            Assert.True(exit == 0, err);
            Assert.Contains("library 'mine': 1 liked, 0 disliked", output);
            (exit, output, err) = CliRunner.Run("library", "show", "mine", "--data", data);
            Assert.Contains($"liked\t{gradCam}\tGrad-CAM:", output);

            (exit, output, err) = CliRunner.Run("rank", "2025-03-12/daily-papers-mar-12", "--library", "mine", "--data", data);
            Assert.True(exit == 0, err);
            Assert.Contains("because you liked \"Grad-CAM:", output);

            // Bad input: one line, non-zero exit, nothing written.
            (exit, _, err) = CliRunner.Run("library", "like", "mine", "2501.99999", "--data", data);
            Assert.Equal(1, exit);
            Assert.Contains("no stored paper has id '2501.99999'", err);
            (exit, _, err) = CliRunner.Run("library", "like", "not/valid", gradCam, "--data", data);
            Assert.Equal(1, exit);
            Assert.Contains("is not valid", err);
            (exit, _, err) = CliRunner.Run("recommend", "--data", data);
            Assert.Equal(2, exit);
            Assert.Contains("--like", err);
            (exit, output, _) = CliRunner.Run("library", "list", "--data", data);
            Assert.Equal("mine\t1 liked\t0 disliked", output.Trim()[..23]);
            (exit, _, err) = CliRunner.Run("library", "delete", "mine", "--data", data);
            Assert.True(exit == 0, err);
            (exit, _, err) = CliRunner.Run("rank", "2025-03-12/daily-papers-mar-12", "--library", "mine", "--data", data);
            Assert.Equal(1, exit);
            Assert.Contains("no library named 'mine'", err);
        }
        finally { Directory.Delete(data, true); }
    }
}
