using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using PaperVec.Api.Hosting;
using PaperVec.Api.Search;
using PaperVec.Api;

namespace PaperVec.Tests.Api;

/// <summary>
/// The HTTP contract while a damaged lexical index is rebuilt: the server starts, /ready is 200 and
/// names the degraded part, hybrid answers by meaning with a "degraded" reason and header, lexical
/// answers 503 saying it is being rebuilt, /metrics has a gauge; never a 500. Afterwards every answer is whole.
/// </summary>
public class LexicalDegradedApiTests
{
    static async Task<WebApplication> StartAsync(string data, Action<long, long>? progress = null, Action<string>? log = null)
    {
        var app = await PaperVecServer.CreateAsync(new ServerOptions { DataPath = data, ModelDirectory = RepoPaths.ModelDir, RebuildProgress = progress, Log = log },
            builder => builder.WebHost.UseTestServer());
        await app.StartAsync();
        await app.Services.GetRequiredService<ServedPapers>().WhenModelLoaded;
        return app;
    }

    static async Task StopAsync(WebApplication app)
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    static string DegradedGauge(string metrics) => metrics.Split('\n').Single(l => l.StartsWith("papervec_lexical_degraded{")).Split(' ')[^1].Trim();

    static string Search(string title, string mode) => $"/search?q={Uri.EscapeDataString(title)}&k=5&mode={mode}";

    [Fact]
    public async Task SixtyFourFlippedLexicalBytesAnswerDegradedNever500ThenWhole()
    {
        string data = Directory.CreateTempSubdirectory("pv-api-").FullName;
        try
        {
            List<(string Id, string Title)> papers;
            var first = await StartAsync(data);
            try
            {
                var client = first.GetTestClient();
                var body = new ByteArrayContent(File.ReadAllBytes(Path.Combine(RepoPaths.Digests, "daily-papers-mar-12.txt")));
                Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/digests?year=2025&name=mar-12", body)).StatusCode);
                papers = ((PaperVec.Engine.PaperCollection)first.Services.GetRequiredService<ServedPapers>().Collection).Database.Papers().Select(p => (p.Id, p.Title)).ToList();
            }
            finally { await StopAsync(first); }

            string largest = Directory.GetFiles(Path.Combine(data, "lexical")).OrderByDescending(f => new FileInfo(f).Length).First();
            byte[] bytes = File.ReadAllBytes(largest);
            for (int i = 0; i < 64; i++) bytes[bytes.Length / 2 + i] ^= 0xFF;
            File.WriteAllBytes(largest, bytes);

            using var held = new ManualResetEventSlim();
            using var release = new ManualResetEventSlim();
            var notes = new List<string>();
            var app = await StartAsync(data, (done, _) => { if (done == 1) { held.Set(); release.Wait(); } }, n => { lock (notes) notes.Add(n); });
            try
            {
                var client = app.GetTestClient();
                Assert.True(held.Wait(TimeSpan.FromMinutes(1)));
                lock (notes) Assert.Contains(notes, n => n.Contains("lexical index") && n.Contains("checksum") && n.Contains("being rebuilt"));

                var ready = await client.GetAsync("/ready");
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
                Assert.Contains("rebuilt", (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("degraded").GetString());
                Assert.Equal("1", DegradedGauge(await (await client.GetAsync("/metrics")).Content.ReadAsStringAsync()));

                for (int i = 0; i < 100; i++)
                {
                    var (_, title) = papers[i % papers.Count];
                    var hybrid = await client.GetAsync(Search(title, "hybrid"));
                    Assert.Equal(HttpStatusCode.OK, hybrid.StatusCode);
                    Assert.Equal("lexical", hybrid.Headers.GetValues(SearchRoutes.DegradedHeader).Single());
                    Assert.Contains("meaning alone", (await hybrid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("degraded").GetString());
                    var lexical = await client.GetAsync(Search(title, "lexical"));
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, lexical.StatusCode);
                    Assert.Contains("being rebuilt", (await lexical.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
                }

                release.Set();
                var database = ((PaperVec.Engine.PaperCollection)app.Services.GetRequiredService<ServedPapers>().Collection).Database;
                var rebuilt = database.WaitForLexicalRebuildAsync();
                Assert.Same(rebuilt, await Task.WhenAny(rebuilt, Task.Delay(TimeSpan.FromMinutes(2))));

                ready = await client.GetAsync("/ready");
                Assert.False((await ready.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("degraded", out _));
                Assert.Equal("0", DegradedGauge(await (await client.GetAsync("/metrics")).Content.ReadAsStringAsync()));
                for (int i = 0; i < 100; i++)
                {
                    var (id, title) = papers[i % papers.Count];
                    var hybrid = await client.GetAsync(Search(title, "hybrid"));
                    Assert.Equal(HttpStatusCode.OK, hybrid.StatusCode);
                    Assert.False(hybrid.Headers.Contains(SearchRoutes.DegradedHeader));
                    var lexical = await client.GetAsync(Search(title, "lexical"));
                    Assert.Equal(HttpStatusCode.OK, lexical.StatusCode);
                    var results = (await lexical.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results");
                    Assert.Contains(results.EnumerateArray(), r => r.GetProperty("id").GetString() == id);
                }
            }
            finally
            {
                release.Set();
                await StopAsync(app);
            }
        }
        finally { Directory.Delete(data, true); }
    }
}
