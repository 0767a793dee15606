using System.Text.Json;
using PaperVec.Bench.Harness;
using PaperVec.Tests.Cli;

namespace PaperVec.Tests.Bench;

public class BenchIndexCommandTests
{
    [Fact]
    public void WritesTheTableAndTheJsonNamesOtherToolsRead()
    {
        string dir = Directory.CreateTempSubdirectory("papervec-bench-index-").FullName;
        try
        {
            string json = Path.Combine(dir, "index.json"), plot = Path.Combine(dir, "plot.svg");
            var (exit, stdout, stderr) = CliRunner.Run("bench", "index", "--n", "3000", "--clusters", "300", "--query-count", "100",
                "--ef", "10,64", "--threads", "2", "--similar", "--json", json, "--plot", plot, "--dump", Path.Combine(dir, "dump"));
            Assert.True(exit == 0, stderr);
            Assert.Contains("| ef  | recall@10 |", stdout);
            Assert.Contains("papers like this: 100 base rows", stdout);
            if (OperatingSystem.IsLinux()) Assert.Contains("CPU stolen by the hypervisor:", stdout);
            Assert.Matches(@"exact scan: [0-9.]+ M rows/s on one thread \([0-9.]+ GB/s; a plain read of the same rows: [0-9.]+ GB/s, so the scan runs at [0-9.]+x the read\)", stdout);

            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            var root = doc.RootElement;
            var build = root.GetProperty("build");
            Assert.True(build.GetProperty("insertsPerSecond").GetDouble() > 0);
            Assert.InRange(build.GetProperty("bytesPerVector").GetDouble(), 1536, 4000);
            Assert.Equal(2, build.GetProperty("threads").GetInt32());
            var scan = root.GetProperty("exactScan");
            Assert.True(scan.GetProperty("rowsPerSecondOneThread").GetDouble() > 0);
            Assert.True(scan.GetProperty("memoryReadBytesPerSecond").GetDouble() > 0);
            var runs = root.GetProperty("runs").EnumerateArray().ToList();
            Assert.Equal([10, 64], runs.Select(r => r.GetProperty("ef").GetInt32()));
            Assert.True(runs[1].GetProperty("recall").GetDouble() >= 0.95, "3,000 vectors at ef=64");
            Assert.True(runs[1].GetProperty("recall").GetDouble() >= runs[0].GetProperty("recall").GetDouble());
            Assert.All(runs, r => Assert.True(r.GetProperty("qps").GetDouble() > 0 && r.GetProperty("p99Us").GetDouble() >= r.GetProperty("p50Us").GetDouble()));

            var similar = root.GetProperty("similar").EnumerateArray().ToList();
            Assert.Equal(2, similar.Count);
            var at64 = similar[1];
            Assert.True(at64.GetProperty("recall").GetDouble() >= 0.95);
            Assert.True(at64.GetProperty("recall").GetDouble() >= at64.GetProperty("byVectorRecall").GetDouble() - 0.02);

            Assert.Equal("svg", System.Xml.Linq.XDocument.Parse(File.ReadAllText(plot)).Root!.Name.LocalName);
            Assert.True(new FileInfo(Path.ChangeExtension(plot, ".png")).Length > 1000);
            Assert.Equal(3000L * 384 * 4, new FileInfo(Path.Combine(dir, "dump", "base.f32")).Length);
            Assert.Equal(100L * 100 * 4, new FileInfo(Path.Combine(dir, "dump", "groundtruth.i32")).Length);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(1000)]
    [InlineData(384 * 300 + 5)]
    public void TheMemoryReadReadsEveryElementOnce(int length)
    {
        // Small integers sum exactly in float whatever the order, so the total says each element was added once.
        var data = new float[length];
        for (int i = 0; i < length; i++) data[i] = i % 7 + 1;
        var (bytesPerSecond, sum) = MemoryReadRate.Measure(data, passes: 2);
        Assert.Equal((float)data.Sum(x => (double)x), sum);
        if (length >= 1000) Assert.True(bytesPerSecond > 0);
    }
}
