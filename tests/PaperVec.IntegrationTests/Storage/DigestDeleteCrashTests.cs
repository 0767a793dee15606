using System.Diagnostics;
using System.Text;
using PaperVec.Engine;
using PaperVec.Ingest;
using PaperVec.Storage;
using Xunit.Abstractions;

namespace PaperVec.Tests.Storage;

/// <summary>
/// `papervec digests delete` killed with SIGKILL at random moments, and dying inside the checkpoint that
/// follows it (tests/PaperVec.CrashHost's crash points), over copies of one data directory: every reopen
/// finds the delete wholly done or not at all (one log entry), wholly done whenever it was acknowledged,
/// and the directory verifies.
/// </summary>
public class DigestDeleteCrashTests(ITestOutputHelper output)
{
    static readonly PaperIngestor.DigestInfo Earlier = new("2025-03-10/digest", new DateOnly(2025, 3, 10), "digest");
    static readonly PaperIngestor.DigestInfo Mistaken = new("2026-03-11/digest", new DateOnly(2026, 3, 11), "digest");
    const int Papers = 400, Shared = 50;

    static string CrashHostDll => Path.Combine(AppContext.BaseDirectory, "PaperVec.CrashHost.dll");

    static async Task<List<long>> FillAsync(string dir)
    {
        var random = new Random(29);
        var papers = Enumerable.Range(0, Papers).Select(n => new IncomingPaper($"Crash digest paper {n}",
            $"Abstract {n}: " + string.Join(" ", Enumerable.Repeat($"theme{n} durable logs", 8))) { Vector = StoreTestData.UnitVector(random) }).ToList();
        await using var collection = await PaperCollection.OpenAsync(dir);
        await collection.IngestAsync(papers[..Shared], Earlier);
        await collection.IngestAsync(papers, Mistaken);
        return papers.Select(p => PaperIdentity.KeyOfTitle(p.Title)).ToList();
    }

    static void Copy(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(dir.Replace(from, to));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories)) File.Copy(file, file.Replace(from, to));
    }

    [Fact]
    public async Task ADigestDeleteIsWhollyDoneOrNotAtAllAfterAKill9()
    {
        string root = Directory.CreateTempSubdirectory("pv-digest-crash-").FullName;
        try
        {
            string original = Path.Combine(root, "original");
            var keys = await FillAsync(original);
            var random = new Random(20261208);
            int done = 0, undone = 0;
            string[] points = ["after-store-checkpoint", "during-index-snapshot", "none", "none", "none", "none", "none", "none"];
            for (int round = 0; round < points.Length; round++)
            {
                string dir = Path.Combine(root, $"round{round}");
                Copy(original, dir);
                var start = new ProcessStartInfo("dotnet", [CrashHostDll, points[round], "digests", "delete", Mistaken.Id, "--data", dir])
                {
                    RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                };
                using var child = Process.Start(start)!;
                var stdout = new StringBuilder();
                child.OutputDataReceived += (_, e) => { if (e.Data != null) lock (stdout) stdout.AppendLine(e.Data); };
                child.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (stdout) stdout.AppendLine(e.Data); };
                child.BeginOutputReadLine();
                child.BeginErrorReadLine();
                bool crashPoint = points[round] != "none";
                if (!child.WaitForExit(crashPoint ? 60_000 : random.Next(150, 1600))) child.Kill(entireProcessTree: true); // SIGKILL
                child.WaitForExit();
                string printed;
                lock (stdout) printed = stdout.ToString();
                bool acknowledged = printed.Contains($"deleted digest {Mistaken.Id}");
                if (crashPoint)
                {
                    Assert.True(acknowledged && child.ExitCode != 0, $"round {round}: expected the delete acknowledged and a crash at {points[round]}: {printed}");
                }

                await using var db = await PaperDatabase.OpenAsync(dir);
                Assert.Empty(db.Recovery.Damage);
                bool deleted = db.Catalog.GetDigest(Mistaken.Id) == null;
                Assert.True(deleted || !acknowledged, $"round {round}: the delete was acknowledged but the digest is still there");
                for (int i = 0; i < Papers; i++)
                {
                    var paper = db.GetPaper(keys[i]);
                    if (i < Shared) Assert.Equal(deleted ? [Earlier.Id] : [Earlier.Id, Mistaken.Id], paper!.Digests);
                    else if (deleted) Assert.Null(paper);
                    else Assert.Equal([Mistaken.Id], paper!.Digests);
                }
                Assert.Equal(deleted ? Shared : Papers, db.PaperCount);
                Assert.True(db.IndexMatchesStore(out var problem), problem);
                var report = db.Verify();
                Assert.True(report.Sound, $"round {round}: {string.Join("; ", report.Problems)}");
                if (deleted) done++; else undone++;
                output.WriteLine($"round {round}: {points[round]}, exit {child.ExitCode}, acknowledged {acknowledged}, {(deleted ? "deleted" : "not deleted")}");
            }
            Assert.True(done >= 2, "the crash-point rounds acknowledge the delete before dying");
        }
        finally { Directory.Delete(root, true); }
    }
}
