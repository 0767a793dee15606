using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using PaperVec.Tests.Api;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Faults;

/// <summary>
/// A real `papervec serve` process on a disk that fails with I/O errors (issue 25, item 4): the write
/// in flight and every later write, delete and library change answer 503 (never hang), /ready says
/// why, reads go on, SIGTERM ends the process, the server is ready again by itself once the device
/// works again (no client write needed), and nothing acknowledged is lost. Once through an injected device error (the test-only
/// host's failing FASTER device), once through a real ext4 file system shut down under the server.
/// </summary>
public class ServeIoErrorTests
{
    // "Answers at all": generous, only there so a hang fails the test instead of blocking it.
    static readonly TimeSpan Answers = TimeSpan.FromSeconds(30);

    static string Record(string id, string title, int seed)
    {
        var vector = StoreTestData.UnitVector(new Random(seed));
        return $"{{\"id\":\"{id}\",\"title\":\"{title}\",\"abstract\":\"Abstract of {title}.\",\"vector\":[{string.Join(",", vector.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]}}";
    }

    static async Task<HttpResponseMessage> Answered(Task<HttpResponseMessage> request, string what)
    {
        try { return await request.WaitAsync(Answers); }
        catch (TimeoutException) { Assert.Fail($"{what}: no answer within {Answers.TotalSeconds} s (the server hangs)"); throw; }
    }

    static Task<HttpResponseMessage> PostAsync(ServeProcess serve, string id, int seed) =>
        Answered(serve.Client.PostAsync("/papers", new StringContent(Record(id, $"Paper {id}", seed), Encoding.UTF8, "application/x-ndjson")), $"POST {id}");

    /// <summary>Every kind of write gets 503 naming the I/O error and the data directory; reads go on.</summary>
    static async Task AssertWritesRefusedAsync(ServeProcess serve, string data, string prefix, int writes)
    {
        for (int i = 0; i < writes; i++)
        {
            string detail = await Problems.AssertProblemAsync(await PostAsync(serve, $"{prefix}.{i}", 1000 + i), 503, "I/O error");
            Assert.Contains(data, detail);
            Assert.DoesNotContain("4294967295", detail);
        }
        await Problems.AssertProblemAsync(await Answered(serve.Client.DeleteAsync("/papers/ok.0"), "DELETE"), 503, "I/O error");
        await Problems.AssertProblemAsync(await Answered(serve.Client.PutAsync("/libraries/reading",
            new StringContent("{\"liked\":[\"ok.1\"]}", Encoding.UTF8, "application/json")), "PUT /libraries"), 503, "I/O error");
        await Problems.AssertProblemAsync(await Answered(serve.Client.GetAsync("/ready"), "GET /ready"), 503, "I/O error");
        Assert.Equal(HttpStatusCode.OK, (await Answered(serve.Client.GetAsync("/papers/ok.0"), "GET a paper")).StatusCode); // a refused delete hides nothing
        Assert.Equal(HttpStatusCode.NotFound, (await Answered(serve.Client.GetAsync($"/papers/{prefix}.0"), "GET a refused paper")).StatusCode);
    }

    static async Task<int> PapersAsync(ServeProcess serve) =>
        (await serve.Client.GetFromJsonAsync<JsonElement>("/ready")).GetProperty("papers").GetInt32();

    [Fact]
    public async Task AnInjectedDeviceErrorGives503ToEveryWriteReadyTellsWhySigtermEndsItAndItIsReadyAgainByItselfOnceItHeals()
    {
        string data = StoreTestData.TempDir();
        string flags = StoreTestData.TempDir();
        string failing = Path.Combine(flags, "failing"); // the test-only host's devices fail their writes while this file exists
        try
        {
            using (var serve = ServeProcess.StartWithHook($"fail-device-when:{failing}", data))
            {
                await serve.WaitUntilReadyAsync();
                for (int i = 0; i < 10; i++) Assert.Equal(HttpStatusCode.Created, (await PostAsync(serve, $"ok.{i}", i)).StatusCode);

                File.WriteAllText(failing, "");
                await AssertWritesRefusedAsync(serve, data, "refused", 21); // the write in flight and the next 20

                File.Delete(failing); // the device works again: the server finds out by itself, with no client write
                var deadline = DateTime.UtcNow.AddMinutes(2);
                HttpResponseMessage ready;
                while ((ready = await Answered(serve.Client.GetAsync("/ready"), "GET /ready")).StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline)
                    await Task.Delay(200);
                Assert.True(ready.StatusCode == HttpStatusCode.OK, $"/ready did not come back after the device healed: {await ready.Content.ReadAsStringAsync()}");
                Assert.Single(serve.Output.Split('\n'), line => line.Contains("write-ahead log was reopened")); // one line says so
                for (int i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.Created, (await PostAsync(serve, $"after.{i}", 500 + i)).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await Answered(serve.Client.GetAsync("/ready"), "GET /ready")).StatusCode);
                Assert.Equal(15, await PapersAsync(serve));

                File.WriteAllText(failing, ""); // failing again when SIGTERM comes: it still ends, within its shutdown timeout
                await Problems.AssertProblemAsync(await PostAsync(serve, "refused.last", 900), 503, "I/O error");
                serve.SendSigterm();
                Assert.Equal(0, serve.WaitForExit(TimeSpan.FromSeconds(90)));
            }
            File.Delete(failing);
            using (var again = ServeProcess.Start(data))
            {
                await again.WaitUntilReadyAsync();
                Assert.Equal(15, await PapersAsync(again)); // every acknowledged write, none refused
                foreach (var id in Enumerable.Range(0, 10).Select(i => $"ok.{i}").Concat(Enumerable.Range(0, 5).Select(i => $"after.{i}")))
                    Assert.Equal(HttpStatusCode.OK, (await again.Client.GetAsync($"/papers/{id}")).StatusCode);
                Assert.Equal(HttpStatusCode.NotFound, (await again.Client.GetAsync("/papers/refused.3")).StatusCode);
                Assert.Equal(HttpStatusCode.NotFound, (await again.Client.GetAsync("/papers/refused.last")).StatusCode);
            }
        }
        finally
        {
            Directory.Delete(data, true);
            Directory.Delete(flags, true);
        }
    }

    [LoopDeviceFact]
    public async Task AnExt4FileSystemShutDownUnderTheServerGives503ToEveryWriteAndSigtermEndsIt()
    {
        using var disk = Ext4Loop.Create(256);
        string data = Path.Combine(disk.Path, "data");
        using (var serve = ServeProcess.Start(data))
        {
            await serve.WaitUntilReadyAsync();
            for (int i = 0; i < 10; i++) Assert.Equal(HttpStatusCode.Created, (await PostAsync(serve, $"ok.{i}", i)).StatusCode);

            disk.ShutDown(); // every later I/O under the data directory fails with EIO, as on a dead disk
            await AssertWritesRefusedAsync(serve, data, "refused", 21);

            serve.SendSigterm();
            Assert.Equal(0, serve.WaitForExit(TimeSpan.FromSeconds(90)));
            Assert.Contains("closed without a checkpoint", serve.Output); // and does not claim one
        }
        disk.Remount(); // the disk is back: everything acknowledged before the fault is there
        using (var again = ServeProcess.Start(data))
        {
            await again.WaitUntilReadyAsync();
            Assert.Equal(10, await PapersAsync(again));
            Assert.Equal(HttpStatusCode.NotFound, (await again.Client.GetAsync("/papers/refused.0")).StatusCode);
            again.SendSigterm();
            Assert.Equal(0, again.WaitForExit(TimeSpan.FromSeconds(90)));
        }
    }
}
