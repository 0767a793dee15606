using System.Text.Json;
using System.Xml.Linq;
using PaperVec.Bench.Harness;
using PaperVec.Cli.Common;

namespace PaperVec.Tests.Bench;

public class ApiBenchReportTests
{
    static ApiBenchReport Report()
    {
        var mix = RouteMix.Parse("similar:70,search:25,ingest:5");
        var routes = mix.Entries.ToDictionary(e => e.Route, _ => new RouteRecorder());
        var timeline = new Timeline(3);
        var random = new Random(3);
        for (int i = 0; i < 3000; i++)
        {
            var route = mix.Pick(random.NextDouble());
            long ticks = (long)(System.Diagnostics.Stopwatch.Frequency * (0.001 + random.NextDouble() * 0.01));
            routes[route].Record(i % 500 == 0 ? 503 : 200, ticks);
            timeline.Record(i / 1000, ticks);
        }
        var result = new LoadResult
        {
            Settings = new LoadSettings { Mix = mix, Rate = 1000, Duration = TimeSpan.FromSeconds(3) },
            Routes = routes, Timeline = timeline, SendLag = new LatencyRecorder(), MeasuredSeconds = 3, ThroughputSeconds = 3,
        };
        var requests = new BenchRequests(new Uri("http://127.0.0.1:1/"), ["a"], ["q"], 10, 0);
        return new ApiBenchReport { Server = "test", QueryBatch = 32, Run = RunSummary.Of(result, requests) };
    }

    [Fact]
    public void JsonHasTheDocumentedNamesPerRouteAndTheOverallRate()
    {
        using var json = JsonDocument.Parse(Report().ToJson());
        var routes = json.RootElement.GetProperty("routes");
        Assert.Equal(["similar", "search", "ingest"], routes.EnumerateObject().Select(p => p.Name));
        long total = 0, errors = 0;
        foreach (var route in routes.EnumerateObject())
        {
            foreach (var name in new[] { "count", "errors", "p50Ms", "p90Ms", "p99Ms", "p999Ms", "maxMs" })
                Assert.Equal(JsonValueKind.Number, route.Value.GetProperty(name).ValueKind);
            var v = route.Value;
            Assert.True(v.GetProperty("p50Ms").GetDouble() <= v.GetProperty("p90Ms").GetDouble());
            Assert.True(v.GetProperty("p90Ms").GetDouble() <= v.GetProperty("p99Ms").GetDouble());
            Assert.True(v.GetProperty("p99Ms").GetDouble() <= v.GetProperty("p999Ms").GetDouble());
            Assert.True(v.GetProperty("p999Ms").GetDouble() <= v.GetProperty("maxMs").GetDouble());
            Assert.InRange(v.GetProperty("p50Ms").GetDouble(), 1, 11);
            total += v.GetProperty("count").GetInt64();
            errors += v.GetProperty("errors").GetInt64();
        }
        Assert.Equal(3000, total);
        Assert.Equal(6, errors); // every 500th answered 503
        Assert.Equal(1000, json.RootElement.GetProperty("requestsPerSecond").GetDouble());
        Assert.True(routes.GetProperty("ingest").TryGetProperty("papersPerSecond", out _));
    }

