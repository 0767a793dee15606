using PaperVec.Ingest;

namespace PaperVec.Tests.Ingest;

/// <summary>
/// A corpus of pasted variants of the sample digests (issue 26, items 1 and 9): each parses to the same
/// papers, titles and abstracts, as the clean file, or is refused whole with a reason naming the lines.
/// </summary>
public class DigestVariantTests
{
    public static TheoryData<string, string, string> Variants()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var file in new[] { "daily-papers-mar-11.txt", "daily-papers-mar-12.txt" })
            foreach (var content in new[] { "raw", "paragraph breaks", "page lines", "both" })
                foreach (var encoding in DigestVariants.Encodings.Keys)
                    data.Add(file, content, encoding);
        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void EveryVariantParsesToTheCleanFilesPapers(string file, string content, string encoding)
    {
        var clean = DigestVariants.Clean(file);
        Assert.Equal(file.Contains("11") ? 31 : 44, clean.Papers.Count);
        string text = content switch
        {
            "raw" => DigestVariants.Raw(file),
            "paragraph breaks" => DigestVariants.WithParagraphBreaks(clean),
            "page lines" => DigestVariants.WithPageLines(clean),
            _ => DigestVariants.WithBoth(clean),
        };
        var parsed = DigestParser.Parse(DigestVariants.Encodings[encoding](text), new DigestParseOptions { Year = 2025 });
        Assert.Empty(parsed.Problems);
        Assert.Equal(clean.Date, parsed.Date);
        Assert.Equal(clean.Papers.Select(p => p.Title), parsed.Papers.Select(p => p.Title));
        Assert.Equal(clean.Papers.Select(p => p.Abstract), parsed.Papers.Select(p => p.Abstract));
        if (content is "page lines" or "both") Assert.True(parsed.PageLinesLeftOut >= clean.Papers.Count, $"{parsed.PageLinesLeftOut} page lines left out");
    }

    [Fact]
    public void TheIssuesCopyWithASubmitterLineUnderEachTitleKeepsEveryPaper()
    {
        // The reproduction: "Submitted by someone · 12 upvotes" under each title gave 30 warnings and one paper titled so.
        var clean = DigestVariants.Clean("daily-papers-mar-11.txt");
        string text = DigestVariants.Render(clean, (_, p) => $"{p.Title}\n\nSubmitted by someone · 12 upvotes\n\n{p.Abstract}");
        var parsed = DigestParser.Parse(text, new DigestParseOptions { Year = 2025 });
        Assert.Empty(parsed.Problems);
        Assert.Equal(clean.Papers.Select(p => (p.Title, p.Abstract)), parsed.Papers.Select(p => (p.Title, p.Abstract)));
        Assert.DoesNotContain(parsed.Papers, p => p.Title.Contains("Submitted") || p.Abstract.Contains("upvotes"));
    }

    [Fact]
    public void ShortParagraphsInsideAnAbstractAreKeptAndATitleThatHeadsNothingIsReported()
    {
        const string first = "We propose a method for doing things well. It improves results on many benchmarks by a wide margin across the board.";
        string text = "2025-03-11\n\nA Method for Things\n\n" + first + "\n\nCode is available at https://github.com/example/things.\n\n" +
            "We also release the data:\n\nA Second Paper on Other Things\n\n" + first + "\n\n" +
            string.Concat(Enumerable.Range(0, 10).Select(i => $"Filler Paper {i}\n\n{first}\n\n")) + "A Title That Heads Nothing\n";
        var parsed = DigestParser.Parse(text);
        Assert.Equal(12, parsed.Papers.Count);
        Assert.Equal(first + " Code is available at https://github.com/example/things. We also release the data:", parsed.Papers[0].Abstract);
        Assert.Equal("A Second Paper on Other Things", parsed.Papers[1].Title);
        Assert.Equal("line 55: title without an abstract, skipped: A Title That Heads Nothing", Assert.Single(parsed.Problems));
    }

    [Fact]
    public void AMissingDateLineIsRefusedNamingHowToPassADate()
    {
        string raw = DigestVariants.WithoutDateLine(DigestVariants.Raw("daily-papers-mar-11.txt"), "Mar 11");
        var refused = Assert.Throws<DigestRefusedException>(() => DigestParser.Parse(raw, new DigestParseOptions { Year = 2025, DateHint = "--date YYYY-MM-DD" }));
        Assert.Contains("no date line", refused.Message);
        Assert.Contains("--date YYYY-MM-DD", refused.Message);
        // Dated by the caller, or by a whole date in the file name, it is the clean file's papers.
        var clean = DigestVariants.Clean("daily-papers-mar-11.txt");
        var given = DigestParser.Parse(raw, new DigestParseOptions { Date = new DateOnly(2025, 3, 11) });
        Assert.Equal((new DateOnly(2025, 3, 11), DateRule.GivenDate), (given.Date, given.DateRule));
        Assert.Equal(clean.Papers.Select(p => (p.Title, p.Abstract)), given.Papers.Select(p => (p.Title, p.Abstract)));
        Assert.Equal(DateRule.FileName, DigestParser.Parse(raw, new DigestParseOptions { FileName = "papers-2025-03-11.txt" }).DateRule);
    }

    [Fact]
    public void TwoDaysInOneFileAreTwoDigests()
    {
        string both = DigestVariants.Raw("daily-papers-mar-11.txt") + "\n" + DigestVariants.Raw("daily-papers-mar-12.txt");
        int secondDateLine = DigestVariants.Raw("daily-papers-mar-11.txt").Split('\n').Length + 1 + 8;
        var days = DigestParser.ParseDays(both, new DigestParseOptions { Year = 2025 });
        Assert.Equal([(new DateOnly(2025, 3, 11), 31), (new DateOnly(2025, 3, 12), 44)], days.Select(d => (d.Date, d.Papers.Count)));
        Assert.Equal(DigestVariants.Clean("daily-papers-mar-12.txt").Papers.Select(p => p.Abstract), days[1].Papers.Select(p => p.Abstract));
        Assert.Equal(secondDateLine, days[1].DateLineNumber);
        Assert.All(days, d => Assert.Empty(d.Problems));
        // Where one day is expected (one request, one --date), the file is refused naming both date lines.
        var one = Assert.Throws<DigestRefusedException>(() => DigestParser.Parse(both, new DigestParseOptions { Year = 2025 }));
        Assert.Contains($"'Mar 12' on line {secondDateLine}", one.Message);
        Assert.Contains("'Mar 11' on line 9", one.Message);
        Assert.Throws<DigestRefusedException>(() => DigestParser.ParseDays(both, new DigestParseOptions { Date = new DateOnly(2025, 3, 11) }));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\uFEFF")]
    [InlineData("  \r\n\r\n\t\n")]
    public void AnEmptyFileIsRefused(string text)
    {
        var refused = Assert.Throws<DigestRefusedException>(() => DigestParser.ParseDays(text, new DigestParseOptions { Year = 2025 }));
        Assert.Equal("the digest is empty", refused.Message);
    }

    [Fact]
    public void AHeaderWithoutPapersIsRefused()
    {
        var refused = Assert.Throws<DigestRefusedException>(() => DigestParser.Parse(DigestVariants.Header + "Mar 11\n", new DigestParseOptions { Year = 2025 }));
        Assert.StartsWith("no papers found", refused.Message);
    }

    [Fact]
    public void MostlyUnreadableBlocksRefuseTheDigestNamingTheLines()
    {
        var clean = DigestVariants.Clean("daily-papers-mar-11.txt");
        var refused = Assert.Throws<DigestRefusedException>(() => DigestParser.Parse(DigestVariants.WithUnknownLines(clean), new DigestParseOptions { Year = 2025 }));
        Assert.True(refused.Lines.Count >= 30, refused.Message);
        Assert.Contains("lines 11, ", refused.Message);
        Assert.Contains("nothing was stored", refused.Message);
    }

    [Fact]
    public void OneUnreadableBlockIsReportedWithItsLineAndTheRestIsKept()
    {
        string raw = DigestVariants.Raw("daily-papers-mar-12.txt");
        var lines = raw.Split('\n').ToList();
        int at = lines.FindIndex(l => l.Length > 300) + 1; // after the first abstract
        lines.InsertRange(at, ["", "* * * * * * * * *", ""]);
        var parsed = DigestParser.Parse(string.Join("\n", lines), new DigestParseOptions { Year = 2025 });
        Assert.Equal(44, parsed.Papers.Count);
        string problem = Assert.Single(parsed.Problems);
        Assert.StartsWith($"line {at + 2}: ", problem);
        Assert.EndsWith("skipped: * * * * * * * * *", problem);
    }
}
