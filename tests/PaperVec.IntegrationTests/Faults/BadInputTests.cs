using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using PaperVec.Api.Hosting;
using PaperVec.Api.Http;
using PaperVec.Tests.Api;

namespace PaperVec.Tests.Faults;

/// <summary>
/// Bad input gets a 4xx naming what is wrong and writes nothing; every id a client sent resolves
/// afterwards; twins in one request or digest are reported (issue 14, defects 1, 7 and 8).
/// </summary>
public class BadInputTests : IAsyncLifetime
{
    ApiServer _server = null!;
    HttpClient Client => _server.Client;

    public async Task InitializeAsync() => _server = await ApiServer.StartAsync();
    public async Task DisposeAsync() => await _server.DisposeAsync();

    static string Vector(int seed)
    {
        var random = new Random(seed);
        return "[" + string.Join(",", Enumerable.Range(0, 384).Select(_ => (random.NextDouble() - 0.5).ToString("0.0000", CultureInfo.InvariantCulture))) + "]";
    }

    /// <summary>A record as raw JSON (so escapes reach the server exactly as written).</summary>
    static string Record(string idJson, string titleJson, string abstractJson = "\"An abstract about methods.\"", string extra = "", int seed = 1) =>
        $"{{\"id\":{idJson},\"title\":{titleJson},\"abstract\":{abstractJson}{extra},\"vector\":{Vector(seed)}}}";

    async Task<HttpResponseMessage> PostRecordsAsync(params string[] records) =>
        await Client.PostAsync("/papers", new StringContent(string.Join("\n", records), Encoding.UTF8, "application/x-ndjson"));

    async Task<int> PaperCountAsync() => (await Client.GetFromJsonAsync<JsonElement>("/ready")).GetProperty("papers").GetInt32();

    [Theory]
    [InlineData("\"Lone \\ud800 surrogate\"", "lone surrogate")]
    [InlineData("\"Escaped \\u0000 null\"", "control character")]
    [InlineData("\"Bell \\u0007 in a title\"", "control character")]
    [InlineData("\"!!!\"", "no letter or digit")]
    [InlineData("\"   \"", "no title")]
    public async Task BadTitlesAre400AndWriteNothing(string titleJson, string expected)
    {
        int before = await PaperCountAsync();
        var response = await PostRecordsAsync(Record("\"ok.1\"", "\"A fine paper\"", seed: 2), Record("\"bad.1\"", titleJson));
        await Problems.AssertProblemAsync(response, 400, expected);
        Assert.Equal(before, await PaperCountAsync()); // the good record of the same request is not stored either
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/papers/ok.1")).StatusCode);
    }

    [Fact]
    public async Task ALoneSurrogateInAnyFieldIs400NamingTheField()
    {
        var response = await PostRecordsAsync(Record("\"s.1\"", "\"Title\"", extra: ",\"authors\":\"Ann \\udc00 Bee\""));
        await Problems.AssertProblemAsync(response, 400, "'authors'");
    }

    [Fact]
    public async Task FieldsBeyondTheirLimitAre400NamingTheFieldAndTheDirectoryStaysWritable()
    {
        string authors = new('a', 5 << 20); // the probe's 5 MB authors: once bricked the data directory
        var response = await PostRecordsAsync(Record("\"big.1\"", "\"Paper with a huge author list\"", extra: $",\"authors\":\"{authors}\""));
        await Problems.AssertProblemAsync(response, 400, "'authors' is 5,242,880 characters");
        var small = await PostRecordsAsync(Record("\"small.1\"", "\"A small paper after the big one\"", seed: 3));
        Assert.Equal(HttpStatusCode.Created, small.StatusCode);
        Assert.Null(_server.Library.Database.StorageProblem);

        foreach (var (field, chars) in new[] { ("abstract", 100_001), ("url", 2_049), ("categories", 1_001), ("id", 257) })
        {
            string value = new('x', chars);
            string record = field == "id" ? Record($"\"{value}\"", "\"Long id paper\"")
                : field == "abstract" ? Record("\"l.1\"", "\"Long abstract paper\"", $"\"{value}\"")
                : Record("\"l.2\"", "\"Long field paper\"", extra: $",\"{field}\":\"{value}\"");
            await Problems.AssertProblemAsync(await PostRecordsAsync(record), 400, $"'{field}'");
        }
    }

    [Fact]
    public async Task ADigestWithAnOverlongAbstractOrATitleWithoutLettersIs400()
    {
        string digest = $"Mar 11\n\nA real title\n\n{new string('w', 100_001)}\n\n";
        var response = await Client.PostAsync("/digests?year=2025", new StringContent(digest));
        await Problems.AssertProblemAsync(response, 400, "'abstract'");
        response = await Client.PostAsync("/digests?year=2025", new StringContent("Mar 11\n\nA real title\n\nIts abstract.\n\n***\n\nAn abstract under stars.\n"));
        await Problems.AssertProblemAsync(response, 400, "no letter or digit");
        Assert.Equal(0, await PaperCountAsync());
    }

