using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace PaperVec.Tests.Api;

/// <summary>
/// Issue 29 item 4: GET /libraries/{name}/feed.atom parses with a real feed parser (Debian's
/// python3-feedparser) and keeps the Atom rules the W3C validator checks that can be checked offline.
/// </summary>
[Collection("embedder")]
public class LibraryFeedTests
{
    static readonly XNamespace A = "http://www.w3.org/2005/Atom";
    static readonly Regex Rfc3339 = new(@"\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)\z");

    [Fact]
    public async Task ALibrarysFeedHasOneStableEntryPerRecommendedPaperOfEachDigestAndParses()
    {
        await using var server = await ApiServer.StartAsync();
        await server.PostSampleDigestAsync("daily-papers-mar-11.txt");
        await server.PostSampleDigestAsync("daily-papers-mar-12.txt");
        var client = server.Client;
        var found = await client.GetFromJsonAsync<JsonElement>("/search?k=1&mode=lexical&q=" + Uri.EscapeDataString("Grad-CAM visual explanations"));
        string gradCam = found.GetProperty("results")[0].GetProperty("id").GetString()!;
        var put = await client.PutAsync("/libraries/reader", new StringContent($"{{\"liked\": [\"{gradCam}\"]}}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var (first, _) = await FeedAsync(client, "/libraries/reader/feed.atom?top=3");
        var firstEntries = first.Root!.Elements(A + "entry").ToList();
        Assert.Equal(6, firstEntries.Count); // 3 from each of the two digests
        // The top paper gains an arXiv id (a record with its text and an arXiv id): its entry then links to arXiv.
        string topId = Regex.Match(firstEntries[0].Element(A + "id")!.Value, "/paper/([0-9a-f]{16})$").Groups[1].Value;
        var paper = await client.GetFromJsonAsync<JsonElement>($"/papers/{topId}");
        var record = JsonSerializer.Serialize(new { id = "2303.06284", title = paper.GetProperty("title").GetString(), @abstract = paper.GetProperty("abstract").GetString() });
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/papers", new StringContent(record, Encoding.UTF8, "application/json"))).StatusCode);

        var (feed, xml) = await FeedAsync(client, "/libraries/reader/feed.atom?top=3");
        var root = feed.Root!;
        Assert.Equal(A + "feed", root.Name);
        foreach (var required in new[] { "id", "title", "updated" }) Assert.Single(root.Elements(A + required));
        Assert.Single(root.Elements(A + "author")); // entries without authors inherit it
        Assert.Single(root.Elements(A + "link"), l => (string?)l.Attribute("rel") == "self");
        var entries = root.Elements(A + "entry").ToList();
        Assert.Equal(6, entries.Count);
        var ids = entries.Select(e => e.Element(A + "id")!.Value).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        // Stable: the same entries keep their ids from one fetch to the next.
        Assert.Equal(firstEntries.Select(e => e.Element(A + "id")!.Value), ids);
        Assert.All(ids, id => Assert.Matches(@"\Atag:papervec,2025:digest/2025-03-1[12]/daily-papers-mar-1[12]/paper/[0-9a-f]{16}\z", id));
        foreach (var date in root.Descendants().Where(e => e.Name == A + "updated" || e.Name == A + "published"))
            Assert.Matches(Rfc3339, date.Value);
        foreach (var entry in entries)
        {
            foreach (var required in new[] { "id", "title", "updated", "summary" }) Assert.Single(entry.Elements(A + required));
            Assert.Single(entry.Elements(A + "link"), l => (string?)l.Attribute("rel") == "alternate");
            Assert.Contains("Because you liked \"Grad-CAM:", entry.Element(A + "summary")!.Value);
        }
        var top = entries[0];
        Assert.Equal("https://arxiv.org/abs/2303.06284", top.Elements(A + "link").Single(l => (string?)l.Attribute("rel") == "alternate").Attribute("href")!.Value);
        Assert.Equal("https://arxiv.org/pdf/2303.06284", top.Elements(A + "link").Single(l => (string?)l.Attribute("rel") == "related").Attribute("href")!.Value);

        // A real feed parser reads it without complaint, with the same entries and links.
        var parsed = FeedParser(xml);
        Assert.False(parsed.GetProperty("bozo").GetBoolean(), parsed.ToString());
        Assert.Equal("atom10", parsed.GetProperty("version").GetString());
        Assert.Equal(ids, parsed.GetProperty("ids").EnumerateArray().Select(i => i.GetString()));
        Assert.Equal("https://arxiv.org/abs/2303.06284", parsed.GetProperty("links")[0].GetString());
        Assert.All(parsed.GetProperty("links").EnumerateArray(), l => Assert.StartsWith("http", l.GetString()));

        // N is the reader's; bad values and unknown libraries are refused by name.
        var (one, _) = await FeedAsync(client, "/libraries/reader/feed.atom?top=1&digests=1");
        Assert.Single(one.Root!.Elements(A + "entry"));
        await Problems.AssertProblemAsync(await client.GetAsync("/libraries/reader/feed.atom?top=0"), 400, "top must be");
        await Problems.AssertProblemAsync(await client.GetAsync("/libraries/nobody/feed.atom"), 404, "no library named 'nobody'");
    }

    static async Task<(XDocument Feed, string Xml)> FeedAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        string xml = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, xml);
        Assert.Equal("application/atom+xml", response.Content.Headers.ContentType?.MediaType);
        return (XDocument.Parse(xml), xml);
    }

    /// <summary>Debian's python3-feedparser on the feed: bozo (malformed), version, entry ids and links.</summary>
    static JsonElement FeedParser(string xml)
    {
        const string python = "/usr/bin/python3";
        const string script = "import feedparser,json,sys\nf=feedparser.parse(sys.stdin.read())\nprint(json.dumps({'bozo':bool(f.bozo),'error':str(f.get('bozo_exception','')),'version':f.version,'ids':[e.id for e in f.entries],'links':[e.link for e in f.entries]}))";
        var check = Process.Start(new ProcessStartInfo(python, ["-c", "import feedparser"]) { RedirectStandardError = true })!;
        check.WaitForExit();
        Assert.True(check.ExitCode == 0, "python3-feedparser is missing: apt-get install -y python3-feedparser (run-tests installs it)");
        var start = new ProcessStartInfo(python, ["-c", script]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        process.StandardInput.Write(xml);
        process.StandardInput.Close();
        string output = process.StandardOutput.ReadToEnd(), error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, error);
        return JsonDocument.Parse(output).RootElement.Clone();
    }
}
