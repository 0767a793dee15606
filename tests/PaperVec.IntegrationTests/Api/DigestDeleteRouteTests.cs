using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace PaperVec.Tests.Api;

/// <summary>
/// GET /digests and DELETE /digests/{id} (issue 29 item 2) on a real server: the mistaken ingest of the
/// issue (mar-11 again without a year, filed under this year as a third digest) listed with its
/// "seen before" count, deleted with every paper kept for another digest, then a digest whose own
/// papers go except one a library likes; /duplicates and the views no longer show either.
/// </summary>
public class DigestDeleteRouteTests
{
    static async Task<JsonElement> GetAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task AMistakenDigestIsListedDeletedAndGoneFromTheViewsAndDuplicates()
    {
        await using var server = await ApiServer.StartAsync();
        var client = server.Client;
        var mar11 = await server.PostSampleDigestAsync("daily-papers-mar-11.txt");
        var mar12 = await server.PostSampleDigestAsync("daily-papers-mar-12.txt");
        var again = await client.PostAsync("/digests?date=2026-03-11&name=daily-papers-mar-11",
            new ByteArrayContent(File.ReadAllBytes(Path.Combine(RepoPaths.Digests, "daily-papers-mar-11.txt"))));
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        string mistaken = (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("digest").GetString()!;
        Assert.Equal("2026-03-11/daily-papers-mar-11", mistaken);
        int listed = mar11.GetProperty("papers").GetInt32();

        var digests = (await GetAsync(client, "/digests")).EnumerateArray().ToList();
        Assert.Equal(3, digests.Count);
        var third = digests.Single(d => d.GetProperty("id").GetString() == mistaken);
        Assert.Equal("2026-03-11", third.GetProperty("date").GetString());
        Assert.Equal("daily-papers-mar-11", third.GetProperty("source").GetString());
        Assert.Equal(listed, third.GetProperty("papers").GetInt32());
        Assert.Equal(listed, third.GetProperty("seenBefore").GetInt32()); // every paper was in 2025's mar-11
        Assert.Equal(0, digests[0].GetProperty("seenBefore").GetInt32());
        string Dupes(JsonElement d) => d.GetRawText();
        Assert.Contains(mistaken, Dupes(await GetAsync(client, "/duplicates")));

        var deleted = await client.DeleteAsync($"/digests/{mistaken}");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        var answer = await deleted.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(mistaken, answer.GetProperty("digest").GetString());
        Assert.Equal(0, answer.GetProperty("deleted").GetInt32());
        Assert.Equal(listed, answer.GetProperty("kept").GetInt32());
        Assert.Equal(listed, answer.GetProperty("keptBy").GetProperty("other-digest").GetInt32());
        Assert.All(answer.GetProperty("keptPapers").EnumerateArray(), p =>
        {
            Assert.Equal("other-digest", p.GetProperty("reason").GetString());
            Assert.Contains("lists it too", p.GetProperty("detail").GetString());
        });
        Assert.Equal($"deleted digest {mistaken}: 0 papers deleted, {listed} kept ({listed} listed by another digest)", answer.GetProperty("summary").GetString());
        Assert.Equal(2, (await GetAsync(client, "/digests")).GetArrayLength());
        Assert.DoesNotContain(mistaken, Dupes(await GetAsync(client, "/duplicates")));
        await Problems.AssertProblemAsync(await client.GetAsync($"/digests/{mistaken}"), 404, mistaken);
        await Problems.AssertProblemAsync(await client.DeleteAsync($"/digests/{mistaken}"), 404, mistaken);
        await Problems.AssertProblemAsync(await client.DeleteAsync("/digests/2025-03-13/nothing"), 404, "2025-03-13/nothing");

        // mar-12's own papers go with it, except the one a library likes; those mar-11 listed too stay.
        string mar12Id = mar12.GetProperty("digest").GetString()!;
        // A retitled listing is a record of its own (a reworded copy): only mar-12 brought it.
        var own = mar12.GetProperty("newPapers").EnumerateArray().Concat(mar12.GetProperty("duplicates").EnumerateArray().Where(p => p.GetProperty("status").GetString() == "retitled"))
            .Select(p => p.GetProperty("id").GetString()!).ToList();
        var shared = mar12.GetProperty("duplicates").EnumerateArray().Where(p => p.GetProperty("status").GetString() != "retitled").Select(p => p.GetProperty("id").GetString()!).ToList();
        Assert.NotEmpty(shared);
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsync("/libraries/mine", JsonContent.Create(new { liked = new[] { own[0] }, disliked = Array.Empty<string>() }))).StatusCode);
        answer = await (await client.DeleteAsync($"/digests/{mar12Id}")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(own.Skip(1).Order(), answer.GetProperty("deletedPapers").EnumerateArray().Select(p => p.GetProperty("id").GetString()!).Order());
        Assert.Equal(1, answer.GetProperty("keptBy").GetProperty("library").GetInt32());
        Assert.Equal(shared.Count, answer.GetProperty("keptBy").GetProperty("other-digest").GetInt32());
        Assert.Contains(answer.GetProperty("keptPapers").EnumerateArray(), p => p.GetProperty("id").GetString() == own[0] && p.GetProperty("detail").GetString() == "library 'mine' names it");
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/papers/{own[1]}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/papers/{own[0]}")).StatusCode);
        Assert.Equal([mar11.GetProperty("digest").GetString()], (await GetAsync(client, "/digests")).EnumerateArray().Select(d => d.GetProperty("id").GetString()));
        Assert.Equal(0, (await GetAsync(client, "/duplicates")).GetProperty("groups").GetArrayLength());
        Assert.True(server.Database.Verify().Sound, string.Join("; ", server.Database.Verify().Problems));
    }
}
