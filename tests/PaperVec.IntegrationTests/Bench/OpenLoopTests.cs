using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PaperVec.Bench.Harness;
using PaperVec.Tests.Cli;

namespace PaperVec.Tests.Bench;

public class OpenLoopTests
{
    /// <summary>
    /// A tiny Kestrel server answering one request at a time that stalls 500 ms on its 40th request.
    /// At 200 requests/s the requests due during the stall queue behind it: measured from their
    /// scheduled times about 100 of them wait, most over 100 ms. A generator measuring from the
    /// actual send on one waiting connection (coordinated omission) would show one slow request.
    /// </summary>
    [Fact]
    public async Task LatencyIsMeasuredFromTheScheduledTimeSoAStallShowsInEveryRequestBehindIt()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        var oneAtATime = new SemaphoreSlim(1, 1);
        int served = 0, stallAt = 40;
        app.MapGet("/papers/{id}/similar", async (string id) =>
        {
            await oneAtATime.WaitAsync();
            try { if (Interlocked.Increment(ref served) == Volatile.Read(ref stallAt)) await Task.Delay(500); }
            finally { oneAtATime.Release(); }
            return Results.Ok(new { id });
        });
        await app.StartAsync();
        var baseUri = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");

        var requests = new BenchRequests(baseUri, ["a", "b", "c"], ["q"], 1, 0);
        using var generator = new LoadGenerator(requests, 4);
        var result = await generator.RunAsync(new LoadSettings
        {
            Mode = LoadMode.Open, Rate = 200, Mix = RouteMix.Parse("similar"), Warmup = TimeSpan.Zero, Duration = TimeSpan.FromSeconds(1.5),
        });

        var similar = result.Routes[BenchRoute.Similar];
        Assert.Equal(300, similar.Latency.Count);
        Assert.Equal(0, similar.Errors);
        Assert.True(similar.Latency.MaxMilliseconds >= 450, $"max {similar.Latency.MaxMilliseconds} ms");
        // About 80 of 300 requests were due during the stall and waited over 100 ms.
        Assert.True(similar.Latency.PercentileMilliseconds(0.90) >= 100, $"p90 {similar.Latency.PercentileMilliseconds(0.90)} ms");
        Assert.True(result.SendLag.PercentileMilliseconds(0.5) < 50, "the sender itself kept to the schedule");
        // The window's garbage collection is read from the GC's counters: this run allocated (requests, tasks, buffers).
        Assert.NotNull(result.Gc);
        Assert.True(result.Gc!.AllocatedMB > 0 && result.Gc.Gen0 >= 0 && result.Gc.Gen1 >= 0 && result.Gc.Gen2 >= 0 && result.Gc.PauseMs >= 0, result.Gc.ToString());

        // The same stall under closed-loop load on one connection: only the stalled request is slow,
        // the queue never forms (what an open-loop generator measuring this way would hide).
        Interlocked.Exchange(ref served, 0);
        Volatile.Write(ref stallAt, 5); // early, so even a slow machine reaches it within the run
        var closed = await generator.RunAsync(new LoadSettings
        {
            Mode = LoadMode.Closed, Connections = 1, Mix = RouteMix.Parse("similar"), Warmup = TimeSpan.Zero, Duration = TimeSpan.FromSeconds(1.5),
        });
        var closedSimilar = closed.Routes[BenchRoute.Similar];
        Assert.True(closedSimilar.Latency.MaxMilliseconds >= 450);
        Assert.True(closedSimilar.Latency.PercentileMilliseconds(0.90) < 100, $"closed-loop p90 {closedSimilar.Latency.PercentileMilliseconds(0.90)} ms");
    }

    /// <summary>`bench api` end to end: prepares a small synthetic data directory, starts its server, runs a mixed open-loop load, writes the reports.</summary>
    [Fact]
    public void BenchApiRunsEndToEndAndWritesTheDocumentedJson()
    {
        string dir = Directory.CreateTempSubdirectory("pv-bench-api-").FullName;
        try
        {
            string json = Path.Combine(dir, "report.json"), md = Path.Combine(dir, "report.md"), svg = Path.Combine(dir, "plots", "run");
            var (exit, stdout, stderr) = CliRunner.Run("bench", "api", "--synthetic-vectors", "--papers", "3000", "--prepared", Path.Combine(dir, "cache"),
                "--mix", "similar:70,search:25,ingest:3,ingest-vectors:2", "--ingest-batch", "1", "--rate", "40", "--warmup", "0.5", "--duration", "2",
                "--json", json, "--markdown", md, "--svg", svg);
            Assert.True(exit == 0, stdout + stderr);

            using var report = JsonDocument.Parse(File.ReadAllText(json));
            var routes = report.RootElement.GetProperty("routes");
            Assert.Equal(["similar", "search", "ingest", "ingest-vectors"], routes.EnumerateObject().Select(p => p.Name));
            Assert.True(routes.GetProperty("similar").GetProperty("count").GetInt64() > 20);
            foreach (var route in routes.EnumerateObject())
            {
                Assert.Equal(0, route.Value.GetProperty("errors").GetInt64());
                Assert.True(route.Value.GetProperty("p99Ms").GetDouble() > 0 || route.Value.GetProperty("count").GetInt64() == 0);
            }
            Assert.InRange(report.RootElement.GetProperty("requestsPerSecond").GetDouble(), 0.1, 40 * 1.1); // answered, never more than were sent
            Assert.Contains("| similar |", File.ReadAllText(md));
            Assert.Contains("Garbage collection in the window (this process):", File.ReadAllText(md));
            Assert.True(report.RootElement.GetProperty("run").GetProperty("gc").GetProperty("allocatedMB").GetDouble() > 0);
            foreach (var suffix in new[] { "percentiles", "throughput", "p99" })
                System.Xml.Linq.XDocument.Load($"{svg}-{suffix}.svg");

            // A second run reuses the prepared directory instead of building it again.
            var again = CliRunner.Run("bench", "api", "--synthetic-vectors", "--papers", "3000", "--prepared", Path.Combine(dir, "cache"),
                "--mix", "similar", "--rate", "50", "--warmup", "0", "--duration", "0.5");
            Assert.True(again.Exit == 0, again.Out + again.Err);
            Assert.Contains("reusing the prepared data directory", again.Err);
        }
        finally { Directory.Delete(dir, true); }
    }
}
