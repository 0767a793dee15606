using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using PaperVec.Api.Hosting;
using PaperVec.Ingest;
using PaperVec.Api;

namespace PaperVec.Tests.Api.Browser;

/// <summary>Runs only where chromium is installed, or always under CI (CI set): there a missing browser fails the test.</summary>
public sealed class ChromiumTheoryAttribute : TheoryAttribute
{
    public ChromiumTheoryAttribute() => Skip = SkipReason();

    public static string? SkipReason() =>
        !File.Exists(Chromium.ExecutablePath) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))
            ? $"{Chromium.ExecutablePath} is not installed (./run-tests installs it; under CI this test always runs)" : null;
}

/// <summary>
/// The reader's page in a real (headless) browser against a real Kestrel server, at a desktop's
/// size and a phone's: the newest digest on opening, papers with their arXiv links, authors and
/// categories, TeX made readable, expand, more results, the keyboard, the library, and neutral
/// empty and error states. With PAPERVEC_SCREENSHOTS set to a folder, the opening view is saved
/// there (the README's screenshots come from it).
/// </summary>
public class SearchPageBrowserTests
{
    const string Newest = "2025-03-12/daily-papers-mar-12";
    const string ArxivId = "2503.07777";

    // A record as the arXiv metadata has it: TeX in title and abstract, five authors, two categories.
    static readonly object Record = new
    {
        id = ArxivId,
        title = @"Dynamical stability of {\em rotating} stars with $\alpha$-disks",
        @abstract = @"We study the \textbf{dynamical stability} of rapidly rotating stars surrounded by $\alpha$-disks. " +
            @"About 50\% of the modelled stars are unstable, and the growth time scales as $\mathcal{O}(n^2)$ in the number of shells. " +
            @"Accretion from the disk {\it stabilises} the outer layers, while the core stays convective over the whole run. " +
            "The tail sentence of this abstract is only shown once it is expanded.",
        authors = "Ada Lovelace, Charles Babbage, Mary Somerville, John Herschel, Caroline Herschel",
        categories = "astro-ph.SR gr-qc",
        date = "2025-03-10",
    };

