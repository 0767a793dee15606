using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;

namespace PaperVec.Tests.Api;

/// <summary>32 clients at once, mixing searches, similar and ingests, for a fixed number of requests.</summary>
[Collection("sample server")]
public class ApiConcurrencyTests(SampleServerFixture fixture)
{
    [Fact]
    public async Task ThirtyTwoClientsMixingSearchSimilarAndIngestGetNo5xxAndOnlyExistingIds()
    {
        var client = fixture.Server.Client;
        var seedIds = (await client.GetFromJsonAsync<JsonElement>("/digests/2025-03-11/daily-papers-mar-11"))
            .GetProperty("papers").EnumerateArray().Select(p => p.GetProperty("id").GetString()!).ToList();
        string[] queries = ["visual explanations for deep networks", "robot manipulation policies", "large language model reasoning",
            "image generation with diffusion", "quantization aware training", "speech recognition", "graph neural networks", "video understanding"];
        const int clients = 32, requestsPerClient = 6;
        var statuses = new ConcurrentBag<int>();
        var returnedIds = new ConcurrentBag<string>();
        var ingested = new ConcurrentBag<string>();

        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            for (int r = 0; r < requestsPerClient; r++)
            {
                HttpResponseMessage response;
                switch ((c + r) % 3)
                {
                    case 0:
                        response = await client.GetAsync($"/search?k=5&q={Uri.EscapeDataString(queries[(c * 7 + r) % queries.Length])}");
                        break;
                    case 1:
                        response = await client.GetAsync($"/papers/{seedIds[(c * 5 + r) % seedIds.Count]}/similar?k=5");
                        break;
                    default:
                        string sourceId = $"load.{c}.{r}";
                        response = await client.PostAsJsonAsync("/papers", new[] { new { id = sourceId, title = $"Concurrent ingest paper {c} {r} on robot learning", @abstract = $"Short abstract {c} {r} about robots." } });
                        ingested.Add(sourceId);
                        break;
                }
                statuses.Add((int)response.StatusCode);
                if (response.IsSuccessStatusCode && response.Content.Headers.ContentType?.MediaType == "application/json")
                {
                    var body = await response.Content.ReadFromJsonAsync<JsonElement>();
                    if (body.TryGetProperty("results", out var results))
                        foreach (var result in results.EnumerateArray()) returnedIds.Add(result.GetProperty("id").GetString()!);
                }
            }
        })));

        Assert.Equal(clients * requestsPerClient, statuses.Count);
        Assert.DoesNotContain(statuses, s => s >= 500);
        Assert.All(statuses, s => Assert.True(s is 200 or 201, $"status {s}"));
        Assert.NotEmpty(returnedIds);
        var db = fixture.Server.Library.Database;
        foreach (var id in returnedIds.Distinct()) Assert.True(db.FindPaper(id) != null, $"result id {id} does not exist");
        foreach (var id in ingested) Assert.True(db.FindPaper(id) != null, $"ingested {id} is missing");
        Assert.True(db.IndexMatchesStore(out var problem), problem);
        foreach (var id in ingested) await client.DeleteAsync($"/papers/{id}"); // leave the shared server as the other tests expect it
    }
}
