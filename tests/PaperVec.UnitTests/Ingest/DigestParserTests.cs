using System.Text;
using PaperVec.Ingest;

namespace PaperVec.Tests.Ingest;

public class DigestParserTests
{
    const string Header = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nbyAK and the research community\n\n";
    const string LongAbstract = "We propose a method for doing things well. It improves results on many benchmarks by a wide margin. Code is available online.";

    [Theory]
    [InlineData("daily-papers-mar-11.txt", 31)]
    [InlineData("daily-papers-mar-12.txt", 44)]
    public void SampleDigestsParseCompletely(string file, int papers)
    {
        var digest = DigestParser.Parse(File.ReadAllText(Path.Combine(RepoPaths.Digests, file)), new DigestParseOptions { Year = 2025 });
        Assert.Equal(papers, digest.Papers.Count);
        Assert.Empty(digest.Problems);
        Assert.Equal(DateRule.GivenYear, digest.DateRule);
        Assert.Equal(file.Contains("11") ? new DateOnly(2025, 3, 11) : new DateOnly(2025, 3, 12), digest.Date);
        Assert.All(digest.Papers, p => Assert.True(p.Abstract.Length > p.Title.Length));
    }

    [Fact]
    public void ToleratesCrlfBomBlankRunsTrailingSpacesAndHardWrapping()
    {
        string text = "\uFEFF" + Header.Replace("\n", "\r\n") + "Mar 11  \r\n\r\n\r\n\r\nFirst Title   \r\n\r\n" +
            "We propose a method for doing things\r\nwell across many lines. It improves\r\nresults considerably.  \r\n\r\n\r\n" +
            "Second Title: With Ünïcödé 中文\n\n" + LongAbstract + "\n";
        var digest = DigestParser.Parse(text, new DigestParseOptions { Year = 2025 });
        Assert.Equal(2, digest.Papers.Count);
        Assert.Equal("First Title", digest.Papers[0].Title);
        Assert.Equal("We propose a method for doing things well across many lines. It improves results considerably.", digest.Papers[0].Abstract);
        Assert.Equal("Second Title: With Ünïcödé 中文", digest.Papers[1].Title);
        Assert.Empty(digest.Problems);
    }

    static string Papers(int count) => string.Concat(Enumerable.Range(0, count).Select(i => $"Real Title {i}\n\n{LongAbstract}\n\n"));

    [Fact]
    public void MissingAbstractsAreReportedWithLineNumbersAndSkipped()
    {
        // Two odd blocks among twenty papers are a small share: reported and skipped (more would refuse the digest).
        string text = "Mar 11\n\nOrphan Title In The Middle\n\n" + Papers(20) + "Trailing Title Without Abstract\n";
        var digest = DigestParser.Parse(text, new DigestParseOptions { Year = 2025 });
        Assert.Equal(20, digest.Papers.Count);
        Assert.Equal("Real Title 0", digest.Papers[0].Title);
        Assert.Equal(2, digest.Problems.Count);
        Assert.StartsWith("line 3: title without an abstract", digest.Problems[0]);
        Assert.StartsWith("line 85: title without an abstract", digest.Problems[1]);
    }

    [Fact]
    public void TitlesWithFullStopsInsideAreTitles()
    {
        // A real arXiv title; a short line that does not end like a sentence.
        string text = "Mar 11\n\nSee it. Say it. Sorted: Agentic System for Compositional Diagram Generation\n\n" + LongAbstract + "\n";
        var digest = DigestParser.Parse(text, new DigestParseOptions { Year = 2025 });
        Assert.Empty(digest.Problems);
        Assert.Equal("See it. Say it. Sorted: Agentic System for Compositional Diagram Generation", digest.Papers.Single().Title);
    }

    [Fact]
    public void AbstractWithoutTitleIsReported()
    {
        string text = "Mar 11\n\n" + LongAbstract + "\n\n" + Papers(10);
        var digest = DigestParser.Parse(text, new DigestParseOptions { Year = 2025 });
        Assert.Equal(10, digest.Papers.Count);
        Assert.Contains("paragraph without a title", digest.Problems.Single());
    }

    [Fact]
    public void VeryLongParagraphsAreKeptWhole()
    {
        string longAbstract = string.Join(" ", Enumerable.Repeat("This sentence repeats to make a very long abstract.", 4000));
        var digest = DigestParser.Parse("Mar 11\n\nTitle\n\n" + longAbstract, new DigestParseOptions { Year = 2025 });
        Assert.Equal(longAbstract, digest.Papers.Single().Abstract);
    }

    [Theory]
    [InlineData("Mar 11, 2024", null, null, "2024-03-11", DateRule.DateLineWithYear)]
    [InlineData("2023-07-01", null, null, "2023-07-01", DateRule.DateLineWithYear)]
    [InlineData("Mar 11", "2022-01-05", null, "2022-01-05", DateRule.GivenDate)]
    [InlineData("Mar 11", null, 2021, "2021-03-11", DateRule.GivenYear)]
    public void DateRules(string dateLine, string? given, int? year, string expected, DateRule rule)
    {
        var options = new DigestParseOptions { Date = given == null ? null : DateOnly.Parse(given), Year = year, FileName = "digest.txt" };
        var digest = DigestParser.Parse($"{dateLine}\n\nTitle\n\n{LongAbstract}\n", options);
        Assert.Equal(DateOnly.Parse(expected), digest.Date);
        Assert.Equal(rule, digest.DateRule);
    }

    [Fact]
    public void BareDateTakesTheYearFromTheFileNameElseTheIngestDate()
    {
        string text = $"Mar 11\n\nTitle\n\n{LongAbstract}\n";
        var fromName = DigestParser.Parse(text, new DigestParseOptions { FileName = "papers-2019-digest.txt" });
        Assert.Equal((new DateOnly(2019, 3, 11), DateRule.FileName), (fromName.Date, fromName.DateRule));
        var fromToday = DigestParser.Parse(text, new DigestParseOptions { FileName = "daily-papers-mar-11.txt", Today = new DateOnly(2026, 11, 22) });
        Assert.Equal((new DateOnly(2026, 3, 11), DateRule.IngestDate), (fromToday.Date, fromToday.DateRule));
    }

    [Fact]
    public void InvalidUtf8AndBinaryAreRejected()
    {
        Assert.Contains("not valid UTF-8", Assert.Throws<InvalidDataException>(() => DigestParser.DecodeText([0x41, 0xC3, 0x28], "x.txt")).Message);
        var binary = Enumerable.Range(0, 512).Select(i => (byte)(i % 7)).ToArray();
        Assert.Contains("binary", Assert.Throws<InvalidDataException>(() => DigestParser.DecodeText(binary, "x.bin")).Message);
        Assert.Equal("ok ☃", DigestParser.DecodeText(Encoding.UTF8.GetBytes("ok ☃"), "x.txt"));
    }
}
