using PaperVec.Ingest;

namespace PaperVec.Tests.Ingest;

/// <summary>
/// Copies of the sample digests as users paste them: built here from the bundled files (data/digests),
/// each meant to parse to the same papers as the clean file, or to be refused with a reason.
/// </summary>
static class DigestVariants
{
    public const string Header = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nbyAK and the research community\n\n";

    public static string Raw(string file) => File.ReadAllText(Path.Combine(RepoPaths.Digests, file));

    public static ParsedDigest Clean(string file) => DigestParser.Parse(Raw(file), new DigestParseOptions { Year = 2025 });

    /// <summary>Lines the daily-papers page shows around a paper, in the page's words.</summary>
    public static readonly string[] PageLines =
    [
        "Submitted by someone · 12 upvotes", "12 upvotes", "▲ 37", "Upvote 42", "https://arxiv.org/abs/2503.11677", "arXiv:2503.11677",
        "2503.11677v2", "View arXiv page", "View PDF", "Read paper", "Published on Mar 11", "Authors: Ada Lovelace, Alan Turing",
        "Ramprasaath R. Selvaraju, Michael Cogswell and Abhishek Das", "· 5 authors", "GitHub 1.2k", "3 comments",
    ];

    /// <summary>The digest's text rebuilt from its papers, each paper written by <paramref name="paper"/>.</summary>
    public static string Render(ParsedDigest digest, Func<int, DigestPaper, string> paper) =>
        Header + digest.DateLine + "\n\n" + string.Concat(digest.Papers.Select((p, i) => paper(i, p) + "\n\n"));

    /// <summary>The abstract split into two paragraphs at the sentence end nearest its middle (as it stays when it has one sentence).</summary>
    public static string TwoParagraphs(string text)
    {
        int middle = text.Length / 2;
        int after = text.IndexOf(". ", middle, StringComparison.Ordinal), before = text.LastIndexOf(". ", middle, StringComparison.Ordinal);
        int cut = after >= 0 ? after : before;
        return cut < 0 ? text : text[..(cut + 1)] + "\n\n" + text[(cut + 2)..];
    }

    /// <summary>Paragraph breaks inside every abstract.</summary>
    public static string WithParagraphBreaks(ParsedDigest d) => Render(d, (_, p) => $"{p.Title}\n\n{TwoParagraphs(p.Abstract)}");

    /// <summary>A page line under every title: as its own paragraph, or on the line right under the title; some above the title too.</summary>
    public static string WithPageLines(ParsedDigest d) => Render(d, (i, p) =>
    {
        string line = PageLines[i % PageLines.Length];
        string above = i % 3 == 0 ? PageLines[(i + 5) % PageLines.Length] + "\n\n" : "";
        return i % 2 == 0 ? $"{above}{p.Title}\n\n{line}\n\n{p.Abstract}" : $"{above}{p.Title}\n{line}\n\n{p.Abstract}";
    });

    public static string WithBoth(ParsedDigest d) => Render(d, (i, p) => $"{p.Title}\n{PageLines[i % PageLines.Length]}\n\n{TwoParagraphs(p.Abstract)}");

    public static readonly Dictionary<string, Func<string, string>> Encodings = new()
    {
        ["as is"] = t => t,
        ["crlf"] = t => t.Replace("\n", "\r\n"),
        ["bom"] = t => "\uFEFF" + t,
        ["blank runs"] = t => t.Replace("\n\n", "\n\n\n\n\n"),
        ["trailing spaces"] = t => string.Join("\n", t.Split('\n').Select(l => l + "  \t")),
        ["all"] = t => "\uFEFF" + string.Join("\r\n", t.Replace("\n\n", "\n\n\n").Split('\n').Select(l => l + " ")),
    };

    /// <summary>An unknown line (no title, no abstract, not a page line) between every title and its abstract.</summary>
    public static string WithUnknownLines(ParsedDigest d) => Render(d, (i, p) => $"{p.Title}\n\nSponsored content from our friends\n\n{p.Abstract}");

    /// <summary>The raw file without its date line.</summary>
    public static string WithoutDateLine(string raw, string dateLine) =>
        string.Join("\n", raw.Split('\n').Where(l => l.Trim() != dateLine));
}
