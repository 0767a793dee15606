using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using PaperVec.Api.Hosting;
using PaperVec.Storage;
using PaperVec.Tests.Storage;
using PaperVec.Api;

namespace PaperVec.Tests.Api;

/// <summary>Smaller server defects of issue 25 (item 12): HEAD on the probes, an IPv4-mapped listen URL, the stored-size limit of one write.</summary>
public class ServeEdgeTests
{
    [Fact]
    public async Task HeadOnReadyAndHealthAnswersLikeGetWithoutABody()
    {
        foreach (bool withModel in new[] { true, false })
        {
            string data = StoreTestData.TempDir();
            string model = withModel ? RepoPaths.ModelDir : Path.Combine(Path.GetTempPath(), $"pv-no-model-{Guid.NewGuid():N}");
            var app = await PaperVecServer.CreateAsync(new ServerOptions { DataPath = data, Urls = ["http://127.0.0.1:0"], ModelDirectory = model });
            try
            {
                await app.StartAsync(); // real Kestrel: it is what leaves out the body of a HEAD answer
                var served = app.Services.GetRequiredService<ServedPapers>();
                try { await served.WhenModelLoaded; } catch (Exception) when (!withModel) { }
                string baseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
                using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
                foreach (var path in new[] { "/ready", "/health" })
                {
                    var get = await http.GetAsync(path);
                    var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
                    Assert.Equal(get.StatusCode, head.StatusCode);
                    Assert.Empty(await head.Content.ReadAsByteArrayAsync());
                    Assert.Equal(get.Content.Headers.ContentType?.MediaType, head.Content.Headers.ContentType?.MediaType);
                }
                Assert.Equal(withModel ? HttpStatusCode.OK : HttpStatusCode.ServiceUnavailable, (await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/ready"))).StatusCode);
            }
            finally
            {
                await app.StopAsync();
                await app.DisposeAsync();
                Directory.Delete(data, true);
            }
        }
    }

    [Fact]
    public void AnIpv4MappedListenUrlIsRefusedInOneLineNotAStackTrace()
    {
        string data = StoreTestData.TempDir();
        try
        {
            string url = $"http://[::ffff:127.0.0.1]:{ServeProcess.FreePort()}";
            using var serve = ServeProcess.Start(data, null, null, "--urls", url);
            Assert.NotEqual(0, serve.WaitForExit(TimeSpan.FromSeconds(60)));
            Assert.Contains($"cannot listen on '{url}': ::ffff:127.0.0.1 is an IPv4 address written as IPv6", serve.Output);
            Assert.Contains("use http://127.0.0.1:", serve.Output);
            Assert.DoesNotContain("   at ", serve.Output); // no stack trace
            Assert.DoesNotContain("Exception", serve.Output);
        }
        finally { Directory.Delete(data, true); }
    }

    [Fact]
    public async Task RevisionsStoringMoreThanOneWriteHoldsAre413NamingTheDocumentedLimit()
    {
        await using var server = await ApiServer.StartAsync(waitForModel: false);
        // Papers near the caps, revised round after round: each record keeps its earlier abstracts (up to 2 MB),
        // so a request of a few MB comes to store more than one write holds.
        const int papers = 20;
        string Request(int round) => string.Join("\n", Enumerable.Range(0, papers).Select(i =>
        {
            var vector = StoreTestData.UnitVector(new Random(i * 100 + round));
            string text = new string((char)('\u4e00' + round * 37 + i), 99_000); // 3 UTF-8 bytes a character: ~300 KB stored
            return $"{{\"id\":\"cap.{i}\",\"title\":\"Capped paper {i}\",\"abstract\":\"{text}\",\"vector\":[{string.Join(",", vector.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]}}";
        }));
        HttpResponseMessage? refused = null;
        int round = 0;
        for (; round < 10 && refused == null; round++)
        {
            string body = Request(round);
            Assert.True(Encoding.UTF8.GetByteCount(body) < 7_000_000); // well within the documented 10 MB body
            var answer = await server.Client.PostAsync("/papers", new StringContent(body, Encoding.UTF8, "application/x-ndjson"));
            if (answer.StatusCode != HttpStatusCode.Created) refused = answer;
        }
        Assert.NotNull(refused);
        string detail = await Problems.AssertProblemAsync(refused, 413, $"one write stores at most {PaperDatabase.MaxWriteMegabytes} MB in all (docs/durability.md)");
        Assert.Contains("send fewer papers per request", detail);
        Assert.Contains("earlier versions", detail);
        // The limit the message names is the one documented.
        string docs = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "durability.md"));
        Assert.Contains($"at most {PaperDatabase.MaxWriteMegabytes} MB in", docs.Replace("\n  ", " "));
        // Nothing of the refused request was written: the papers keep the text of the round before.
        var stored = server.Database.FindPaper("cap.0")!;
        Assert.Equal((char)('\u4e00' + (round - 2) * 37), stored.Abstract[0]);
    }
}
