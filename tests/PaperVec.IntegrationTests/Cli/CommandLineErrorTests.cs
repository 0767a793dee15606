using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace PaperVec.Tests.Cli;

/// <summary>
/// Issue 26 items 5-7: bad arguments are one line naming the flag and the form it wants (exit 2),
/// typos get "did you mean", reading verbs never create a data directory, Ctrl+C during an ingest
/// says what was kept, a taken port is one line.
/// </summary>
public partial class CommandLineErrorTests
{
    static string CliDll => Path.Combine(AppContext.BaseDirectory, "PaperVec.Cli.dll");

    public static TheoryData<string[], string, string> BadArguments => new()
    {
        { ["search", "foo", "--k", "abc"], "--k", "whole number" },
        { ["search", "foo", "--k", "0"], "--k", "1..1000" },
        { ["search", "foo", "--from", "12/03/2025"], "--from", "yyyy-MM-dd" },
        { ["search", "foo", "--from", "2025-13-01"], "--from", "yyyy-MM-dd" },
        { ["search", "foo", "--precision", "fp16"], "--precision", "int8" },
        { ["search", "foo", "--precision", "7"], "--precision", "fp32" },
        { ["search", "foo", "--device", "gpu"], "--device", "cuda" },
        { ["search", "foo", "--diversity", "2"], "--diversity", "0..1" },
        { ["search", "foo", "--diversity", "NaN"], "--diversity", "number" },
        { ["similar", "x", "--to", "2025/03/01"], "--to", "yyyy-MM-dd" },
        { ["recommend", "--like", "x", "--diversity", "2"], "--diversity", "0..1" },
        { ["recommend", "--like", "x", "--k", "5000"], "--k", "1..1000" },
        { ["ingest", "x.txt", "--year", "25"], "--year", "1990..2100" },
        { ["ingest", "x.txt", "--date", "11.03.2025"], "--date", "yyyy-MM-dd" },
        { ["ingest", "x.txt", "--batch", "many"], "--batch", "whole number" },
        { ["dupes", "--min-cosine", "2"], "--min-cosine", "0..1" },
        { ["dupes", "--from", "yesterday"], "--from", "yyyy-MM-dd" },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public void BadArgumentIsOneLineNamingTheFlagAndFormWithExit2(string[] args, string flag, string form)
    {
        string missing = Path.Combine(Path.GetTempPath(), $"pv-never-{Guid.NewGuid():N}");
        var (exit, output, err) = CliRunner.Run([.. args, "--data", missing]);
        Assert.Equal(2, exit);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one line, got: {err}");
        Assert.Contains(flag, lines[0]);
        Assert.Contains(form, lines[0]);
        Assert.Contains($"papervec {args[0]} --help", lines[0]);
        Assert.DoesNotContain("Exception", err);
        Assert.DoesNotContain("System.", err);
        Assert.Equal("", output);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public void BadArgumentInARealProcessHasNoStackTrace()
    {
        var (exit, _, err) = RunProcess(["search", "foo", "--k", "abc"]);
        Assert.Equal(2, exit);
        Assert.DoesNotContain("Unhandled exception", err);
        Assert.Equal("papervec search: --k expects a whole number, not 'abc' (see 'papervec search --help')", err.Trim());
    }

    [Theory]
    [InlineData(new[] { "serch", "foo" }, "unknown command 'serch'; did you mean 'search'?", "papervec search --help")]
    [InlineData(new[] { "search", "foo", "--kk", "3" }, "unknown option '--kk'; did you mean '--k'?", "papervec search --help")]
    [InlineData(new[] { "search", "foo", "--diversty", "0.5" }, "did you mean '--diversity'?", "papervec search --help")]
    [InlineData(new[] { "library", "lik", "mine", "x" }, "did you mean 'like'?", "papervec library like --help")]
    [InlineData(new[] { "ingest", "x.txt", "--yaer", "2025" }, "did you mean '--year'?", "papervec ingest --help")]
    public void TyposGetDidYouMeanAndTheVerbsOwnHelp(string[] args, string suggestion, string help)
    {
        var (exit, _, err) = CliRunner.Run(args);
        Assert.Equal(2, exit);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(suggestion, err);
        Assert.Contains(help, err);
    }

    public static TheoryData<string[]> ReadingVerbs => new()
    {
        new[] { "verify" }, new[] { "repair" }, new[] { "stats" }, new[] { "search", "robots", "--mode", "lexical" }, new[] { "similar", "2503.11677" },
        new[] { "dupes" }, new[] { "recommend", "--like", "2503.11677" }, new[] { "rank", "2025-03-11/x", "--library", "mine" },
        new[] { "library", "list" }, new[] { "library", "show", "mine" }, new[] { "library", "like", "mine", "2503.11677" },
    };

    [Theory]
    [MemberData(nameof(ReadingVerbs))]
    public void ReadingVerbsRefuseAMissingDataDirectoryAndLeaveItAbsent(string[] args)
    {
        string missing = Path.Combine(Path.GetTempPath(), $"pv-typo-{Guid.NewGuid():N}");
        var (exit, _, err) = CliRunner.Run([.. args, "--data", missing]);
        Assert.Equal(1, exit);
        Assert.Equal($"papervec: no data directory at {missing} (check --data or $PAPERVEC_DATA; `papervec ingest` creates one)", err.Trim());
        Assert.False(Directory.Exists(missing), $"{string.Join(' ', args)} created {missing}");
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>
    /// Ctrl+C during a bulk ingest of the shared arXiv corpus (40,717 records, embedded as they go):
    /// exit 130 and "kept N of 40,717 ... run the same command again to resume"; the same command
    /// run again skips the kept papers (its first batches acknowledge the same papers) and goes on
    /// past them, and every acknowledged paper is stored.
    /// </summary>
    /// <remarks>
    /// This test was skipped as "the child ignores SIGINT under the test host". The product was not
    /// at fault: the test built an assertion message holding <c>stderr.Result</c> before sending the
    /// signal, and C# evaluates that message eagerly, so the test waited for the child's stderr to
    /// close (the ingest's end) and signalled a process that was already finishing.
    /// </remarks>
    [SkippableFact]
    public async Task SigintDuringABulkIngestSaysWhatWasKeptAndAReRunResumes()
    {
        string corpus = RepoPaths.RequireShared(RepoPaths.SharedCorpus);
        const int Batch = 50;
        string data = Directory.CreateTempSubdirectory("pv-sigint").FullName;
        try
        {
            string[] args = ["ingest", corpus, "--data", data, "--ack", "--batch", $"{Batch}"];
            var (first, firstAcks) = InterruptAfterAcks(args, 1);
            int kept = first.Kept;
            Assert.InRange(kept, Batch, 40_716);
            Assert.Equal(kept / Batch, firstAcks.Count); // every batch it counts as kept was acknowledged, and no other

            // The same command again: the kept papers come first and are skipped (the same papers acknowledged), then it goes on.
            var (second, secondAcks) = InterruptAfterAcks(args, firstAcks.Count + 1);
            Assert.True(second.Kept > kept, $"the re-run kept {second.Kept}, the first run {kept}");
            Assert.Equal(firstAcks, secondAcks.Take(firstAcks.Count));

            await using var db = await PaperVec.Storage.PaperDatabase.OpenAsync(data);
            var acked = secondAcks.SelectMany(a => a).Distinct().ToList();
            Assert.All(acked, id => Assert.True(db.Catalog.ResolveId(id) != null, $"acknowledged paper {id} is not stored"));
            Assert.Equal(acked.Count, db.PaperCount); // nothing stored twice, nothing beyond what was acknowledged
        }
        finally { Directory.Delete(data, true); }
    }

    sealed record Interrupted(int Kept, string Err);

    /// <summary>Runs the CLI, sends SIGINT once <paramref name="acks"/> batches are acknowledged; the "kept" count and each ack's ids.</summary>
    static (Interrupted Result, List<string[]> Acks) InterruptAfterAcks(string[] args, int acks)
    {
        var start = Start(args);
        // A process started with SIGINT ignored (a test host run in the background) passes that on, and .NET then
        // leaves SIGINT ignored: env --default-signal (GNU coreutils) gives the CLI a terminal's default, as a user has.
        start.ArgumentList.Insert(0, start.FileName);
        start.ArgumentList.Insert(0, "--default-signal=INT");
        start.FileName = "env";
        using var child = Process.Start(start)!;
        var stderr = child.StandardError.ReadToEndAsync();
        var seen = new List<string[]>();
        string? line;
        while (seen.Count < acks && (line = child.StandardOutput.ReadLine()) != null)
            if (line.StartsWith("ack ", StringComparison.Ordinal)) seen.Add(line.Split(' ')[2].Split(','));
        // Not stderr.Result before the signal: that waits for the child to end (the bug that kept this test skipped).
        Assert.True(seen.Count == acks, "the ingest ended before " + acks + " acknowledged batches");
        int killed = Kill(child.Id, 2); // SIGINT, as Ctrl+C sends it
        Assert.True(killed == 0, $"kill failed: errno {Marshal.GetLastPInvokeError()}");
        var rest = child.StandardOutput.ReadToEndAsync();
        Assert.True(child.WaitForExit(TimeSpan.FromMinutes(3)), "the ingest did not stop after SIGINT");
        child.WaitForExit();
        string err = stderr.Result;
        foreach (var more in rest.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("ack ", StringComparison.Ordinal)))
            seen.Add(more.Split(' ')[2].Split(','));
        Assert.True(child.ExitCode == 130, $"exit {child.ExitCode}: {err}");
        var kept = KeptPattern().Match(err);
        Assert.True(kept.Success, $"no 'kept N of 40,717' line: {err}");
        Assert.Contains("(durable); run the same command again to resume: papers already stored are skipped", err);
        Assert.DoesNotContain("Exception", err);
        return (new Interrupted(int.Parse(kept.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture), err), seen);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"papervec: interrupted: kept ([\d,]+) of 40,717 papers of arxiv-cs-2025\.jsonl")]
    private static partial System.Text.RegularExpressions.Regex KeptPattern();

    [Fact]
    public void APortInUseIsOneLine()
    {
        string data = Directory.CreateTempSubdirectory("pv-port").FullName;
        var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        try
        {
            int port = ((IPEndPoint)taken.LocalEndpoint).Port;
            var (exit, output, err) = RunProcess(["serve", "--data", data, "--urls", $"http://127.0.0.1:{port}"]);
            Assert.Equal(1, exit);
            Assert.Equal($"papervec: Failed to bind to address http://127.0.0.1:{port}: address already in use (is another server running? choose another port with --urls)", err.Trim());
            Assert.DoesNotContain("ready", output);
            Assert.DoesNotContain(" at ", output);
        }
        finally
        {
            taken.Stop();
            Directory.Delete(data, true);
        }
    }

    static ProcessStartInfo Start(string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [CliDll, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["PAPERVEC_MODEL_DIR"] = RepoPaths.ModelDir;
        start.Environment.Remove("PAPERVEC_API_KEY");
        return start;
    }

    static (int Exit, string Out, string Err) RunProcess(string[] args)
    {
        using var process = Process.Start(Start(args))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), $"papervec {string.Join(' ', args)} did not exit");
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }
}
