using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace PaperVec.Tests.Api;

/// <summary>
/// Issue 26 items 3, 4 and 10: every body the API reads refuses an unknown field by name (and names
/// PaperVec's word for a known synonym), dates are ISO 8601, ids are checked (null, conflicting,
/// the same paper under two ids), library names end where they end, and ids survive a client that
/// percent-encodes every path parameter.
/// </summary>
[Collection("sample server")]
public class StrictInputTests(SampleServerFixture fixture)
{
    HttpClient Client => fixture.Server.Client;

    static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>A paper with a record id of its own, so that it has two ids (the record's and its PaperVec id).</summary>
    async Task<(string SourceId, string PaperVecId)> PaperWithTwoIdsAsync(string sourceId, string title)
    {
        var created = await Client.PostAsJsonAsync("/papers", new[] { new { id = sourceId, title, @abstract = "Tactile sensing for robot grasping of soft and deformable objects, " + title + "." } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var paper = await Client.GetFromJsonAsync<JsonElement>("/papers/" + Uri.EscapeDataString(sourceId));
        return (sourceId, paper.GetProperty("id").GetString()!);
    }

    [Theory]
    [InlineData("PUT", "/libraries/strict-unknown", "{\"liked\": [], \"bogus\": 1}", "unknown field 'bogus'")]
    [InlineData("PATCH", "/libraries/strict-unknown", "{\"like\": [], \"bogus\": 1}", "unknown field 'bogus'")]
    [InlineData("POST", "/recommend", "{\"liked\": [\"x\"], \"bogus\": 1}", "unknown field 'bogus'")]
    [InlineData("POST", "/search", "{\"text\": \"robot grasping\", \"bogus\": 1}", "unknown field 'bogus'")]
    [InlineData("POST", "/papers", "[{\"title\": \"T\", \"abstract\": \"An abstract.\", \"bogus\": 1}]", "unknown field 'bogus'")]
    [InlineData("POST", "/papers", "{\"title\": \"T\", \"abstract\": \"An abstract.\", \"bogus\": 1}\n", "unknown field 'bogus'")]
    // Synonyms: the other routes' words, arXiv's, other APIs'.
    [InlineData("PUT", "/libraries/strict-unknown", "{\"positive\": [\"x\"], \"negative\": []}", "unknown field 'positive'; PaperVec calls it 'liked'")]
    [InlineData("PUT", "/libraries/strict-unknown", "{\"like\": [\"x\"]}", "unknown field 'like'; PaperVec calls it 'liked'")]
    [InlineData("PATCH", "/libraries/strict-unknown", "{\"liked\": [\"x\"]}", "unknown field 'liked'; PaperVec calls it 'like'")]
    [InlineData("POST", "/recommend", "{\"positive\": [\"x\"]}", "unknown field 'positive'; PaperVec calls it 'liked'")]
    [InlineData("POST", "/recommend", "{\"liked\": [\"x\"], \"negative\": [\"y\"]}", "unknown field 'negative'; PaperVec calls it 'disliked'")]
    [InlineData("POST", "/search", "{\"query\": \"robot\"}", "unknown field 'query'; PaperVec calls it 'text'")]
    [InlineData("POST", "/papers", "[{\"title\": \"T\", \"summary\": \"An abstract.\"}]", "unknown field 'summary'; PaperVec calls it 'abstract'")]
    [InlineData("POST", "/papers", "[{\"title\": \"T\", \"abstract\": \"An abstract.\", \"published\": \"2025-03-11\"}]", "unknown field 'published'; PaperVec calls it 'date'")]
    [InlineData("POST", "/papers", "[{\"Title\": \"T\", \"abstract\": \"An abstract.\"}]", "unknown field 'Title'; PaperVec calls it 'title'")]
    public async Task EveryBodyRefusesAnUnknownFieldByName(string method, string path, string body, string detail)
    {
        int papers = fixture.Server.Library.PaperCount;
        var response = await Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = Json(body) });
        await Problems.AssertProblemAsync(response, 400, detail);
        Assert.Equal(papers, fixture.Server.Library.PaperCount);
        if (path.StartsWith("/libraries/")) await Problems.AssertProblemAsync(await Client.GetAsync(path), 404, "no library");
    }

    [Fact]
    public async Task APutInRecommendsWordsLeavesTheLibraryAsItWas()
    {
        var (source, _) = await PaperWithTwoIdsAsync("strict.keep", "A library paper kept through a misspelled PUT");
        Assert.Equal(HttpStatusCode.OK, (await Client.PutAsync("/libraries/strict-keep", Json($"{{\"liked\": [\"{source}\"]}}"))).StatusCode);
        await Problems.AssertProblemAsync(await Client.PutAsync("/libraries/strict-keep", Json("{\"positive\": [], \"negative\": []}")), 400, "'liked'");
        var library = await Client.GetFromJsonAsync<JsonElement>("/libraries/strict-keep");
        Assert.Equal(1, library.GetProperty("liked").GetArrayLength());
    }

    [Theory]
    [InlineData("03/04/2026")]
    [InlineData("2026-3-4")]
    [InlineData("4 March 2026")]
    [InlineData("2026-03-04 junk")]
    public async Task RecordDatesAreIsoOnly(string date)
    {
        var body = JsonSerializer.Serialize(new[] { new Dictionary<string, string> { ["title"] = "Dated " + date, ["abstract"] = "An abstract.", ["listing_date"] = date } });
        await Problems.AssertProblemAsync(await Client.PostAsync("/papers", Json(body)), 400, $"date '{date}' is not an ISO 8601 date");
    }

    [Fact]
    public async Task TitleOnlyRecordsAreRefused()
    {
        await Problems.AssertProblemAsync(await Client.PostAsync("/papers", Json("[{\"title\": \"Only a title here\"}]")), 400, "record has no abstract");
        await Problems.AssertProblemAsync(await Client.PostAsync("/papers", Json("[{\"title\": \"Only a title here\", \"abstract\": \"  \"}]")), 400, "record has no abstract");
    }

    [Theory]
    [InlineData("PUT", "/libraries/strict-null", "{\"liked\": [null]}", "'liked' item 1 is null")]
    [InlineData("PUT", "/libraries/strict-null", "{\"liked\": [\"\"]}", "'liked' item 1 is empty")]
    [InlineData("PATCH", "/libraries/strict-null", "{\"dislike\": [\"  \"]}", "'dislike' item 1 is empty")]
    [InlineData("POST", "/recommend", "{\"liked\": [null]}", "'liked' item 1 is null")]
    [InlineData("POST", "/recommend", "{\"liked\": [\"a\"], \"disliked\": [\"b\", null]}", "'disliked' item 2 is null")]
    [InlineData("PUT", "/libraries/strict-null", "{\"liked\": [\"a\"], \"liked\": [\"b\"]}", "given twice")]
    public async Task NullAndEmptyIdsAre400Not404(string method, string path, string body, string detail) =>
        await Problems.AssertProblemAsync(await Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = Json(body) }), 400, detail);

    [Fact]
    public async Task OnePaperLikedAndDislikedIsAConflictNamingBothIds()
    {
        var (source, key) = await PaperWithTwoIdsAsync("strict.both", "A paper both liked and disliked under two ids");
        // The same spelling in both lists.
        await Problems.AssertProblemAsync(await Client.PostAsync("/recommend", Json($"{{\"liked\": [\"{source}\"], \"disliked\": [\"{source}\"]}}")), 400, $"'{source}'");
        // The same paper under its record id and its PaperVec id.
        foreach (var (method, path, body) in new[]
        {
            ("POST", "/recommend", $"{{\"liked\": [\"{source}\"], \"disliked\": [\"{key}\"]}}"),
            ("PUT", "/libraries/strict-both", $"{{\"liked\": [\"{source}\"], \"disliked\": [\"{key}\"]}}"),
            ("PATCH", "/libraries/strict-both", $"{{\"like\": [\"{source}\"], \"dislike\": [\"{key}\"]}}"),
        })
        {
            string detail = await Problems.AssertProblemAsync(await Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = Json(body) }), 400, $"'{source}'");
            Assert.Contains($"'{key}'", detail);
        }
        await Problems.AssertProblemAsync(await Client.GetAsync("/libraries/strict-both"), 404, "no library");
    }

    [Theory]
    [InlineData("a%0A")]
    [InlineData("a%0D%0A")]
    [InlineData("a%20")]
    public async Task LibraryNamesEndWhereTheyEnd(string encoded)
    {
        await Problems.AssertProblemAsync(await Client.PutAsync($"/libraries/{encoded}", Json("{\"liked\": []}")), 400, "not valid");
        var names = (await Client.GetFromJsonAsync<JsonElement>("/libraries")).EnumerateArray().Select(l => l.GetProperty("name").GetString()).ToList();
        Assert.DoesNotContain(names, n => n!.StartsWith('a') && n.Length > 1 && char.IsWhiteSpace(n[^1]));
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("2")]
    [InlineData("-0.1")]
    [InlineData("Infinity")]
    public async Task SimilarChecksDiversityAsSearchDoes(string diversity)
    {
        var (source, _) = await PaperWithTwoIdsAsync("strict.similar", "A paper whose neighbours are asked with odd diversity");
        await Problems.AssertProblemAsync(await Client.GetAsync($"/papers/{source}/similar?diversity={diversity}"), 400, "diversity must be");
        await Problems.AssertProblemAsync(await Client.GetAsync($"/search?q=robot&diversity={diversity}"), 400, "diversity must be");
    }

    [Fact]
    public async Task SimilarWithDiversityPicksKDistinctPapers()
    {
        var (source, key) = await PaperWithTwoIdsAsync("strict.diverse", "A paper whose neighbours are asked with diversity");
        var answer = await Client.GetFromJsonAsync<JsonElement>($"/papers/{source}/similar?k=5&diversity=0.7");
        var ids = answer.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToList();
        Assert.Equal(5, ids.Distinct().Count());
        Assert.DoesNotContain(key, ids);
    }

    [Fact]
    public async Task EveryIdSurvivesAClientThatPercentEncodesPathParameters()
    {
        static string P(string value) => Uri.EscapeDataString(value);
        foreach (var digest in new[] { "2025-03-11/daily-papers-mar-11", "2025-03-12/daily-papers-mar-12" })
        {
            var view = await Client.GetFromJsonAsync<JsonElement>($"/digests/{P(digest)}");
            Assert.Equal(digest, view.GetProperty("id").GetString());
        }
        var (source, key) = await PaperWithTwoIdsAsync("strict/0001", "An old-style identifier with a slash, encoded by the client");
        foreach (var id in new[] { source, key })
        {
            Assert.Equal(key, (await Client.GetFromJsonAsync<JsonElement>($"/papers/{P(id)}")).GetProperty("id").GetString());
            Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync($"/papers/{P(id)}/similar?k=3")).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await Client.PutAsync($"/libraries/{P("strict_encoded-1")}", Json($"{{\"liked\": [\"{source}\"]}}"))).StatusCode);
        var ranked = await Client.GetFromJsonAsync<JsonElement>($"/digests/{P("2025-03-11/daily-papers-mar-11")}?library={P("strict_encoded-1")}");
        Assert.Equal("strict_encoded-1", ranked.GetProperty("library").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/libraries/{P("strict_encoded-1")}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/papers/{P(source)}")).StatusCode);
    }

    /// <summary>Item 8: the rank route (a digest ordered by a library) and every route taking a digest id list the stored ids, with a "did you mean".</summary>
    [Fact]
    public async Task AnUnknownDigestIdListsTheStoredOnesWithADidYouMean()
    {
        var (source, _) = await PaperWithTwoIdsAsync("strict.hint", "A liked paper of a reader whose digest id is mistyped");
        Assert.Equal(HttpStatusCode.OK, (await Client.PutAsync("/libraries/strict-hint", Json($"{{\"liked\": [\"{source}\"]}}"))).StatusCode);
        const string listed = "stored digests, newest first: 2025-03-12/daily-papers-mar-12, 2025-03-11/daily-papers-mar-11";
        string detail = await Problems.AssertProblemAsync(await Client.GetAsync("/digests/daily-papers-mar-12?library=strict-hint"), 404, "no digest with id 'daily-papers-mar-12'");
        Assert.Contains("(did you mean '2025-03-12/daily-papers-mar-12'?)", detail);
        Assert.Contains(listed, detail);
        foreach (var response in new[]
        {
            await Client.PostAsync("/recommend", Json("{\"library\": \"strict-hint\", \"digest\": \"2025-03-12/daily-papers-mar-21\"}")),
            await Client.GetAsync($"/papers/{source}/similar?excludeDigest=2025-03-12/daily-papers-mar-21"),
            await Client.GetAsync("/duplicates?digest=2025-03-12/daily-papers-mar-21"),
        })
        {
            detail = await Problems.AssertProblemAsync(response, 404, "(did you mean '2025-03-12/daily-papers-mar-12'?)");
            Assert.Contains(listed, detail);
        }
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync("/libraries/strict-hint")).StatusCode);
    }
}
