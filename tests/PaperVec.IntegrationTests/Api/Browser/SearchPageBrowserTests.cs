using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using PaperVec.Api.Hosting;
using PaperVec.Ingest;
using PaperVec.Api;

namespace PaperVec.Tests.Api.Browser;

/// <summary>Runs only where chromium is installed, or always under CI (CI set): there a missing browser fails the test.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (!File.Exists(Chromium.ExecutablePath) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
            Skip = $"{Chromium.ExecutablePath} is not installed (./run-tests installs it; under CI this test always runs)";
    }
}

/// <summary>The search page in a real (headless) browser against a real Kestrel server.</summary>
public class SearchPageBrowserTests
{
    [ChromiumFact]
    public async Task SearchMoreLikeThisTheDigestViewAndTheLibraryWorkInABrowser()
    {
        string data = Directory.CreateTempSubdirectory("pv-browser-").FullName;
        var app = PaperVecServer.Create(new ServerOptions { DataPath = data, Urls = ["http://127.0.0.1:0"], ModelDirectory = RepoPaths.ModelDir });
        try
        {
            await app.StartAsync();
            string baseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            await app.Services.GetRequiredService<ServedPapers>().WhenModelLoaded;
            using (var http = new HttpClient { BaseAddress = new Uri(baseUrl) })
            {
                string mar11 = File.ReadAllText(Path.Combine(RepoPaths.Digests, "daily-papers-mar-11.txt"));
                Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("/digests?year=2025&name=mar-11", new StringContent(mar11))).StatusCode);
                // A small later digest that lists one of those papers again (so the digest view has one paper seen before) and a new one.
                var first = DigestParser.Parse(mar11, new DigestParseOptions { Year = 2025 }).Papers[0];
                string later = $"Mar 12\n\n{first.Title}\n\n{first.Abstract}\n\nTactile sensing for robot grasping of soft objects\n\nWe grasp deformable objects using touch.\n";
                Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("/digests?year=2025&name=mar-12", new StringContent(later))).StatusCode);
            }

            await using var browser = await Chromium.LaunchAsync();
            await browser.NavigateAsync(baseUrl);
            await browser.WaitForAsync("document.querySelectorAll('#digests a').length === 2", "the digest list");

            // Type a query and press Enter.
            await browser.EvaluateAsync("document.querySelector('#q').focus()");
            await browser.TypeAndPressEnterAsync("visual explanations of CNN decisions with class activation maps");
            await browser.WaitForAsync("document.querySelectorAll('li.result').length === 10", "search results");
            Assert.StartsWith("Grad-CAM", (await browser.EvaluateAsync("document.querySelector('li.result .title').textContent")).GetString());
            Assert.Matches(@"^\d+\.\d{3}$", (await browser.EvaluateAsync("document.querySelector('li.result .score').textContent")).GetString());
            // The words the query matched are marked in the snippets.
            Assert.True((await browser.EvaluateAsync("document.querySelectorAll('li.result .snippet mark').length")).GetInt32() > 0, "no matched word is highlighted");
            string firstId = (await browser.EvaluateAsync("document.querySelector('li.result').dataset.id")).GetString()!;

            // "more like this" on the first result.
            await browser.ClickAsync("li.result a.more");
            await browser.WaitForAsync("document.querySelector('#heading').textContent.startsWith('Papers like')", "the similar papers");
            await browser.WaitForAsync("document.querySelectorAll('li.result').length > 0", "similar results");
            Assert.False((await browser.EvaluateAsync($"[...document.querySelectorAll('li.result')].some(e => e.dataset.id === '{firstId}')")).GetBoolean(),
                "the paper itself is listed as similar to itself");
            Assert.Contains("Grad-CAM++", (await browser.EvaluateAsync("document.querySelector('#results').textContent")).GetString());

            // A search is a shareable URL: /?q=...&mode=... opens it, in that mode.
            await browser.NavigateAsync(baseUrl.TrimEnd('/') + "/?q=Grad-CAM&mode=lexical");
            await browser.WaitForAsync("document.querySelectorAll('li.result').length > 0 && document.querySelector('#heading').textContent.includes('lexical')", "the shared search");
            Assert.Equal("lexical", (await browser.EvaluateAsync("document.querySelector('#mode').value")).GetString());
            Assert.StartsWith("Grad-CAM", (await browser.EvaluateAsync("document.querySelector('li.result .title').textContent")).GetString());
            await browser.WaitForAsync("document.querySelectorAll('#digests a').length === 2", "the digest list");

            // The later digest marks the paper listed the day before.
            await browser.ClickAsync("#digests a:last-child");
            await browser.WaitForAsync("document.querySelector('#heading').textContent.startsWith('Digest') && document.querySelectorAll('li.result').length === 2", "the digest view");
            Assert.Equal(1, (await browser.EvaluateAsync("document.querySelectorAll('li.seen-before .seen').length")).GetInt32());

            // A star and a "not interested" on the Mar 11 digest's papers go into the reader's library ("mine" by default).
            await browser.ClickAsync("#digests a:first-child");
            await browser.WaitForAsync("document.querySelector('#heading').textContent.startsWith('Digest') && document.querySelectorAll('li.result').length > 10", "the first digest");
            string liked = (await browser.EvaluateAsync("document.querySelector('li.result').dataset.id")).GetString()!;
            string disliked = (await browser.EvaluateAsync("document.querySelectorAll('li.result')[1].dataset.id")).GetString()!;
            await browser.ClickAsync("li.result button.star");
            await browser.WaitForAsync("document.querySelector('li.result button.star').classList.contains('on')", "the star");
            await browser.ClickAsync("li.result:nth-child(2) button.not-interested");
            await browser.WaitForAsync("document.querySelectorAll('li.result')[1].querySelector('button.not-interested').classList.contains('on')", "not interested");
            using (var http = new HttpClient { BaseAddress = new Uri(baseUrl) })
            {
                string stored = await http.GetStringAsync("/libraries/mine");
                Assert.Contains($"\"liked\":[\"{liked}\"]", stored);
                Assert.Contains($"\"disliked\":[\"{disliked}\"]", stored);
            }

            // The digest ordered by the library says why; "Recommended for you" leaves the library's own papers out.
            await browser.ClickAsync("#by-library");
            await browser.WaitForAsync("document.querySelector('#heading').textContent.includes('ordered by library') && document.querySelectorAll('li.result .because').length > 0", "the digest ordered by the library");
            // The papers already judged are marked and listed after the others.
            Assert.True((await browser.EvaluateAsync($"(() => {{ const items = [...document.querySelectorAll('li.result')]; const l = items.find(e => e.dataset.id === '{liked}'), d = items.find(e => e.dataset.id === '{disliked}'); " +
                "return items[0] !== l && l.querySelector('.judged').textContent.includes('liked') && d.querySelector('.judged').textContent.includes('not interested') && items.slice(-2).includes(l) && items.slice(-2).includes(d); })()")).GetBoolean(),
                "the liked and disliked papers are marked and listed last");
            await browser.ClickAsync("#recommend-link");
            await browser.WaitForAsync("document.querySelector('#heading').textContent.startsWith('Recommended') && document.querySelectorAll('li.result').length > 0", "recommendations");
            Assert.False((await browser.EvaluateAsync($"[...document.querySelectorAll('li.result')].some(e => e.dataset.id === '{liked}' || e.dataset.id === '{disliked}')")).GetBoolean(),
                "a library paper is recommended back");

            var png = await browser.ScreenshotPngAsync();
            File.WriteAllBytes(Path.Combine(Path.GetTempPath(), "papervec-search-page.png"), png);
            var (width, height, pixels) = PngImage.Decode(png);
            Assert.True(width >= 800 && height >= 600, $"screenshot is {width}x{height}");
            var colours = pixels.GroupBy(p => p).Select(g => g.Count()).OrderDescending().ToList();
            // A blank page is one colour; a rendered one has text (anti-aliased: many colours) and the header bar.
            Assert.True(colours.Count > 50, $"the screenshot has only {colours.Count} colours");
            Assert.True(colours[0] < pixels.Length * 0.95, "one colour covers 95% of the screenshot");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(data, true);
        }
    }
}
