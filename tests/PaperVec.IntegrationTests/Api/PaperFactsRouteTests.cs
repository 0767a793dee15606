using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace PaperVec.Tests.Api;

/// <summary>
/// The answers the page draws from (search, similar, recommend, a digest plain and ordered by a
/// library) carry the stored record's own id, authors, categories and url, and leave them out where
/// the paper has none (a paper only a digest brought).
/// </summary>
public class PaperFactsRouteTests
{
    const string Records = """
        {"id":"2503.01001","title":"Tidal disruption of stars by supermassive black holes","abstract":"We simulate tidal disruption events of main-sequence stars by supermassive black holes and predict their optical light curves.","authors":"Ann Author, Bob Builder","categories":"astro-ph.HE astro-ph.GA","url":"https://arxiv.org/abs/2503.01001","date":"2025-03-10"}
        {"id":"2503.01002","title":"Light curves of tidal disruption events around massive black holes","abstract":"Optical light curves of stars torn apart by massive black holes follow from the fallback rate of the debris.","authors":"Cleo Coder","categories":"astro-ph.HE","date":"2025-03-10"}
        """;

    static List<JsonElement> Results(JsonElement answer) => answer.GetProperty("results").EnumerateArray().ToList();

    static void AssertFacts(JsonElement paper, string sourceId, string authors, string categories)
    {
        Assert.Equal(sourceId, paper.GetProperty("sourceId").GetString());
        Assert.Equal(authors, paper.GetProperty("authors").GetString());
        Assert.Equal(categories, paper.GetProperty("categories").GetString());
    }

    static JsonElement Find(IEnumerable<JsonElement> papers, string id) => papers.Single(p => p.GetProperty("id").GetString() == id);

    [Fact]
    public async Task ResultsCarryTheRecordsIdAuthorsCategoriesAndUrl()
    {
        await using var server = await ApiServer.StartAsync();
        var client = server.Client;
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/papers", new StringContent(Records, Encoding.UTF8, "application/x-ndjson"))).StatusCode);
        string first = (await client.GetFromJsonAsync<JsonElement>("/papers/2503.01001")).GetProperty("id").GetString()!;
        string second = (await client.GetFromJsonAsync<JsonElement>("/papers/2503.01002")).GetProperty("id").GetString()!;
        // A digest lists the first record again (the same paper) and one of its own, which has no record behind it.
        string digest = "Mar 12\n\nTidal disruption of stars by supermassive black holes\n\nWe simulate tidal disruption events of main-sequence stars by supermassive black holes and predict their optical light curves.\n\n" +
            "Magnetic braking in young stellar clusters\n\nYoung stars in open clusters spin down by magnetized winds at rates set by their mass.\n";
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/digests?year=2025&name=facts", new StringContent(digest))).StatusCode);

        var search = Results(await client.GetFromJsonAsync<JsonElement>("/search?k=3&q=tidal+disruption+light+curves"));
        AssertFacts(Find(search, first), "2503.01001", "Ann Author, Bob Builder", "astro-ph.HE astro-ph.GA");
        Assert.Equal("https://arxiv.org/abs/2503.01001", Find(search, first).GetProperty("url").GetString());
        AssertFacts(Find(search, second), "2503.01002", "Cleo Coder", "astro-ph.HE");
        Assert.False(Find(search, second).TryGetProperty("url", out _), "a paper without a url answers one");
        var digestOnly = search.Single(r => r.GetProperty("id").GetString() != first && r.GetProperty("id").GetString() != second);
        foreach (var absent in new[] { "sourceId", "authors", "categories", "url" })
            Assert.False(digestOnly.TryGetProperty(absent, out _), $"a paper only a digest brought answers '{absent}'");

        AssertFacts(Find(Results(await client.GetFromJsonAsync<JsonElement>($"/papers/{second}/similar?k=2")), first), "2503.01001", "Ann Author, Bob Builder", "astro-ph.HE astro-ph.GA");
        var recommended = await client.PostAsync("/recommend", new StringContent($"{{\"liked\": [\"{second}\"], \"k\": 2}}", Encoding.UTF8, "application/json"));
        AssertFacts(Find(Results(await recommended.Content.ReadFromJsonAsync<JsonElement>()), first), "2503.01001", "Ann Author, Bob Builder", "astro-ph.HE astro-ph.GA");

        var view = (await client.GetFromJsonAsync<JsonElement>("/digests/2025-03-12/facts")).GetProperty("papers").EnumerateArray().ToList();
        AssertFacts(Find(view, first), "2503.01001", "Ann Author, Bob Builder", "astro-ph.HE astro-ph.GA");
        Assert.Equal(HttpStatusCode.OK, (await client.PatchAsync("/libraries/reader", new StringContent($"{{\"like\": [\"{second}\"]}}", Encoding.UTF8, "application/json"))).StatusCode);
        var ordered = (await client.GetFromJsonAsync<JsonElement>("/digests/2025-03-12/facts?library=reader")).GetProperty("papers").EnumerateArray().ToList();
        AssertFacts(Find(ordered, first), "2503.01001", "Ann Author, Bob Builder", "astro-ph.HE astro-ph.GA");
    }
}
