using System.Text.RegularExpressions;
using PaperVec.Storage;
using PaperVec.Tests.Api;

namespace PaperVec.Tests.Cli;

/// <summary>
/// Issue 29 item 3: the paper verbs beside a running `serve` (a real process holding the directory)
/// print what they print locally on an identical copy; verify says the directory is in use and what
/// to do; --server URL works; a killed server's address file is not trusted.
/// </summary>
[Collection("embedder")]
public class ServerBesideCommandTests
{
    const string Key = "beside-the-server-key";

    [Fact]
    public async Task PaperVerbsBesideARunningServerPrintWhatTheyPrintOnACopy()
    {
        string root = Directory.CreateTempSubdirectory("pv-cli-beside").FullName;
        string served = Path.Combine(root, "served"), copy = Path.Combine(root, "copy");
        string mar11 = Path.Combine(RepoPaths.Digests, "daily-papers-mar-11.txt"), mar12 = Path.Combine(RepoPaths.Digests, "daily-papers-mar-12.txt");
        try
        {
            var (exit, _, err) = CliRunner.Run("ingest", mar11, "--year", "2025", "--data", served);
            Assert.True(exit == 0, err);
            CopyDirectory(served, copy);

            // The key comes from configuration (the helper clears $PAPERVEC_API_KEY): the command line finds it in the address file.
            using (var server = ServeProcess.Start(served, new Dictionary<string, string?> { ["PaperVec__ApiKey"] = Key }))
            {
                await server.WaitUntilReadyAsync();
                string addressFile = ServerAddressFile.PathIn(served);
                Assert.True(File.Exists(addressFile), server.Output);
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(addressFile));
                Assert.Equal(server.BaseUrl, ServerAddressFile.Read(served)!.Url);

                // Each verb on the served directory (sent to the server: the lock is the server's) and on the copy (opened here).
                string Same(string[] args, Func<string, string>? normalize = null)
                {
                    var remote = CliRunner.Run([.. args, "--data", served]);
                    var local = CliRunner.Run([.. args, "--data", copy]);
                    normalize ??= s => s;
                    Assert.True(remote.Exit == local.Exit, $"{string.Join(' ', args)}: exit {remote.Exit} beside the server, {local.Exit} locally: {remote.Err} / {local.Err}");
                    Assert.Equal(normalize(local.Out.Replace(copy, served)), normalize(remote.Out));
                    Assert.Equal(local.Err.Replace(copy, served), remote.Err);
                    return remote.Out;
                }
                Same(["ingest", mar12, "--year", "2025"]); // a write, with the key from the address file
                string found = Same(["search", "Grad-CAM visual explanations", "--k", "5"]);
                Same(["search", "graph neural networks", "--k", "5", "--mode", "lexical", "--json"]);
                string gradCam = Regex.Match(found, @"([0-9a-f]{16})  Grad-CAM: Visual").Groups[1].Value;
                Assert.NotEmpty(gradCam);
                Same(["similar", gradCam, "--k", "5"]);
                Same(["similar", "2501.99999"]); // the same one-line refusal
                // Recommendation scores are sums of many terms: the last printed digit may differ (float order).
                static string Unscored(string text) => Regex.Replace(text, @"-?\d+\.\d{3}  ", "#  ");
                Same(["recommend", "--like", gradCam, "--k", "5"], Unscored);
                Same(["library", "like", "mine", gradCam]);
                Same(["library", "show", "mine"]);
                Same(["library", "list"], s => Regex.Replace(s, @"\d{4}-\d\d-\d\d \d\d:\d\d", "TIME"));
                Same(["rank", "2025-03-12/daily-papers-mar-12", "--library", "mine"], Unscored);
                Same(["recommend", "--library", "nobody"]);
                Same(["dupes"]);
                Same(["digests", "list"]);
                // stats: the counts and the directory agree; bytes and recovery are each process's own.
                Same(["stats"], s => string.Join('\n', s.Split('\n').Where(l => l.StartsWith("data directory") || l.StartsWith("papers") || l.StartsWith("digests"))));

                // verify needs the directory itself: in use, by that server, and what to do.
                (exit, _, err) = CliRunner.Run("verify", "--data", served);
                Assert.Equal(1, exit);
                Assert.Contains($"in use by the server at {server.BaseUrl}", err);
                Assert.Contains("stop the server", err);
                Assert.Single(err.Trim().Split('\n'));

                // --server URL names it without a data directory; writes then need the key.
                var named = CliRunner.Run("search", "Grad-CAM visual explanations", "--k", "5", "--server", server.BaseUrl);
                Assert.True(named.Exit == 0, named.Err);
                Assert.Equal(found, named.Out);
                (exit, _, err) = CliRunner.Run("library", "dislike", "other", gradCam, "--server", server.BaseUrl);
                Assert.Equal(1, exit);
                Assert.Contains("API key", err);
                (exit, _, err) = CliRunner.Run("library", "dislike", "other", gradCam, "--server", server.BaseUrl, "--api-key", Key);
                Assert.True(exit == 0, err);

                // kill -9: the address file stays behind, but the lock is free, so the verb opens the directory itself.
                server.SendSigkill();
                Assert.True(File.Exists(addressFile));
                var afterKill = CliRunner.Run("search", "Grad-CAM visual explanations", "--k", "5", "--data", served);
                Assert.True(afterKill.Exit == 0, afterKill.Err);
                Assert.Equal(found, afterKill.Out);
                Assert.False(File.Exists(addressFile), "the stale address file was left for the next verb to trust");
            }

            // A clean stop removes the address file.
            using (var again = ServeProcess.Start(served))
            {
                await again.WaitUntilReadyAsync();
                Assert.True(File.Exists(ServerAddressFile.PathIn(served)));
                again.SendSigterm();
                Assert.Equal(0, again.WaitForExit(TimeSpan.FromMinutes(1)));
                Assert.False(File.Exists(ServerAddressFile.PathIn(served)));
            }
        }
        finally { Directory.Delete(root, true); }
    }

    static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }
}
