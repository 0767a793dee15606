using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using PaperVec.Storage;
using PaperVec.Tests.Api;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Faults;

/// <summary>
/// A real `papervec serve` process under faults: kill -9 after a refused oversized record, a disk
/// that fills and is freed, configuration that binds beyond loopback, 200 connections with slow
/// clients, and concurrent writes and deletes of one id (issue 14, defects 1, 4, 5 and 6).
/// </summary>
public class ServeFaultTests
{
    static string Record(string id, string title, int seed, string extra = "")
    {
        var random = new Random(seed);
        var vector = StoreTestData.UnitVector(random);
        return $"{{\"id\":\"{id}\",\"title\":\"{title}\",\"abstract\":\"Abstract of {title}.\"{extra},\"vector\":[{string.Join(",", vector.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]}}";
    }

    static Task<HttpResponseMessage> PostAsync(ServeProcess serve, params string[] records) =>
        serve.Client.PostAsync("/papers", new StringContent(string.Join("\n", records), Encoding.UTF8, "application/x-ndjson"));

    [Fact]
    public async Task AnOversizedFieldIsRefusedAndTheDirectoryOpensAfterSigkill()
    {
        string data = StoreTestData.TempDir();
        try
        {
            using (var serve = ServeProcess.Start(data))
            {
                await serve.WaitUntilReadyAsync();
                var big = await PostAsync(serve, Record("big.1", "Huge author list", 1, $",\"authors\":\"{new string('a', 5 << 20)}\""));
                await Problems.AssertProblemAsync(big, 400, "'authors'");
                Assert.Equal(HttpStatusCode.Created, (await PostAsync(serve, Record("small.1", "Small paper", 2))).StatusCode);
                var ready = await serve.Client.GetFromJsonAsync<JsonElement>("/ready");
                Assert.Equal(1, ready.GetProperty("papers").GetInt32());
                serve.SendSigkill();
            }
            using (var again = ServeProcess.Start(data))
            {
                await again.WaitUntilReadyAsync();
                Assert.Equal(HttpStatusCode.OK, (await again.Client.GetAsync("/papers/small.1")).StatusCode);
                Assert.Equal(HttpStatusCode.NotFound, (await again.Client.GetAsync("/papers/big.1")).StatusCode);
                again.SendSigterm();
                Assert.Equal(0, again.WaitForExit(TimeSpan.FromSeconds(30)));
            }
        }
        finally { Directory.Delete(data, true); }
    }

    [Fact]
    public async Task AFullDiskGives507AndNotReadyNothingRefusedIsVisibleAndTheServerRecoversByItself()
    {
        using var disk = Tmpfs.Mount(64);
        using (var serve = ServeProcess.Start(disk.Path))
        {
            await serve.WaitUntilReadyAsync();
            for (int i = 0; i < 10; i++) Assert.Equal(HttpStatusCode.Created, (await PostAsync(serve, Record($"ok.{i}", $"Stored paper {i}", i))).StatusCode);
            disk.Fill();

            for (int i = 0; i < 3; i++)
                await Problems.AssertProblemAsync(await PostAsync(serve, Record($"refused.{i}", $"Refused paper {i}", 100 + i)), 507, "no space left");
            await Problems.AssertProblemAsync(await serve.Client.GetAsync("/ready"), 503, "storage");
            Assert.Equal(HttpStatusCode.NotFound, (await serve.Client.GetAsync("/papers/refused.0")).StatusCode);
            await Problems.AssertProblemAsync(await serve.Client.DeleteAsync("/papers/ok.0"), 507, "no space left");
            Assert.Equal(HttpStatusCode.OK, (await serve.Client.GetAsync("/papers/ok.0")).StatusCode); // a refused delete hides nothing

            disk.Free();
            Assert.Equal(HttpStatusCode.Created, (await PostAsync(serve, Record("after.1", "Written once space was back", 200))).StatusCode);
            var ready = await serve.Client.GetFromJsonAsync<JsonElement>("/ready");
            Assert.Equal(11, ready.GetProperty("papers").GetInt32());

            disk.Fill(); // SIGTERM still ends it promptly, checkpoint or not
            serve.SendSigterm();
            Assert.Equal(0, serve.WaitForExit(TimeSpan.FromSeconds(30)));
        }
        disk.Free();
        using (var again = ServeProcess.Start(disk.Path))
        {
            await again.WaitUntilReadyAsync();
            Assert.Equal(11, (await again.Client.GetFromJsonAsync<JsonElement>("/ready")).GetProperty("papers").GetInt32());
            Assert.Equal(HttpStatusCode.NotFound, (await again.Client.GetAsync("/papers/refused.1")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await again.Client.GetAsync("/papers/after.1")).StatusCode);
        }
    }

