using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PaperVec.Storage;

namespace PaperVec.Tests.Api;

public class ServeProcessTests
{
    [Fact]
    public async Task SigtermFinishesTheRequestInFlightCheckpointsAndExitsZero()
    {
        string data = Directory.CreateTempSubdirectory("pv-serve-").FullName;
        try
        {
            using (var serve = ServeProcess.Start(data))
            {
                await serve.WaitUntilReadyAsync();
                var created = await serve.Client.PostAsJsonAsync("/papers", new[] { new { id = "proc.1", title = "Tactile sensing for robot grasping", @abstract = "Grasping soft objects with touch." } });
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                var found = await serve.Client.GetFromJsonAsync<JsonElement>("/search?q=robot+grasping+with+touch&k=1");
                string id = found.GetProperty("results")[0].GetProperty("id").GetString()!;
                Assert.Equal("proc.1", (await serve.Client.GetFromJsonAsync<JsonElement>($"/papers/{id}")).GetProperty("sourceId").GetString());

                // A digest takes seconds to embed: send SIGTERM while it is being answered.
                var digest = serve.Client.PostAsync("/digests?year=2025&name=daily-papers-mar-11",
                    new ByteArrayContent(File.ReadAllBytes(Path.Combine(RepoPaths.Digests, "daily-papers-mar-11.txt"))));
                await WaitForInFlightAsync(serve.Client, 2); // the digest and this /metrics request
                serve.SendSigterm();
                var answer = await digest;
                Assert.Equal(HttpStatusCode.Created, answer.StatusCode);
                Assert.Equal(0, serve.WaitForExit(TimeSpan.FromSeconds(60)));
                Assert.Contains("checkpoint written; 32 papers", serve.Output);
            }
            await using var db = await PaperDatabase.OpenAsync(data);
            Assert.True(db.Recovery.FromCheckpoint);
            Assert.Equal(0, db.Recovery.ReplayedBatches); // the checkpoint covered every write
            Assert.Equal(32, db.PaperCount);
            Assert.NotNull(db.FindPaper("proc.1"));
            Assert.NotNull(db.Catalog.GetDigest("2025-03-11/daily-papers-mar-11"));
            Assert.Equal(32, CheckpointManifest.TryLoad(Path.Combine(data, "checkpoint.json"))!.Papers);
        }
        finally { Directory.Delete(data, true); }
    }

    static async Task WaitForInFlightAsync(HttpClient client, int count)
    {
        for (int i = 0; i < 600; i++)
        {
            string metrics = await client.GetStringAsync("/metrics");
            // ASP.NET Core's requests in flight, one series per method and scheme: add them up.
            int inFlight = metrics.Split('\n').Where(l => l.StartsWith("http_server_active_requests{"))
                .Sum(l => (int)double.Parse(l.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture));
            if (inFlight >= count) return;
            await Task.Delay(10);
        }
        Assert.Fail("the digest request never reached the server");
    }
}