    [Fact]
    public async Task ExactlyOneThousandRecordsAreTakenAndOneMoreIsRefused()
    {
        var records = Enumerable.Range(0, 1000).Select(i => Record($"\"k.{i}\"", $"\"Thousand paper {i}\"", seed: i)).ToArray();
        Assert.Equal(HttpStatusCode.Created, (await PostRecordsAsync(records)).StatusCode);
        Assert.Equal(1000, await PaperCountAsync());
        await Problems.AssertProblemAsync(await PostRecordsAsync([.. records, Record("\"k.1000\"", "\"One too many\"")]), 400, "at most 1000");
    }

    [Fact]
    public async Task EveryIdAClientSentResolvesAfterwards()
    {
        // A new id on an exact copy of a stored paper becomes one more id of it.
        Assert.Equal(HttpStatusCode.Created, (await PostRecordsAsync(Record("\"x.1\"", "\"Exact copy paper\"", seed: 5))).StatusCode);
        var copy = await (await PostRecordsAsync(Record("\"x.2\"", "\"Exact copy paper\"", seed: 5))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, copy.GetProperty("exact").GetInt32());
        var byFirst = await Client.GetFromJsonAsync<JsonElement>("/papers/x.1");
        var bySecond = await Client.GetFromJsonAsync<JsonElement>("/papers/x.2");
        Assert.Equal(byFirst.GetProperty("id").GetString(), bySecond.GetProperty("id").GetString());

        // Two records with one title in one request: stored once, both ids resolve, reported as twins.
        var twins = await (await PostRecordsAsync(Record("\"t.1\"", "\"Twin paper\"", seed: 6), Record("\"t.2\"", "\"Twin  paper!\"", seed: 6)))
            .Content.ReadFromJsonAsync<JsonElement>();
        var twin = Assert.Single(twins.GetProperty("twins").EnumerateArray());
        Assert.Equal([1, 2], twin.GetProperty("positions").EnumerateArray().Select(p => p.GetInt32()));
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/papers/t.1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/papers/t.2")).StatusCode);

        // The same id under a new title revises that paper; a later record with the new title and no id is the same paper.
        int before = await PaperCountAsync();
        Assert.Equal(HttpStatusCode.Created, (await PostRecordsAsync(Record("\"r.1\"", "\"Original title\"", seed: 7))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PostRecordsAsync(Record("\"r.1\"", "\"Renamed title\"", seed: 7))).StatusCode);
        var later = await (await PostRecordsAsync(Record("null", "\"Renamed title\"", seed: 7))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0, later.GetProperty("new").GetInt32());
        Assert.Equal(before + 1, await PaperCountAsync());

        // Deleting by the second id removes the paper and every id that named it.
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync("/papers/x.2")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/papers/x.1")).StatusCode);
    }

    [Fact]
    public async Task ADigestListingOneTitleTwiceReportsTheTwins()
    {
        string digest = "Mar 11\n\nListed twice\n\nFirst abstract of it.\n\nSomething else\n\nAnother abstract.\n\nListed twice\n\nSecond abstract of it.\n";
        var response = await Client.PostAsync("/digests?year=2025&name=twins", new StringContent(digest));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        var twin = Assert.Single(answer.GetProperty("twins").EnumerateArray());
        Assert.Equal([1, 3], twin.GetProperty("positions").EnumerateArray().Select(p => p.GetInt32()));
        Assert.Contains(answer.GetProperty("problems").EnumerateArray(), p => p.GetString()!.Contains("same paper"));
    }

    [Fact]
    public async Task AnOverlongUrlIs414ProblemDetails()
    {
        var response = await Client.GetAsync("/search?q=" + new string('a', RequestTargetLimit.MaxChars));
        await Problems.AssertProblemAsync(response, 414, "POST /search");
    }
}

/// <summary>/metrics follows the same API-key rule as writes.</summary>
public class MetricsAccessTests
{
    [Fact]
    public async Task WithAKeyConfiguredMetricsNeedIt()
    {
        await using var server = await ApiServer.StartAsync(new ServerOptions { ApiKey = "metrics-key" }, waitForModel: false);
        await Problems.AssertProblemAsync(await server.Client.GetAsync("/metrics"), 401, "X-Api-Key");
        var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Add("X-Api-Key", "metrics-key");
        Assert.Equal(HttpStatusCode.OK, (await server.Client.SendAsync(request)).StatusCode);
    }
}
