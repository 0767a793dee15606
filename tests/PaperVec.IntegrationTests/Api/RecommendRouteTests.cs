using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace PaperVec.Tests.Api;

/// <summary>POST /recommend, the libraries routes and GET /digests/{id}?library=, over the two sample digests.</summary>
[Collection("sample server")]
public class RecommendRouteTests(SampleServerFixture fixture)
{
    HttpClient Client => fixture.Server.Client;

    static List<JsonElement> Results(JsonElement answer) => answer.GetProperty("results").EnumerateArray().ToList();

    async Task<string> IdOfTitleAsync(string query, string titleStart)
    {
        var answer = await Client.GetFromJsonAsync<JsonElement>($"/search?k=5&q={Uri.EscapeDataString(query)}");
        return Results(answer).First(r => r.GetProperty("title").GetString()!.StartsWith(titleStart)).GetProperty("id").GetString()!;
    }

    static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task RecommendFromLikedPapersAnswersTheSearchShapeWithoutTheLibraryAndWithWhy()
    {
        string gradCam = await IdOfTitleAsync("Grad-CAM visual explanations from deep networks", "Grad-CAM:");
        var response = await Client.PostAsync("/recommend", Json($"{{\"liked\": [\"{gradCam}\"], \"k\": 5}}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = Results(await response.Content.ReadFromJsonAsync<JsonElement>());
        Assert.Equal(5, results.Count);
        Assert.DoesNotContain(results, r => r.GetProperty("id").GetString() == gradCam);
        Assert.Contains(results, r => r.GetProperty("title").GetString()!.Contains("Grad-CAM++"));
        var scores = results.Select(r => r.GetProperty("score").GetDouble()).ToList();
        Assert.Equal(scores.OrderByDescending(s => s), scores);
        Assert.All(results, r => Assert.Equal(gradCam, r.GetProperty("because")[0].GetProperty("id").GetString()));

        // Restricted to the Mar 12 digest, with a date filter and diversity: only that digest's papers.
        var mar12 = (await Client.GetFromJsonAsync<JsonElement>("/digests/2025-03-12/daily-papers-mar-12")).GetProperty("papers")
            .EnumerateArray().Select(p => p.GetProperty("id").GetString()).ToHashSet();
        var inDigest = Results(await (await Client.PostAsync("/recommend",
            Json($"{{\"liked\": [\"{gradCam}\"], \"k\": 8, \"digest\": \"2025-03-12/daily-papers-mar-12\", \"diversity\": 0.3}}"))).Content.ReadFromJsonAsync<JsonElement>());
        Assert.Equal(8, inDigest.Count);
        Assert.All(inDigest, r => Assert.Contains(r.GetProperty("id").GetString(), mar12));
    }

    [Theory]
    [InlineData("{\"liked\": []}", 400, "at least one liked")]
    [InlineData("{\"disliked\": [\"x\"]}", 400, "at least one liked")]
    [InlineData("{\"liked\": [\"2501.99999\", \"ffffffffffffffff\"]}", 404, "'2501.99999', 'ffffffffffffffff'")]
    [InlineData("{\"liked\": [\"P\"], \"k\": 0}", 400, "k must be")]
    [InlineData("{\"liked\": [\"P\"], \"diversity\": 2}", 400, "diversity must be")]
    [InlineData("{\"liked\": [\"P\"], \"digest\": \"2020-01-01/none\"}", 404, "no digest")]
    [InlineData("{\"library\": \"no-such-library\"}", 404, "no library named")]
    [InlineData("{\"library\": \"bad name!\"}", 400, "not valid")]
    [InlineData("[1,2]", 400, "must be JSON")]
    public async Task BadRecommendRequestsAreProblemDetails(string body, int status, string detail)
    {
        string id = await IdOfTitleAsync("Grad-CAM visual explanations from deep networks", "Grad-CAM:");
        await Problems.AssertProblemAsync(await Client.PostAsync("/recommend", Json(body.Replace("\"P\"", $"\"{id}\""))), status, detail);
    }

    [Fact]
    public async Task MoreThanAThousandIdsAre400()
    {
        string id = await IdOfTitleAsync("Grad-CAM visual explanations from deep networks", "Grad-CAM:");
        string ids = string.Join(",", Enumerable.Repeat($"\"{id}\"", 1001));
        await Problems.AssertProblemAsync(await Client.PostAsync("/recommend", Json($"{{\"liked\": [{ids}]}}")), 400, "at most 1,000");
    }

    [Fact]
    public async Task ALibraryIsCreatedChangedReadRankedAndDeleted()
    {
        string gradCam = await IdOfTitleAsync("Grad-CAM visual explanations from deep networks", "Grad-CAM:");
        string other = await IdOfTitleAsync("large language model reasoning", "");
        var put = await Client.PutAsync("/libraries/reader-1", Json($"{{\"liked\": [\"{gradCam}\"], \"disliked\": [\"{other}\"]}}"));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var library = await Client.GetFromJsonAsync<JsonElement>("/libraries/reader-1");
        Assert.Equal([gradCam], library.GetProperty("liked").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal([other], library.GetProperty("disliked").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains((await Client.GetFromJsonAsync<JsonElement>("/libraries")).EnumerateArray(), l => l.GetProperty("name").GetString() == "reader-1");

        // A refused change (an unknown id) leaves the library as it was.
        await Problems.AssertProblemAsync(await Client.PatchAsync("/libraries/reader-1", Json("{\"like\": [\"2501.99999\"]}")), 404, "2501.99999");
        await Problems.AssertProblemAsync(await Client.PutAsync("/libraries/bad%20name", Json("{\"liked\": []}")), 400, "not valid");
        await Problems.AssertProblemAsync(await Client.PutAsync($"/libraries/{new string('x', 65)}", Json("{\"liked\": []}")), 400, "not valid");
        Assert.Equal([gradCam], (await Client.GetFromJsonAsync<JsonElement>("/libraries/reader-1")).GetProperty("liked").EnumerateArray().Select(e => e.GetString()));

        // "Not interested" on a liked paper moves it; the digest view orders by the library, with why.
        var patched = await (await Client.PatchAsync("/libraries/reader-1", Json($"{{\"like\": [\"{other}\"], \"remove\": []}}"))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal([gradCam, other], patched.GetProperty("liked").EnumerateArray().Select(e => e.GetString()));
        Assert.Empty(patched.GetProperty("disliked").EnumerateArray());
        await Client.PatchAsync("/libraries/reader-1", Json($"{{\"dislike\": [\"{other}\"]}}"));

        var view = await Client.GetFromJsonAsync<JsonElement>("/digests/2025-03-11/daily-papers-mar-11?library=reader-1");
        Assert.Equal("reader-1", view.GetProperty("library").GetString());
        var papers = view.GetProperty("papers").EnumerateArray().ToList();
        var listed = (await Client.GetFromJsonAsync<JsonElement>("/digests/2025-03-11/daily-papers-mar-11")).GetProperty("papers").GetArrayLength();
        Assert.Equal(listed, papers.Count);
        var scores = papers.Select(p => p.GetProperty("score").GetDouble()).ToList();
        Assert.Equal(scores.OrderByDescending(s => s), scores);
        Assert.Contains("Grad-CAM++", papers.First(p => p.GetProperty("id").GetString() != gradCam).GetProperty("title").GetString());
        Assert.Contains(papers, p => p.GetProperty("because").EnumerateArray().Any(b => b.GetProperty("id").GetString() == gradCam));

        var fromLibrary = Results(await (await Client.PostAsync("/recommend", Json("{\"library\": \"reader-1\", \"k\": 3}"))).Content.ReadFromJsonAsync<JsonElement>());
        Assert.Equal(3, fromLibrary.Count);
        Assert.DoesNotContain(fromLibrary, r => r.GetProperty("id").GetString() is var id && (id == gradCam || id == other));

        await Problems.AssertProblemAsync(await Client.GetAsync("/digests/2025-03-11/daily-papers-mar-11?library=nobody"), 404, "no library named");
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync("/libraries/reader-1")).StatusCode);
        await Problems.AssertProblemAsync(await Client.GetAsync("/libraries/reader-1"), 404, "no library named");
        await Problems.AssertProblemAsync(await Client.DeleteAsync("/libraries/reader-1"), 404, "no library named");
    }

    [Fact]
    public async Task SearchTakesDiversity()
    {
        var plain = Results(await Client.GetFromJsonAsync<JsonElement>("/search?q=class%20activation%20maps&k=5"));
        var diverse = Results(await Client.GetFromJsonAsync<JsonElement>("/search?q=class%20activation%20maps&k=5&diversity=0.6"));
        Assert.Equal(5, diverse.Count);
        Assert.Equal(plain[0].GetProperty("id").GetString(), diverse[0].GetProperty("id").GetString());
        await Problems.AssertProblemAsync(await Client.GetAsync("/search?q=x&diversity=abc"), 400, "diversity must be");
    }
}
