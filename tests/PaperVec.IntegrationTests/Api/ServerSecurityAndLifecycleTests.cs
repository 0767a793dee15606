using System.Globalization;
using System.Net;
using System.Text;
using PaperVec.Api.Hosting;
using PaperVec.Api.Security;
using PaperVec.Storage;
using PaperVec.Tests.Cli;
using PaperVec.Tests.Storage;
using PaperVec.Api;

namespace PaperVec.Tests.Api;

/// <summary>Listening beyond loopback, API keys, readiness without a model.</summary>
public class ServerSecurityAndLifecycleTests
{
    /// <summary>A paper record carrying its own 384-d vector, so ingesting it needs no model.</summary>
    internal static string RecordWithVector(string id, string title, int seed)
    {
        var vector = StoreTestData.UnitVector(new Random(seed));
        return $"{{\"id\":\"{id}\",\"title\":\"{title}\",\"abstract\":\"An abstract.\",\"vector\":[{string.Join(",", vector.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]}}";
    }

    [Theory]
    [InlineData("http://127.0.0.1:5080", true)]
    [InlineData("http://localhost:5080", true)]
    [InlineData("http://[::1]:5080", true)]
    [InlineData("http://0.0.0.0:5080", false)]
    [InlineData("http://*:5080", false)]
    [InlineData("http://+:5080", false)]
    [InlineData("http://192.168.1.20:5080", false)]
    public void OnlyLoopbackAddressesCountAsLoopback(string url, bool loopback) => Assert.Equal(loopback, ListenAddresses.IsLoopback(url));

    [Fact]
    public async Task WithoutAKeyTheServerRefusesToListenBeyondLoopback()
    {
        string data = StoreTestData.TempDir();
        try
        {
            var error = await Assert.ThrowsAsync<ServerStartException>(() =>
                PaperVecServer.CreateAsync(new ServerOptions { DataPath = data, Urls = ["http://0.0.0.0:5080"], ApiKey = "" }));
            Assert.Contains("without an API key", error.Message);
            await using (await PaperDatabase.OpenAsync(data)) { } // it refused before taking the data directory

            var previous = Environment.GetEnvironmentVariable(ServerOptions.ApiKeyVariable);
            Environment.SetEnvironmentVariable(ServerOptions.ApiKeyVariable, null);
            try
            {
                var (exit, _, err) = CliRunner.Run("serve", "--data", data, "--urls", "http://0.0.0.0:5080");
                Assert.Equal(1, exit);
                Assert.Single(err.Trim().Split('\n'));
                Assert.Contains("refusing to listen on http://0.0.0.0:5080 without an API key", err);
            }
            finally { Environment.SetEnvironmentVariable(ServerOptions.ApiKeyVariable, previous); }
        }
        finally { Directory.Delete(data, true); }
    }

    [Fact]
    public async Task BeyondLoopbackWritesNeedTheKeyAndReadsDoNot()
    {
        await using var server = await ApiServer.StartAsync(new ServerOptions { Urls = ["http://0.0.0.0:5080"], ApiKey = "s3cret-key" }, waitForModel: false);
        var client = server.Client;
        string record = RecordWithVector("key.1", "A paper behind an API key", 1);

        await Problems.AssertProblemAsync(await client.PostAsync("/papers", new StringContent(record)), 401, ApiKeyFilter.Header);
        var wrong = new HttpRequestMessage(HttpMethod.Post, "/papers") { Content = new StringContent(record) };
        wrong.Headers.Add(ApiKeyFilter.Header, "s3cret-kez");
        await Problems.AssertProblemAsync(await client.SendAsync(wrong), 403, "does not hold");
        await Problems.AssertProblemAsync(await client.DeleteAsync("/papers/key.1"), 401, ApiKeyFilter.Header);
        await Problems.AssertProblemAsync(await client.PostAsync("/digests", new StringContent("T\n\nA")), 401, ApiKeyFilter.Header);
        Assert.Null(server.Database.FindPaper("key.1"));

        var right = new HttpRequestMessage(HttpMethod.Post, "/papers") { Content = new StringContent(record) };
        right.Headers.Add(ApiKeyFilter.Header, "s3cret-key");
        Assert.Equal(HttpStatusCode.Created, (await client.SendAsync(right)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/papers/key.1")).StatusCode);
        var delete = new HttpRequestMessage(HttpMethod.Delete, "/papers/key.1");
        delete.Headers.Add(ApiKeyFilter.Header, "s3cret-key");
        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(delete)).StatusCode);
    }

    [Fact]
    public void KeysMatchOnlyExactly()
    {
        var key = new ApiKey("abc");
        Assert.True(key.IsRequired);
        Assert.True(key.Matches("abc"));
        Assert.False(key.Matches("abd"));
        Assert.False(key.Matches("abcd"));
        Assert.False(key.Matches(""));
        Assert.False(new ApiKey(null).IsRequired);
    }

    [Fact]
    public async Task WithoutAModelTheServerIsAliveButNotReady()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"pv-no-model-{Guid.NewGuid():N}");
        string data = StoreTestData.TempDir();
        var app = await PaperVecServer.CreateAsync(new ServerOptions { DataPath = data, ModelDirectory = missing },
            builder => Microsoft.AspNetCore.TestHost.WebHostBuilderExtensions.UseTestServer(builder.WebHost));
        try
        {
            await app.StartAsync();
            var library = (PaperVec.Api.Hosting.ServedPapers)app.Services.GetService(typeof(PaperVec.Api.Hosting.ServedPapers))!;
            await Assert.ThrowsAsync<FileNotFoundException>(() => library.WhenModelLoaded);
            var client = Microsoft.AspNetCore.TestHost.HostBuilderTestServerExtensions.GetTestClient(app);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
            await Problems.AssertProblemAsync(await client.GetAsync("/ready"), 503, "model failed to load");
            await Problems.AssertProblemAsync(await client.GetAsync("/search?q=robots"), 503, "model failed to load");
            // Records with their own vectors need no model.
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/papers", new StringContent(RecordWithVector("nomodel.1", "Stored without a model", 2)))).StatusCode);
            await Problems.AssertProblemAsync(await client.PostAsync("/papers", new StringContent("{\"title\":\"Needs embedding\",\"abstract\":\"x\"}")), 503, "model failed to load");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(data, true);
        }
    }
}