    [ChromiumTheory]
    [InlineData(1280, 900)]
    [InlineData(390, 844)]
    public async Task TheReadersPageWorksAtThisSize(int width, int height)
    {
        bool phone = width < 700;
        string data = Directory.CreateTempSubdirectory("pv-browser-").FullName;
        var app = await PaperVecServer.CreateAsync(new ServerOptions { DataPath = data, Urls = ["http://127.0.0.1:0"], ModelDirectory = RepoPaths.ModelDir });
        try
        {
            await app.StartAsync();
            string baseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            await app.Services.GetRequiredService<ServedPapers>().WhenModelLoaded;
            using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
            Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/papers", new[] { Record })).StatusCode);
            foreach (var name in new[] { "mar-11", "mar-12" })
            {
                var digest = new StringContent(File.ReadAllText(Path.Combine(RepoPaths.Digests, $"daily-papers-{name}.txt")));
                Assert.Equal(HttpStatusCode.Created, (await http.PostAsync($"/digests?year=2025&name=daily-papers-{name}", digest)).StatusCode);
            }

            await using var browser = await Chromium.LaunchAsync();
            await browser.SetViewportAsync(width, height, mobile: phone);
            await browser.NavigateAsync(baseUrl);

            // Opening: the newest digest, highlighted in the list, in a layout that fits the screen.
            await browser.WaitForAsync($"document.querySelector('#heading').textContent.startsWith('Digest {Newest}') && document.querySelectorAll('li.result').length === 44", "the newest digest on opening");
            Assert.Equal($"#digest={Newest}", (await browser.EvaluateAsync("decodeURIComponent(location.hash)")).GetString());
            Assert.Equal(Newest, (await browser.EvaluateAsync("document.querySelector('#digests a.current').dataset.id")).GetString());
            Assert.Equal(3, (await browser.EvaluateAsync("document.querySelectorAll('li.seen-before .seen').length")).GetInt32());
            await AssertFitsAsync(browser, width, "the newest digest");
            if (Environment.GetEnvironmentVariable("PAPERVEC_SCREENSHOTS") is { Length: > 0 } folder)
                File.WriteAllBytes(Path.Combine(folder, phone ? "page-phone.png" : "page-desktop.png"), await browser.ScreenshotPngAsync());
            await AssertRenderedAsync(browser);

            // The sidebar: beside the results on a desktop, behind the menu button on a phone.
            Assert.Equal(phone, (await browser.EvaluateAsync("getComputedStyle(document.querySelector('#sidebar')).display === 'none'")).GetBoolean());
            if (phone) await OpenMenuAsync(browser);
            // Digest names do not wrap mid-word (at a hyphen, say): each sits on one line.
            Assert.True((await browser.EvaluateAsync("[...document.querySelectorAll('#digests a .name')].every(n => n.getClientRects().length === 1 && n.getBoundingClientRect().height < 1.6 * parseFloat(getComputedStyle(n).lineHeight || '20'))")).GetBoolean(),
                "a digest name wraps");
            await browser.ClickAsync("#digests a:first-child");
            await browser.WaitForAsync("document.querySelector('#heading').textContent.startsWith('Digest 2025-03-11/') && document.querySelector('#digests a.current').dataset.id.startsWith('2025-03-11/')", "the older digest, highlighted");
            if (phone) Assert.True((await browser.EvaluateAsync("getComputedStyle(document.querySelector('#sidebar')).display === 'none'")).GetBoolean(), "the menu stays open over the digest");

            // "/" focuses the search box; a search shows the record with its links, authors, categories and readable TeX.
            await browser.PressKeyAsync("/");
            Assert.Equal("q", (await browser.EvaluateAsync("document.activeElement.id")).GetString());
            await browser.TypeAndPressEnterAsync("dynamical stability of rotating stars with disks");
            await browser.WaitForAsync("document.querySelector('#heading').textContent.startsWith('Top 10') && document.querySelectorAll('li.result').length === 10", "search results");
            await AssertFitsAsync(browser, width, "search results");
            Assert.Equal("Dynamical stability of rotating stars with α-disks", (await browser.EvaluateAsync("document.querySelector('li.result .title').textContent")).GetString());
            Assert.Equal($"https://arxiv.org/abs/{ArxivId}", (await browser.EvaluateAsync("document.querySelector('li.result .title a').href")).GetString());
            Assert.Equal($"https://arxiv.org/pdf/{ArxivId}", (await browser.EvaluateAsync("document.querySelector('li.result a.pdf').href")).GetString());
            Assert.Equal("Ada Lovelace, Charles Babbage, Mary Somerville et al.", (await browser.EvaluateAsync("document.querySelector('li.result .authors').textContent")).GetString());
            Assert.Equal("astro-ph.SR gr-qc", (await browser.EvaluateAsync("[...document.querySelectorAll('li.result:first-child .category')].map(c => c.textContent).join(' ')")).GetString());
            Assert.Matches(@"^\d+\.\d{3}$", (await browser.EvaluateAsync("document.querySelector('li.result .score').textContent")).GetString());
            string snippet = (await browser.EvaluateAsync("document.querySelector('li.result .snippet').textContent")).GetString()!;
            Assert.Contains("dynamical stability of rapidly rotating stars surrounded by α-disks", snippet);
            Assert.DoesNotContain("tail sentence", snippet);
            Assert.True((await browser.EvaluateAsync("document.querySelectorAll('li.result .snippet mark').length")).GetInt32() > 0, "no matched word is highlighted");

            // expand: the whole abstract, TeX cleaned; collapse goes back.
            await browser.ClickAsync("li.result button.expand");
            await browser.WaitForAsync("document.querySelector('li.result .snippet').textContent.includes('tail sentence')", "the expanded abstract");
            string full = (await browser.EvaluateAsync("document.querySelector('li.result .snippet').textContent")).GetString()!;
            Assert.Contains("About 50% of the modelled stars", full);
            Assert.Contains("scales as O(n²) in the number", full);
            Assert.Contains("the disk stabilises the outer", full);
            foreach (var raw in new[] { "\\", "{", "}", "$" }) Assert.DoesNotContain(raw, full);
            await browser.ClickAsync("li.result button.expand");
            await browser.WaitForAsync("!document.querySelector('li.result .snippet').textContent.includes('tail sentence')", "the collapsed snippet");

            // More results: ten more rows, none repeated.
            await browser.ClickAsync("#more-results");
            await browser.WaitForAsync("document.querySelectorAll('li.result').length === 20", "more search results");
            Assert.Equal(20, (await browser.EvaluateAsync("new Set([...document.querySelectorAll('li.result')].map(e => e.dataset.id)).size")).GetInt32());
            Assert.StartsWith("Top 20", (await browser.EvaluateAsync("document.querySelector('#heading').textContent")).GetString());

            // The keyboard, away from the search box: j/k move a visible selection, o opens arXiv, l likes, x is not interested.
            await browser.PressKeyAsync("Escape");
            await browser.PressKeyAsync("j");
            await browser.PressKeyAsync("j");
            Assert.Equal(1, (await browser.EvaluateAsync("[...document.querySelectorAll('li.result')].findIndex(e => e.classList.contains('selected'))")).GetInt32());
            await browser.PressKeyAsync("k");
            Assert.Equal(0, (await browser.EvaluateAsync("[...document.querySelectorAll('li.result')].findIndex(e => e.classList.contains('selected'))")).GetInt32());
            Assert.Equal(1, (await browser.EvaluateAsync("document.querySelectorAll('li.result.selected').length")).GetInt32());
            Assert.NotEqual("none", (await browser.EvaluateAsync("getComputedStyle(document.querySelector('li.result.selected')).outlineStyle")).GetString());
            string liked = (await browser.EvaluateAsync("document.querySelector('li.result.selected').dataset.id")).GetString()!;
            await browser.PressKeyAsync("l");
            await browser.WaitForAsync("document.querySelector('li.result.selected button.star').classList.contains('on')", "the like");
            await browser.PressKeyAsync("j");
            string disliked = (await browser.EvaluateAsync("document.querySelector('li.result.selected').dataset.id")).GetString()!;
            await browser.PressKeyAsync("x");
            await browser.WaitForAsync("document.querySelector('li.result.selected button.not-interested').classList.contains('on')", "not interested");
            await browser.PressKeyAsync("k");
            await browser.PressKeyAsync("o");
            var opened = Stopwatch.StartNew();
            while (!(await browser.PageUrlsAsync()).Any(u => u.StartsWith($"https://arxiv.org/abs/{ArxivId}")))
            {
                Assert.True(opened.Elapsed < TimeSpan.FromSeconds(30), $"o opened no arXiv page; pages: {string.Join(", ", await browser.PageUrlsAsync())}");
                await Task.Delay(50);
            }
            string stored = await http.GetStringAsync("/libraries/mine");
            Assert.Contains($"\"liked\":[\"{liked}\"]", stored);
            Assert.Contains($"\"disliked\":[\"{disliked}\"]", stored);

            // "more like this" and its more results.
            await browser.ClickAsync("li.result a.more");
            await browser.WaitForAsync("document.querySelector('#heading').textContent.startsWith('Papers like') && document.querySelectorAll('li.result').length === 10", "the similar papers");
            Assert.False((await browser.EvaluateAsync($"[...document.querySelectorAll('li.result')].some(e => e.dataset.id === '{liked}')")).GetBoolean(), "the paper is listed as similar to itself");
            await browser.ClickAsync("#more-results");
            await browser.WaitForAsync("document.querySelectorAll('li.result').length === 20", "more similar papers");

            // Recommendations leave the library's papers out, and page too.
            if (phone) await OpenMenuAsync(browser);
            await browser.ClickAsync("#recommend-link");
            await browser.WaitForAsync("document.querySelector('#heading').textContent.startsWith('Recommended') && document.querySelectorAll('li.result').length === 20", "recommendations");
            await browser.ClickAsync("#more-results");
            await browser.WaitForAsync("document.querySelectorAll('li.result').length > 20", "more recommendations");
            Assert.False((await browser.EvaluateAsync($"[...document.querySelectorAll('li.result')].some(e => e.dataset.id === '{liked}' || e.dataset.id === '{disliked}')")).GetBoolean(),
                "a library paper is recommended back");
            await AssertFitsAsync(browser, width, "recommendations");

            // With a liked paper, the digest is ordered by the library and says why.
            await browser.EvaluateAsync($"location.hash = '#digest={Newest}'");
            await browser.WaitForAsync("document.querySelector('#heading').textContent.includes('ordered by library') && document.querySelectorAll('li.result').length === 44", "the digest ordered by the library");

            // An error after a view: a neutral note, the heading cleared, no stale rows.
            await browser.EvaluateAsync("location.hash = '#similar=0000000000000000'");
            await browser.WaitForAsync("document.querySelector('#status').textContent.includes('no paper')", "the error");
            await AssertNeutralNoteAsync(browser);
            // An empty answer: the same.
            await browser.NavigateAsync(baseUrl.TrimEnd('/') + "/?q=zqxjvw&mode=lexical");
            await browser.WaitForAsync("document.querySelector('#status').textContent.includes('No papers match')", "the empty answer");
            await AssertNeutralNoteAsync(browser);
            await AssertFitsAsync(browser, width, "the empty answer");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(data, true);
        }
    }

