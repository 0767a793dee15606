using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace PaperVec.Tests.Api;

/// <summary>Every route of the HTTP API and every error it answers, in process (TestServer) over the two sample digests.</summary>
[Collection("sample server")]
public class ApiRouteTests(SampleServerFixture fixture)
{
    HttpClient Client => fixture.Server.Client;

    static List<JsonElement> Results(JsonElement answer) => answer.GetProperty("results").EnumerateArray().ToList();

    static void AssertBestFirst(List<JsonElement> results)
    {
        foreach (var r in results)
            foreach (var name in new[] { "id", "title", "date", "score", "snippet" })
                Assert.True(r.TryGetProperty(name, out _), $"result lacks '{name}': {r}");
        var scores = results.Select(r => r.GetProperty("score").GetDouble()).ToList();
        Assert.Equal(scores.OrderByDescending(s => s), scores);
    }

    async Task<string> IdOfTitleAsync(string query, string titleStart)
    {
        var answer = await Client.GetFromJsonAsync<JsonElement>($"/search?k=3&q={Uri.EscapeDataString(query)}");
        return Results(answer).First(r => r.GetProperty("title").GetString()!.StartsWith(titleStart)).GetProperty("id").GetString()!;
    }

    [Fact]
    public void PostingTheDigestsAnsweredCountsNewPapersAndDuplicates()
    {
        Assert.Equal("2025-03-11/daily-papers-mar-11", fixture.Mar11.GetProperty("digest").GetString());
        Assert.Equal(31, fixture.Mar11.GetProperty("new").GetInt32());
        var mar12 = fixture.Mar12;
        Assert.Equal("2025-03-12", mar12.GetProperty("date").GetString());
        Assert.Equal(44, mar12.GetProperty("papers").GetInt32());
        Assert.Equal(41, mar12.GetProperty("new").GetInt32());
        Assert.Equal(3, mar12.GetProperty("alreadySeen").GetInt32());
        Assert.Equal("3 of 44 papers already seen (3 exact, 0 revised)", mar12.GetProperty("summary").GetString());
        Assert.Equal(41, mar12.GetProperty("newPapers").GetArrayLength());
        Assert.All(mar12.GetProperty("duplicates").EnumerateArray(), d => Assert.Equal("exact", d.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task SearchByQueryStringAndByBodyAnswersBestFirst()
    {
        var answer = await Client.GetFromJsonAsync<JsonElement>("/search?q=visual+explanations+of+CNN+decisions+with+class+activation+maps&k=5");
        var results = Results(answer);
        Assert.Equal(5, results.Count);
        AssertBestFirst(results);
        Assert.StartsWith("Grad-CAM", results[0].GetProperty("title").GetString());
        Assert.Equal("2025-03-11", results[0].GetProperty("date").GetString());

        var later = Results(await Client.GetFromJsonAsync<JsonElement>("/search?q=visual+explanations&k=5&from=2025-03-12&to=2025-03-12"));
        Assert.Equal(5, later.Count);
        Assert.All(later, r => Assert.Equal("2025-03-12", r.GetProperty("date").GetString()));

        // A whole abstract finds its own paper first.
        string id = results[0].GetProperty("id").GetString()!;
        var paper = await Client.GetFromJsonAsync<JsonElement>($"/papers/{id}");
        var posted = await Client.PostAsJsonAsync("/search", new { text = paper.GetProperty("abstract").GetString(), k = 3 });
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        var byAbstract = Results(await posted.Content.ReadFromJsonAsync<JsonElement>());
        AssertBestFirst(byAbstract);
        Assert.Equal(id, byAbstract[0].GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("/search?q=", "empty")]
    [InlineData("/search", "empty")]
    [InlineData("/search?q=x&k=0", "k must be")]
    [InlineData("/search?q=x&k=1001", "k must be")]
    [InlineData("/search?q=x&k=ten", "k must be")]
    [InlineData("/search?q=x&from=March", "from must be a date")]
    [InlineData("/search?q=x&from=2025-03-12&to=2025-03-11", "is after to")]
    public async Task BadSearchesAre400WithADetail(string url, string detail) =>
        await Problems.AssertProblemAsync(await Client.GetAsync(url), 400, detail);

    [Fact]
    public async Task OverlongAndMalformedSearchBodiesAre400()
    {
        var tooLong = await Client.PostAsJsonAsync("/search", new { text = new string('a', 100_001) });
        await Problems.AssertProblemAsync(tooLong, 400, "longer than 100,000 characters");
        var malformed = await Client.PostAsync("/search", new StringContent("{\"text\": ", Encoding.UTF8, "application/json"));
        await Problems.AssertProblemAsync(malformed, 400, "must be JSON");
        var badK = await Client.PostAsJsonAsync("/search", new { text = "robots", k = 5000 });
        await Problems.AssertProblemAsync(badK, 400, "k must be");
    }

    [Fact]
    public async Task SimilarExcludesThePaperItselfAndOptionallyADigest()
    {
        string id = await IdOfTitleAsync("Grad-CAM visual explanations from deep networks", "Grad-CAM:");
        var results = Results(await Client.GetFromJsonAsync<JsonElement>($"/papers/{id}/similar?k=5"));
        Assert.Equal(5, results.Count);
        AssertBestFirst(results);
        Assert.DoesNotContain(results, r => r.GetProperty("id").GetString() == id);
        Assert.Contains(results, r => r.GetProperty("title").GetString()!.Contains("Grad-CAM++"));

        var digest = await Client.GetFromJsonAsync<JsonElement>("/digests/2025-03-11/daily-papers-mar-11");
        var inMar11 = digest.GetProperty("papers").EnumerateArray().Select(p => p.GetProperty("id").GetString()).ToHashSet();
        var outside = Results(await Client.GetFromJsonAsync<JsonElement>($"/papers/{id}/similar?k=10&excludeDigest=2025-03-11/daily-papers-mar-11"));
        Assert.Equal(10, outside.Count);
        Assert.DoesNotContain(outside, r => inMar11.Contains(r.GetProperty("id").GetString()));

        await Problems.AssertProblemAsync(await Client.GetAsync("/papers/0123456789abcdef/similar"), 404, "no paper with id");
        await Problems.AssertProblemAsync(await Client.GetAsync($"/papers/{id}/similar?excludeDigest=2020-01-01/none"), 404, "no digest");
        await Problems.AssertProblemAsync(await Client.GetAsync($"/papers/{id}/similar?k=-3"), 400, "k must be");
    }

    [Fact]
    public async Task RecordsIngestAreReadByEitherIdAndDeletedDurably()
    {
        string jsonl = """
            {"id":"api.0001","title":"Tactile sensing for robot grasping of deformable objects","abstract":"We grasp soft objects with tactile feedback.","date":"2025-04-01"}
            {"id":"api.0002","title":"Sparse attention for very long documents","abstract":"Sparse attention patterns scale to book-length inputs.","date":"2025-04-01"}
            """;
        var created = await Client.PostAsync("/papers", new StringContent(jsonl, Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var answer = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, answer.GetProperty("new").GetInt32());

        var again = await Client.PostAsJsonAsync("/papers", new[] { new { id = "api.0001", title = "Tactile sensing for robot grasping of deformable objects", @abstract = "We grasp soft objects with tactile feedback." } });
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        var duplicate = await again.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, duplicate.GetProperty("alreadySeen").GetInt32());
        Assert.Equal("exact", duplicate.GetProperty("duplicates")[0].GetProperty("status").GetString());

        var bySource = await Client.GetFromJsonAsync<JsonElement>("/papers/api.0001");
        string id = bySource.GetProperty("id").GetString()!;
        Assert.Equal(16, id.Length);
        Assert.Equal("2025-04-01", bySource.GetProperty("date").GetString());
        var byId = await Client.GetFromJsonAsync<JsonElement>($"/papers/{id}");
        Assert.Equal("api.0001", byId.GetProperty("sourceId").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync("/papers/api.0001")).StatusCode);
        await Problems.AssertProblemAsync(await Client.GetAsync($"/papers/{id}"), 404, "no paper");
        await Problems.AssertProblemAsync(await Client.GetAsync("/papers/api.0001"), 404, "no paper");
        await Problems.AssertProblemAsync(await Client.DeleteAsync("/papers/api.0001"), 404, "no paper");
        var search = Results(await Client.GetFromJsonAsync<JsonElement>("/search?q=tactile+robot+grasping+of+soft+objects&k=20"));
        Assert.DoesNotContain(search, r => r.GetProperty("id").GetString() == id);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync("/papers/api.0002")).StatusCode);
    }

    [Fact]
    public async Task OldStyleArxivIdsWithASlashAreReachableEncoded()
    {
        var created = await Client.PostAsJsonAsync("/papers", new[] { new { id = "cs/0112017", title = "Old style identifiers for early preprints", @abstract = "An abstract from the days of archive-prefixed identifiers.", date = "2001-12-14" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var paper = await Client.GetFromJsonAsync<JsonElement>("/papers/cs%2F0112017");
        Assert.Equal("cs/0112017", paper.GetProperty("sourceId").GetString());
        var similar = await Client.GetAsync("/papers/cs%2f0112017/similar?k=3");
        Assert.Equal(HttpStatusCode.OK, similar.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync("/papers/cs%2F0112017")).StatusCode);
        await Problems.AssertProblemAsync(await Client.GetAsync("/papers/cs%2F0112017"), 404, "no paper with id 'cs/0112017'");
    }

    [Fact]
    public async Task DeletingAPaperFreesEverySourceIdItWasKnownBy()
    {
        const string title = "Aliases of one paper across two record ids";
        Assert.Equal(HttpStatusCode.Created, (await Client.PostAsJsonAsync("/papers", new[] { new { id = "alias.0001", title, @abstract = "The first text of the paper." } })).StatusCode);
        // Same title, new text and a new id: the same paper, revised, now also known as alias.0002.
        Assert.Equal(HttpStatusCode.Created, (await Client.PostAsJsonAsync("/papers", new[] { new { id = "alias.0002", title, @abstract = "The revised text of the paper." } })).StatusCode);
        string key = (await Client.GetFromJsonAsync<JsonElement>("/papers/alias.0001")).GetProperty("id").GetString()!;
        Assert.Equal(key, (await Client.GetFromJsonAsync<JsonElement>("/papers/alias.0002")).GetProperty("id").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync("/papers/alias.0002")).StatusCode);
        await Problems.AssertProblemAsync(await Client.GetAsync("/papers/alias.0001"), 404, "no paper");
        // Both aliases are gone from the store, not left pointing at the deleted record.
        Assert.Null(fixture.Server.Database.Catalog.KeyOfSourceId("alias.0001"));
        Assert.Null(fixture.Server.Database.Catalog.KeyOfSourceId("alias.0002"));

        // The freed id can name a new paper.
        var reused = await Client.PostAsJsonAsync("/papers", new[] { new { id = "alias.0001", title = "A different paper that reuses a freed id", @abstract = "Unrelated text." } });
        Assert.Equal(1, (await reused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("new").GetInt32());
        Assert.Equal("A different paper that reuses a freed id", (await Client.GetFromJsonAsync<JsonElement>("/papers/alias.0001")).GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync("/papers/alias.0001")).StatusCode);
    }

    [Fact]
    public async Task MalformedRecordsAre400AndStoreNothing()
    {
        int before = fixture.Server.Database.PaperCount;
        string halfBad = "{\"id\":\"bad.1\",\"title\":\"A fine first record\",\"abstract\":\"Fine.\"}\n{\"id\":\"bad.2\",\"title\":";
        await Problems.AssertProblemAsync(await Client.PostAsync("/papers", new StringContent(halfBad)), 400, "request body:2: invalid JSON");
        await Problems.AssertProblemAsync(await Client.PostAsync("/papers", new StringContent("{\"id\":\"bad.3\",\"title\":\"\"}")), 400, "record has no title");
        await Problems.AssertProblemAsync(await Client.PostAsync("/papers", new StringContent("[{\"title\":\"Short vector\",\"abstract\":\"x\",\"vector\":[1,0,0]}]")), 400, "3-d vector");
        await Problems.AssertProblemAsync(await Client.PostAsync("/papers", new StringContent("")), 400, "empty");
        await Problems.AssertProblemAsync(await Client.PostAsync("/papers", new ByteArrayContent([0x7B, 0xFF, 0xFE, 0x7D])), 400, "not valid UTF-8");
        var tooMany = string.Join("\n", Enumerable.Range(0, 1001).Select(i => $"{{\"title\":\"Paper {i}\",\"abstract\":\"x\"}}"));
        await Problems.AssertProblemAsync(await Client.PostAsync("/papers", new StringContent(tooMany)), 400, "at most 1000");
        Assert.Equal(before, fixture.Server.Database.PaperCount);
        Assert.Null(fixture.Server.Database.FindPaper("bad.1"));
    }

    [Fact]
    public async Task ABodyWithoutContentLengthIsReadWhole()
    {
        // Chunked, and many times the body reader's first 4 KB buffer, so it grows while reading.
        var random = new Random(5);
        int dimension = fixture.Server.Database.Dimension;
        var lines = new StringBuilder();
        for (int i = 0; i < 24; i++)
        {
            var vector = Enumerable.Range(0, dimension).Select(_ => random.NextDouble() - 0.5).ToArray();
            lines.Append($"{{\"id\":\"chunked.{i:D4}\",\"title\":\"Chunked upload record {i} about {string.Join(' ', Enumerable.Repeat("long", 40))}\",")
                .Append($"\"abstract\":\"{string.Join(' ', Enumerable.Repeat($"sentence {i} of the record's abstract.", 60))}\",\"date\":\"2025-04-02\",")
                .Append("\"vector\":[").Append(string.Join(',', vector.Select(x => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))).Append("]}\n");
        }
        byte[] body = Encoding.UTF8.GetBytes(lines.ToString());
        Assert.True(body.Length > 100_000, $"{body.Length} bytes");
        var created = await Client.PostAsync("/papers", new ChunkedContent(body));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(24, (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("new").GetInt32());
        for (int i = 0; i < 24; i++)
        {
            var paper = await Client.GetFromJsonAsync<JsonElement>($"/papers/chunked.{i:D4}");
            Assert.StartsWith($"sentence {i} of", paper.GetProperty("abstract").GetString());
            Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/papers/{paper.GetProperty("id").GetString()}")).StatusCode);
        }
    }

    /// <summary>A body sent without a Content-Length header (chunked transfer).</summary>
    sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();
        protected override bool TryComputeLength(out long length) { length = 0; return false; }
    }

    [Fact]
    public async Task BodiesOverTenMegabytesAre413AndStoreNothing()
    {
        int papers = fixture.Server.Database.PaperCount, digests = fixture.Server.Database.Catalog.Digests().Count;
        var big = new byte[(10 << 20) + 1];
        big.AsSpan().Fill((byte)'a');
        await Problems.AssertProblemAsync(await Client.PostAsync("/digests?date=2025-05-01", new ByteArrayContent(big)), 413, "larger than 10 MB");
        // Without a Content-Length (chunked), the limit is found while reading.
        await Problems.AssertProblemAsync(await Client.PostAsync("/papers", new ChunkedContent(big)), 413, "larger than 10 MB");
        await Problems.AssertProblemAsync(await Client.PostAsync("/search", new ByteArrayContent(big)), 413, "larger than 10 MB");
        Assert.Equal(papers, fixture.Server.Database.PaperCount);
        Assert.Equal(digests, fixture.Server.Database.Catalog.Digests().Count);
    }

    [Fact]
    public async Task BadDigestsAre400()
    {
        await Problems.AssertProblemAsync(await Client.PostAsync("/digests", new StringContent("just one line without any abstract")), 400, "no papers found");
        await Problems.AssertProblemAsync(await Client.PostAsync("/digests?date=11-03-2025", new StringContent("T\n\nA")), 400, "date must be a date");
        await Problems.AssertProblemAsync(await Client.PostAsync("/digests?year=twenty", new StringContent("T\n\nA")), 400, "year must be");
        await Problems.AssertProblemAsync(await Client.PostAsync("/digests", new ByteArrayContent([0, 1, 2, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])), 400, "binary");
    }

    [Fact]
    public async Task DigestsAreListedAndTheDigestViewMarksPapersSeenBefore()
    {
        var list = (await Client.GetFromJsonAsync<JsonElement>("/digests")).EnumerateArray().ToList();
        Assert.Contains(list, d => d.GetProperty("id").GetString() == "2025-03-11/daily-papers-mar-11" && d.GetProperty("papers").GetInt32() == 31);
        Assert.Contains(list, d => d.GetProperty("id").GetString() == "2025-03-12/daily-papers-mar-12");

        var mar12 = await Client.GetFromJsonAsync<JsonElement>("/digests/2025-03-12/daily-papers-mar-12");
        var seen = mar12.GetProperty("papers").EnumerateArray().Where(p => p.GetProperty("seenBefore").GetBoolean()).ToList();
        Assert.Equal(3, seen.Count);
        Assert.Equal(3, mar12.GetProperty("seenBefore").GetInt32());
        Assert.All(seen, p => Assert.Equal("2025-03-11/daily-papers-mar-11", p.GetProperty("seenIn")[0].GetString()));
        var mar11 = await Client.GetFromJsonAsync<JsonElement>("/digests/2025-03-11/daily-papers-mar-11");
        Assert.Equal(0, mar11.GetProperty("seenBefore").GetInt32()); // listed first there: not seen before

        await Problems.AssertProblemAsync(await Client.GetAsync("/digests/2025-01-01/nothing"), 404, "no digest");
    }

    [Fact]
    public async Task DuplicatesAreTheThreePapersOfBothSampleDaysInTheDocumentedShape()
    {
        var answer = await Client.GetFromJsonAsync<JsonElement>("/duplicates?digest=2025-03-11/daily-papers-mar-11&digest=2025-03-12/daily-papers-mar-12");
        var groups = answer.GetProperty("groups").EnumerateArray().ToList();
        Assert.Equal(3, groups.Count);
        foreach (var g in groups)
        {
            Assert.Equal("exact", g.GetProperty("kind").GetString());
            Assert.Equal(1.0, g.GetProperty("cosine").GetDouble());
            Assert.Equal(1.0, g.GetProperty("lexical").GetDouble());
            var members = g.GetProperty("members").EnumerateArray().ToList();
            Assert.Equal(["2025-03-11/daily-papers-mar-11", "2025-03-12/daily-papers-mar-12"], members.Select(m => m.GetProperty("digest").GetString()));
            Assert.Equal(["2025-03-11", "2025-03-12"], members.Select(m => m.GetProperty("date").GetString()));
            Assert.Single(members.Select(m => m.GetProperty("paperId").GetString()).Distinct());
            Assert.False(string.IsNullOrEmpty(members[0].GetProperty("title").GetString()));
        }
        var fromMar12 = await Client.GetFromJsonAsync<JsonElement>("/duplicates?digest=2025-03-12/daily-papers-mar-12&from=2025-03-12");
        Assert.Equal(0, fromMar12.GetProperty("groups").GetArrayLength());
    }

    [Theory]
    [InlineData("/duplicates?from=yesterday", HttpStatusCode.BadRequest, "from must be a date")]
    [InlineData("/duplicates?from=2025-03-12&to=2025-03-11", HttpStatusCode.BadRequest, "is after to")]
    [InlineData("/duplicates?digest=2025-01-01/nope", HttpStatusCode.NotFound, "no digest with id '2025-01-01/nope'")]
    public async Task BadDuplicateQueriesAreProblems(string url, HttpStatusCode status, string detail)
    {
        var response = await Client.GetAsync(url);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task HealthReadyMetricsOpenApiAndThePage()
    {
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/health")).StatusCode);
        var ready = await Client.GetFromJsonAsync<JsonElement>("/ready");
        Assert.Equal("ready", ready.GetProperty("status").GetString());

        await Client.GetAsync("/search?q=robots");
        var metrics = await Client.GetAsync("/metrics");
        Assert.StartsWith("text/plain", metrics.Content.Headers.ContentType!.ToString());
        string text = await metrics.Content.ReadAsStringAsync();
        foreach (var expected in new[]
        {
            // ASP.NET Core's request duration (its _count is the request count) and requests in flight.
            "# TYPE http_server_request_duration_seconds histogram", "http_server_active_requests{",
            "# TYPE papervec_embed_batch_size histogram", "papervec_embed_batch_size_count", "papervec_embed_queue_seconds_bucket{",
            "# TYPE papervec_ingested_papers_total counter", "papervec_ingested_papers_total{", "status=\"new\"",
            "# TYPE papervec_index_papers gauge", "# TYPE papervec_store_bytes gauge",
        })
            Assert.Contains(expected, text);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Any(l => l.StartsWith("http_server_request_duration_seconds_count{") && l.Contains("http_route=\"/search") && l.Contains("http_response_status_code=\"200\"")), text);
        // Every sample line is "name{labels} value" or "name value" with a number (and perhaps a timestamp).
        foreach (var line in lines.Where(l => !l.StartsWith('#')))
            Assert.Matches(@"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*=""(\\.|[^""\\])*"",?)*\})? (\+Inf|-Inf|NaN|[-0-9.eE+]+)( [0-9]+)?$", line);

        var openApi = await Client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = openApi.GetProperty("paths");
        foreach (var path in new[] { "/search", "/papers", "/papers/{id}", "/papers/{id}/similar", "/digests", "/health", "/ready", "/metrics" })
            Assert.True(paths.TryGetProperty(path, out _), $"OpenAPI lacks {path}");

        var page = await Client.GetAsync("/");
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        Assert.Contains("more like this", await page.Content.ReadAsStringAsync());

        await Problems.AssertProblemAsync(await Client.GetAsync("/no-such-route"), 404, "");
    }
}

/// <summary>Search modes over the HTTP API on the sample digests.</summary>
[Collection("sample server")]
public class SearchModeRouteTests(SampleServerFixture fixture)
{
    HttpClient Client => fixture.Server.Client;

    [Fact]
    public async Task EveryModeAnswersTheSameShapeAndLexicalFindsExactTerms()
    {
        foreach (var mode in new[] { "hybrid", "semantic", "lexical" })
        {
            var answer = await Client.GetFromJsonAsync<JsonElement>($"/search?q=Grad-CAM&k=3&mode={mode}");
            Assert.Equal(mode, answer.GetProperty("mode").GetString());
            var results = answer.GetProperty("results").EnumerateArray().ToList();
            Assert.NotEmpty(results);
            if (mode != "semantic") Assert.StartsWith("Grad-CAM", results[0].GetProperty("title").GetString());
        }
        var byDefault = await Client.GetFromJsonAsync<JsonElement>("/search?q=class+activation+maps&k=3");
        Assert.Equal("hybrid", byDefault.GetProperty("mode").GetString());
        var gradCam = byDefault.GetProperty("results").EnumerateArray().First(r => r.GetProperty("title").GetString()!.StartsWith("Grad-CAM"));
        Assert.Contains(gradCam.GetProperty("matches").EnumerateArray(), m => m.GetString()!.StartsWith("activation", StringComparison.OrdinalIgnoreCase));

        var posted = await Client.PostAsJsonAsync("/search", new { text = "Grad-CAM", k = 2, mode = "lexical" });
        Assert.Equal("lexical", (await posted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("mode").GetString());
    }

    [Fact]
    public async Task AnUnknownModeIs400ListingTheModes()
    {
        await Problems.AssertProblemAsync(await Client.GetAsync("/search?q=x&mode=fuzzy"), 400, "hybrid, semantic or lexical");
        await Problems.AssertProblemAsync(await Client.PostAsJsonAsync("/search", new { text = "x", mode = "1" }), 400, "unknown search mode");
    }
}