    [Fact]
    public void ChartsDrawEveryRouteAndSaveAsPngAndSvg()
    {
        var report = Report();
        Assert.Equal(3, report.PercentileChart().GetPlottables().Count()); // one line per route
        Assert.Equal(4, report.ThroughputChart(5).GetPlottables().Count()); // throughput, p99, target rate, bound
        string dir = Directory.CreateTempSubdirectory("papervec-charts-").FullName;
        try
        {
            var files = report.WriteCharts(Path.Combine(dir, "run"), 5);
            Assert.Equal(["run-percentiles.png", "run-percentiles.svg", "run-throughput.png", "run-throughput.svg", "run-p99.png", "run-p99.svg"],
                files.Select(Path.GetFileName));
            foreach (var file in files.Where(f => f.EndsWith(".png")))
                Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(file)[..4]);
            foreach (var file in files.Where(f => f.EndsWith(".svg")))
            {
                var doc = XDocument.Parse(File.ReadAllText(file));
                Assert.Equal("svg", doc.Root!.Name.LocalName);
                Assert.Contains(doc.Descendants(), e => e.Name.LocalName == "path");
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void MarkdownTabulatesEveryRoute()
    {
        string md = Report().ToMarkdown("plots/run");
        Assert.Contains("| similar |", md);
        Assert.Contains("| ingest |", md);
        Assert.Contains("503: ", md);
        Assert.Contains("plots/run-percentiles.png", md);
    }

    [Fact]
    public void MixesParseByWeightAndRejectUnknownRoutes()
    {
        var mix = RouteMix.Parse("similar:70, search:25 ,ingest:5");
        Assert.Equal(BenchRoute.Similar, mix.Pick(0.0));
        Assert.Equal(BenchRoute.Similar, mix.Pick(0.69));
        Assert.Equal(BenchRoute.Search, mix.Pick(0.71));
        Assert.Equal(BenchRoute.Ingest, mix.Pick(0.99));
        Assert.True(mix.Writes);
        Assert.Throws<PaperVec.Cli.Common.UsageException>(() => RouteMix.Parse("similar:70,nearest:30"));
        Assert.Throws<PaperVec.Cli.Common.UsageException>(() => RouteMix.Parse("similar:0"));
        Assert.Throws<PaperVec.Cli.Common.UsageException>(() => RouteMix.Parse("similar,similar"));
    }

    [Fact]
    public async Task SearchModeAndRecommendRoutesSendWhatTheirNamesSay()
    {
        var ids = Enumerable.Range(0, 200).Select(i => $"p{i}").ToList();
        var requests = new BenchRequests(new Uri("http://127.0.0.1:1/"), ids, ["deep nets"], 10, 0);
        Assert.EndsWith("q=deep%20nets", requests.Create(BenchRoute.Search, 0).RequestUri!.AbsoluteUri);
        Assert.EndsWith("&mode=semantic", requests.Create(BenchRoute.SearchSemantic, 0).RequestUri!.AbsoluteUri);
        Assert.EndsWith("&mode=lexical", requests.Create(BenchRoute.SearchLexical, 0).RequestUri!.AbsoluteUri);

        var recommend = requests.Create(BenchRoute.Recommend, 3);
        Assert.Equal(HttpMethod.Post, recommend.Method);
        Assert.Equal("/recommend", recommend.RequestUri!.AbsolutePath);
        using var body = System.Text.Json.JsonDocument.Parse(await recommend.Content!.ReadAsStringAsync());
        var liked = body.RootElement.GetProperty("liked").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(BenchRequests.LibraryPapers, liked.Distinct().Count());
        Assert.All(liked, id => Assert.Contains(id, ids));

        var mix = RouteMix.Parse("search:1,search-semantic:1,search-lexical:1,recommend:1");
        Assert.Equal(4, mix.Entries.Count);
        Assert.False(mix.Writes);
    }

    [Fact]
    public void WrkOutputIsReadForRateAndP99()
    {
        const string output = """
            Running 10s test @ http://127.0.0.1:5080/
              2 threads and 8 connections
              Thread Stats   Avg      Stdev     Max   +/- Stdev
                Latency     1.20ms  300.00us   9.00ms   90.00%
              Latency Distribution
                 50%    1.10ms
                 75%    1.30ms
                 90%    1.60ms
                 99%  850.00us
              65432 requests in 10.00s, 50.00MB read
            Requests/sec:   6543.21
            Transfer/sec:      5.00MB
            """;
        var (rate, p99) = WrkCrossCheck.Parse(output);
        Assert.Equal(6543.21, rate);
        Assert.Equal(0.85, p99!.Value, 6);
    }
}