    static async Task OpenMenuAsync(Chromium browser)
    {
        await browser.ClickAsync("#menu");
        await browser.WaitForAsync("getComputedStyle(document.querySelector('#sidebar')).display !== 'none'", "the opened menu");
    }

    /// <summary>No horizontal scrolling, the Search button on screen, and a results column wide enough to read.</summary>
    static async Task AssertFitsAsync(Chromium browser, int width, string what)
    {
        Assert.Equal(width, (await browser.EvaluateAsync("innerWidth")).GetInt32());
        await browser.EvaluateAsync("scrollTo(0, 0)"); // the header scrolls away with the page; its layout is what is checked
        int scrollWidth = (await browser.EvaluateAsync("document.scrollingElement.scrollWidth")).GetInt32();
        Assert.True(scrollWidth <= width, $"{what}: the page is {scrollWidth} px wide in a {width} px window");
        Assert.True((await browser.EvaluateAsync("(() => { const r = document.querySelector('#go').getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= innerWidth && r.top >= 0 && r.bottom <= innerHeight; })()")).GetBoolean(),
            $"{what}: the Search button is off screen");
        double column = (await browser.EvaluateAsync("document.querySelector('#results').getBoundingClientRect().width")).GetDouble();
        Assert.True(column >= Math.Min(width - 40, 600), $"{what}: the results column is {column} px wide in a {width} px window");
    }