    [Fact]
    public async Task KestrelEndpointsFromConfigurationBeyondLoopbackAreRefusedWithoutAKey()
    {
        string data = StoreTestData.TempDir();
        string workingDir = StoreTestData.TempDir();
        try
        {
            int port = ServeProcess.FreePort();
            using (var serve = ServeProcess.Start(data, new Dictionary<string, string?> { ["Kestrel__Endpoints__E__Url"] = $"http://0.0.0.0:{port}" }))
            {
                Assert.NotEqual(0, serve.WaitForExit(TimeSpan.FromSeconds(60)));
                Assert.Contains("refusing", serve.Output);
                Assert.Contains("0.0.0.0", serve.Output);
            }
            File.WriteAllText(Path.Combine(workingDir, "appsettings.json"), "{\"Kestrel\":{\"Endpoints\":{\"Open\":{\"Url\":\"http://0.0.0.0:" + port + "\"}}}}");
            using (var serve = ServeProcess.Start(data, workingDirectory: workingDir))
            {
                Assert.NotEqual(0, serve.WaitForExit(TimeSpan.FromSeconds(60)));
                Assert.Contains("refusing", serve.Output);
            }
        }
        finally
        {
            Directory.Delete(data, true);
            Directory.Delete(workingDir, true);
        }
    }

    [Fact]
    public async Task TwoHundredConnectionsSlowClientsAndRacingWritesOfOneId()
    {
        string data = StoreTestData.TempDir();
        try
        {
            using var serve = ServeProcess.Start(data);
            await serve.WaitUntilReadyAsync();
            Assert.Equal(HttpStatusCode.Created, (await PostAsync(serve, Enumerable.Range(0, 50).Select(i => Record($"seed.{i}", $"Seed paper {i}", i)).ToArray())).StatusCode);
            var uri = new Uri(serve.BaseUrl);

            // Slow clients: each sends its request line a byte every 100 ms and holds its connection.
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            var slow = Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
            {
                using var socket = new TcpClient();
                await socket.ConnectAsync(uri.Host, uri.Port);
                var stream = socket.GetStream();
                try
                {
                    foreach (byte b in Encoding.ASCII.GetBytes("GET /health HTTP/1.1\r\nHost: x\r\n"))
                    {
                        await stream.WriteAsync(new[] { b }, stop.Token);
                        await Task.Delay(100, stop.Token);
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or IOException) { }
            })).ToList();

            // 200 connections at once, each its own client.
            var statuses = new ConcurrentBag<int>();
            await Task.WhenAll(Enumerable.Range(0, 200).Select(async c =>
            {
                using var client = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(30) };
                for (int r = 0; r < 3; r++)
                {
                    var response = c % 2 == 0 ? await client.GetAsync($"/papers/seed.{(c + r) % 50}/similar?k=5") : await client.GetAsync($"/papers/seed.{(c + r) % 50}");
                    statuses.Add((int)response.StatusCode);
                }
            }));
            Assert.All(statuses, s => Assert.Equal(200, s));

            // Writes and deletes of one id racing each other: every answer is one of the documented ones.
            var answers = new ConcurrentBag<int>();
            await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
            {
                var response = i % 2 == 0 ? await PostAsync(serve, Record("race.1", "Racing paper", 7)) : await serve.Client.DeleteAsync("/papers/race.1");
                answers.Add((int)response.StatusCode);
            }));
            Assert.All(answers, s => Assert.Contains(s, new[] { 201, 204, 404 }));
            bool present = (await serve.Client.GetAsync("/papers/race.1")).StatusCode == HttpStatusCode.OK;
            stop.Cancel();
            await Task.WhenAll(slow);
            serve.SendSigkill();

            await using var db = await PaperDatabase.OpenAsync(data, new PaperDatabaseOptions { Mode = OpenMode.Verify });
            Assert.True(db.Verify().Sound, string.Join("; ", db.Verify().Problems));
            Assert.Equal(present, db.FindPaper("race.1") != null);
        }
        finally { Directory.Delete(data, true); }
    }
}
