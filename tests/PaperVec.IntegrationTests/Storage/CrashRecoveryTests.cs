using System.Diagnostics;
using System.Globalization;
using System.Text;
using PaperVec.Storage;
using Xunit.Abstractions;

namespace PaperVec.Tests.Storage;

/// <summary>
/// A real crash test: `papervec ingest -` runs as a child process, streaming paper records (with
/// vectors, so no model is needed) and printing "ack N IDS" after each durable batch. The test kills
/// it with SIGKILL at random moments, or lets it die inside a checkpoint through a crash point armed by the test-only host (tests/PaperVec.CrashHost, through PaperDatabaseOptions.AtCheckpointStep),
/// then checks that every acknowledged paper is readable, is its own nearest neighbour and has its term vector, that
/// nothing is duplicated, and that the store opens cleanly. Each round resends everything not yet
/// acknowledged, so re-ingesting is exercised too.
/// </summary>
public class CrashRecoveryTests(ITestOutputHelper output)
{
    const int Dimension = 384;

    static string Record(int i)
    {
        var random = new Random(1000 + i);
        var vector = StoreTestData.UnitVector(random, Dimension);
        var sb = new StringBuilder();
        sb.Append($"{{\"id\":\"crash.{i}\",\"title\":\"Crash test paper {i}\",\"abstract\":\"Abstract number {i} about durable storage.\",\"vector\":[");
        for (int d = 0; d < Dimension; d++) sb.Append(d == 0 ? "" : ",").Append(vector[d].ToString("R", CultureInfo.InvariantCulture));
        return sb.Append("]}").ToString();
    }

    /// <summary>The real command line with a crash point armed (tests/PaperVec.CrashHost): the shipped CLI has no such switch.</summary>
    static string CrashHostDll => Path.Combine(AppContext.BaseDirectory, "PaperVec.CrashHost.dll");

    [Fact]
    public async Task AcknowledgedPapersSurviveSigkillAndCrashesInsideCheckpoints()
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(20261122);
        var acked = new HashSet<string>();
        int nextUnacked = 0, totalSent = 0;
        const int rounds = 24;
        try
        {
            for (int round = 0; round < rounds; round++)
            {
                // Every fourth round dies inside a checkpoint; others checkpoint after every batch or rarely.
                string? crashAt = (round % 4) switch { 1 => "after-store-checkpoint", 3 => "during-index-snapshot", _ => null };
                string checkpointMb = crashAt != null || round % 2 == 0 ? "0" : "256";
                var start = new ProcessStartInfo("dotnet", [CrashHostDll, crashAt ?? "none", "ingest", "-", "--data", dir, "--ack", "--batch", "10", "--checkpoint-mb", checkpointMb])
                {
                    RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                };
                using var child = Process.Start(start)!;
                var acksThisRound = new List<string>();
                var stderr = new StringBuilder();
                child.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (stderr) stderr.AppendLine(e.Data); };
                child.BeginErrorReadLine();
                var reader = Task.Run(() =>
                {
                    while (child.StandardOutput.ReadLine() is { } line)
                        if (line.StartsWith("ack ", StringComparison.Ordinal))
                            lock (acksThisRound) acksThisRound.AddRange(line.Split(' ')[2].Split(','));
                });
                int first = nextUnacked;
                var writer = Task.Run(() =>
                {
                    try
                    {
                        for (int i = first; i < first + 400; i++)
                        {
                            child.StandardInput.WriteLine(Record(i));
                            Interlocked.Increment(ref totalSent);
                        }
                        child.StandardInput.Flush();
                    }
                    catch (IOException) { } // the child died while we were writing
                });

                bool exited = child.WaitForExit(crashAt != null ? 30_000 : random.Next(1200, 3500));
                if (!exited) child.Kill(entireProcessTree: true); // SIGKILL
                child.WaitForExit();
                await Task.WhenAny(Task.WhenAll(writer, reader), Task.Delay(10_000));
                lock (acksThisRound) acked.UnionWith(acksThisRound);
                if (crashAt != null) Assert.True(child.ExitCode != 0, $"round {round}: expected the {crashAt} hook to crash the child; stderr: {stderr}");
                output.WriteLine($"round {round}: {(crashAt ?? (exited ? "exited" : "SIGKILL"))}, {acksThisRound.Count} acked this round, {acked.Count} in all, exit {child.ExitCode}");

                await using var db = await PaperDatabase.OpenAsync(dir);
                Assert.Empty(db.Recovery.Damage);
                var vector = new float[Dimension];
                foreach (var id in acked)
                {
                    Assert.True(PaperIdentity.TryParse(id, out long key), id);
                    var paper = db.GetPaper(key);
                    Assert.True(paper != null, $"round {round}: acknowledged paper {id} is missing");
                    var hits = db.Vectors.Search(paper.Vector, 1);
                    Assert.Equal(key, hits[0].Id);
                    // Its term vector (the recommender's tf-idf input) came back with it.
                    Assert.Equal(PaperVec.Lexical.LexicalIndex.Tokens(paper.Title + "\n" + paper.Abstract), db.LexicalTokens([key])[0]);
                }
                Assert.True(db.IndexMatchesStore(out var problem), problem);
                Assert.Equal(db.PaperCount, db.Papers().Select(p => p.Key).Distinct().Count());
                Assert.True(db.PaperCount >= acked.Count);
                Assert.True(db.PaperCount <= nextUnacked + 400);
                db.Index.CheckIntegrity();
                nextUnacked = Enumerable.Range(0, int.MaxValue).First(i => db.FindPaper($"crash.{i}") == null);
            }
            Assert.True(acked.Count > 100, $"only {acked.Count} papers acknowledged over {rounds} rounds");
        }
        finally { Directory.Delete(dir, true); }
    }
}