    static async Task AssertNeutralNoteAsync(Chromium browser)
    {
        Assert.Equal("", (await browser.EvaluateAsync("document.querySelector('#heading').textContent")).GetString());
        Assert.Equal(0, (await browser.EvaluateAsync("document.querySelectorAll('li.result').length")).GetInt32());
        Assert.True((await browser.EvaluateAsync("document.querySelector('#more-results').hidden")).GetBoolean(), "more results offered for nothing");
        // Neither the text nor its box is red: rgb with red well above green and blue reads as an alarm.
        foreach (var property in new[] { "color", "backgroundColor" })
        {
            string colour = (await browser.EvaluateAsync($"getComputedStyle(document.querySelector('#status')).{property}")).GetString()!;
            var rgb = System.Text.RegularExpressions.Regex.Matches(colour, @"\d+").Take(3).Select(m => int.Parse(m.Value)).ToArray();
            Assert.True(rgb[0] - Math.Max(rgb[1], rgb[2]) < 40, $"the note's {property} is {colour}");
        }
    }

    /// <summary>A blank page is one colour; a rendered one has text (anti-aliased: many colours) and the header bar.</summary>
    static async Task AssertRenderedAsync(Chromium browser)
    {
        var (width, height, pixels) = PngImage.Decode(await browser.ScreenshotPngAsync());
        Assert.True(width >= 390 && height >= 600, $"screenshot is {width}x{height}");
        var colours = pixels.GroupBy(p => p).Select(g => g.Count()).OrderDescending().ToList();
        Assert.True(colours.Count > 50, $"the screenshot has only {colours.Count} colours");
        Assert.True(colours[0] < pixels.Length * 0.95, "one colour covers 95% of the screenshot");
    }
}
