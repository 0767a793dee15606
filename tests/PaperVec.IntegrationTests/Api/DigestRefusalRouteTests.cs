using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using PaperVec.Ingest;
using PaperVec.Tests.Ingest;

namespace PaperVec.Tests.Api;

/// <summary>POST /digests with pasted variants of the sample digests (issue 26, items 1, 2 and 9): 400 naming the lines, nothing stored; a copy that lost text never replaces an abstract.</summary>
public class DigestRefusalRouteTests
{
    static StringContent Text(string text) => new(text, Encoding.UTF8, "text/plain");

    /// <summary>The first <paramref name="count"/> papers of a sample digest, dated by its date line.</summary>
    static ParsedDigest Sample(string file, int count)
    {
        var clean = DigestVariants.Clean(file);
        return clean with { Papers = clean.Papers.Take(count).ToList(), DateLine = clean.Date.ToString("yyyy-MM-dd") };
    }

    [Fact]
    public async Task UnreadableUndatedTwoDayAndEmptyDigestsAre400NamingTheLinesAndStoreNothing()
    {
        await using var server = await ApiServer.StartAsync();
        var client = server.Client;
        var clean = DigestVariants.Clean("daily-papers-mar-11.txt");

        string detail = await Problems.AssertProblemAsync(await client.PostAsync("/digests?year=2025", Text(DigestVariants.WithUnknownLines(clean))), 400, "31 of 62 blocks");
        Assert.Contains("lines 11, ", detail);
        string undated = DigestVariants.WithoutDateLine(DigestVariants.Raw("daily-papers-mar-11.txt"), "Mar 11");
        await Problems.AssertProblemAsync(await client.PostAsync("/digests", Text(undated)), 400, "pass ?date=YYYY-MM-DD");
        string both = DigestVariants.Raw("daily-papers-mar-11.txt") + "\n" + DigestVariants.Raw("daily-papers-mar-12.txt");
        detail = await Problems.AssertProblemAsync(await client.PostAsync("/digests?year=2025", Text(both)), 400, "'Mar 11' on line 9");
        Assert.Contains("'Mar 12' on line ", detail);
        await Problems.AssertProblemAsync(await client.PostAsync("/digests?year=2025", Text("\uFEFF\r\n\r\n")), 400, "the digest is empty");
        Assert.Equal(0, server.Database.PaperCount);
        Assert.Empty(server.Database.Catalog.Digests());

        // Dated by ?date=, the undated copy is the clean file's papers.
        var answer = await client.PostAsync("/digests?date=2025-03-11&name=undated", Text(undated));
        Assert.Equal(HttpStatusCode.Created, answer.StatusCode);
        Assert.Equal(31, (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("papers").GetInt32());
    }

    [Fact]
    public async Task ACopyThatLostTextNeverReplacesTheStoredAbstractButARevisionDoes()
    {
        await using var server = await ApiServer.StartAsync();
        var client = server.Client;
        var sample = Sample("daily-papers-mar-11.txt", 4);
        var first = await client.PostAsync("/digests?name=clean", Text(DigestVariants.Render(sample, (_, p) => $"{p.Title}\n\n{p.Abstract}")));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var ids = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("newPapers").EnumerateArray().Select(p => p.GetProperty("id").GetString()!).ToList();
        Assert.Equal(4, ids.Count);

        // The issue's copy: each abstract cut after its first paragraph, or its last words, or a middle run dropped.
        string Cut(int i, string text)
        {
            var words = text.Split(' ');
            return i switch
            {
                0 => DigestVariants.TwoParagraphs(text).Split("\n\n")[0],
                1 => string.Join(' ', words.Take(words.Length / 3)),
                2 => string.Join(' ', words.Take(10).Concat(words.Skip(words.Length / 2))),
                _ => text[..(text.Length / 2)], // mid-word
            };
        }
        var lost = await client.PostAsync("/digests?name=lost", Text(DigestVariants.Render(sample, (i, p) => $"{p.Title}\n\n{Cut(i, p.Abstract)}")));
        Assert.Equal(HttpStatusCode.Created, lost.StatusCode);
        var answer = await lost.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((4, 0), (answer.GetProperty("exact").GetInt32(), answer.GetProperty("revised").GetInt32()));
        for (int i = 0; i < 4; i++)
        {
            var stored = await client.GetFromJsonAsync<JsonElement>($"/papers/{ids[i]}");
            Assert.Equal(sample.Papers[i].Abstract, stored.GetProperty("abstract").GetString());
        }

        // A real revision (words changed, and shorter) still counts as revised and is stored.
        string revised = sample.Papers[1].Abstract.Replace(" the ", " a ")[..(sample.Papers[1].Abstract.Length / 2)];
        var again = await client.PostAsync("/digests?name=revised", Text(DigestVariants.Render(sample, (i, p) => $"{p.Title}\n\n{(i == 1 ? revised : p.Abstract)}")));
        answer = await again.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((3, 1), (answer.GetProperty("exact").GetInt32(), answer.GetProperty("revised").GetInt32()));
        Assert.Equal(revised, (await client.GetFromJsonAsync<JsonElement>($"/papers/{ids[1]}")).GetProperty("abstract").GetString());
    }

    [Fact]
    public async Task TheIssuesCopyWithPageLinesIsStoredAsTheCleanDigest()
    {
        await using var server = await ApiServer.StartAsync();
        var sample = Sample("daily-papers-mar-12.txt", 5);
        var response = await server.Client.PostAsync("/digests?name=copy", Text(DigestVariants.WithBoth(sample)));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Empty(answer.GetProperty("problems").EnumerateArray());
        Assert.Equal(sample.Papers.Select(p => p.Title), answer.GetProperty("newPapers").EnumerateArray().Select(p => p.GetProperty("title").GetString()));
        foreach (var paper in answer.GetProperty("newPapers").EnumerateArray())
        {
            var stored = await server.Client.GetFromJsonAsync<JsonElement>($"/papers/{paper.GetProperty("id").GetString()}");
            Assert.Equal(sample.Papers.Single(p => p.Title == paper.GetProperty("title").GetString()).Abstract, stored.GetProperty("abstract").GetString());
        }
    }
}
