using System.Text.Json;
using PaperVec.Engine;
using PaperVec.Storage;

namespace PaperVec.Tests.Cli;

/// <summary>
/// Issue 26 item 8: an unknown digest id lists the stored ones (the newest ten, how many more) with
/// a "did you mean"; an unknown paper id says which ids resolve, on the command line as the API says it.
/// </summary>
[Collection("embedder")]
public class UnknownIdHintTests
{
    [Fact]
    public void RankAndSimilarOfAnUnknownIdPointToTheFix()
    {
        string data = Directory.CreateTempSubdirectory("pv-cli-hint").FullName;
        try
        {
            var (exit, output, err) = CliRunner.Run("ingest", Path.Combine(RepoPaths.Digests, "daily-papers-mar-11.txt"), Path.Combine(RepoPaths.Digests, "daily-papers-mar-12.txt"), "--year", "2025", "--data", data);
            Assert.True(exit == 0, err);
            (exit, output, err) = CliRunner.Run("search", "Grad-CAM visual explanations", "--data", data, "--k", "1", "--json", "--mode", "lexical");
            string gradCam = JsonDocument.Parse(output).RootElement.GetProperty("results")[0].GetProperty("id").GetString()!;
            Assert.Equal(0, CliRunner.Run("library", "like", "mine", gradCam, "--data", data).Exit);

            // The digest's name alone (as the issue typed it): the id it names, and the stored ids, newest first.
            (exit, _, err) = CliRunner.Run("rank", "daily-papers-mar-12", "--library", "mine", "--data", data);
            Assert.Equal(1, exit);
            Assert.Equal("papervec: no digest with id 'daily-papers-mar-12' (did you mean '2025-03-12/daily-papers-mar-12'?);"
                + " stored digests, newest first: 2025-03-12/daily-papers-mar-12, 2025-03-11/daily-papers-mar-11", err.Trim());
            // A typo in the date.
            (exit, _, err) = CliRunner.Run("rank", "2025-03-13/daily-papers-mar-12", "--library", "mine", "--data", data);
            Assert.Equal(1, exit);
            Assert.Contains("did you mean '2025-03-12/daily-papers-mar-12'?", err);
            // Nothing near: the list alone.
            (exit, _, err) = CliRunner.Run("rank", "weekly", "--library", "mine", "--data", data);
            Assert.Equal(1, exit);
            Assert.DoesNotContain("did you mean", err);
            Assert.Contains("stored digests, newest first: 2025-03-12/daily-papers-mar-12, 2025-03-11/daily-papers-mar-11", err);

            // similar: the hint the API gives (one rule, NotFoundHints.Paper).
            (exit, _, err) = CliRunner.Run("similar", "nosuch", "--data", data);
            Assert.Equal(1, exit);
            Assert.Equal($"papervec: {NotFoundHints.Paper("nosuch")}", err.Trim());
            Assert.Contains("16-hex-digit PaperVec id", err);
        }
        finally { Directory.Delete(data, true); }
    }

    [Fact]
    public void ManyDigestsAreListedNewestTenAndHowManyMore()
    {
        var stored = Enumerable.Range(1, 14).Select(day => new DigestRecord($"2025-04-{day:00}/feed", new DateOnly(2025, 4, day), "feed", [], DateTimeOffset.UnixEpoch)).ToList();
        string message = NotFoundHints.Digest("2025-04-31/feed", stored);
        Assert.StartsWith("no digest with id '2025-04-31/feed' (did you mean '2025-04-13/feed'?); stored digests", message);
        Assert.EndsWith("stored digests, newest first: " + string.Join(", ", Enumerable.Range(5, 10).Reverse().Select(d => $"2025-04-{d:00}/feed")) + " (and 4 more)", message);
        Assert.Equal("no digest with id 'x'; no digest is stored yet", NotFoundHints.Digest("x", []));
    }
}
