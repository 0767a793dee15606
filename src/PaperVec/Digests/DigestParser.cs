using System.Text;

namespace PaperVec.Digests;

/// <summary>A parsed digest: its date line (if any) and its papers in listing order.</summary>
public sealed record ParsedDigest(string? DateLine, IReadOnlyList<DigestPaper> Papers, IReadOnlyList<string> Problems);

/// <summary>
/// Parses the daily digest format: header lines, a date line ("Mar 11"), then for each paper a title
/// paragraph, a blank line and an abstract paragraph. Paragraphs are runs of non-blank lines, so
/// hard-wrapped abstracts are joined with spaces; CRLF, a BOM and trailing spaces are tolerated.
/// </summary>
public static class DigestParser
{
    static readonly HashSet<string> HeaderLines = new(StringComparer.OrdinalIgnoreCase)
    {
        "new", "Get trending papers in your email inbox!", "Subscribe", "byAK and the research community",
    };

    static readonly string[] Months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

    public static ParsedDigest Parse(string text)
    {
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        var paragraphs = new List<(string Text, int Line)>();
        var current = new StringBuilder();
        int startLine = 0, lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            string line = raw.TrimEnd('\r', ' ', '\t');
            if (line.Trim().Length == 0)
            {
                if (current.Length > 0) { paragraphs.Add((current.ToString(), startLine)); current.Clear(); }
                continue;
            }
            if (current.Length == 0) startLine = lineNumber;
            else current.Append(' ');
            current.Append(line.Trim());
        }
        if (current.Length > 0) paragraphs.Add((current.ToString(), startLine));

        int index = 0;
        string? dateLine = null;
        while (index < paragraphs.Count && HeaderLines.Contains(paragraphs[index].Text)) index++;
        if (index < paragraphs.Count && LooksLikeDate(paragraphs[index].Text)) dateLine = paragraphs[index++].Text;

        var papers = new List<DigestPaper>();
        var problems = new List<string>();
        for (; index + 1 < paragraphs.Count; index += 2)
            papers.Add(new DigestPaper(paragraphs[index].Text, paragraphs[index + 1].Text, paragraphs[index].Line));
        if (index < paragraphs.Count)
            problems.Add($"line {paragraphs[index].Line}: title without an abstract, skipped: {paragraphs[index].Text}");
        return new ParsedDigest(dateLine, papers, problems);
    }

    /// <summary>"Mar 11", "Mar 11, 2025" or "2025-03-11".</summary>
    public static bool LooksLikeDate(string line)
    {
        line = line.Trim();
        if (line.Length == 10 && DateOnly.TryParseExact(line, "yyyy-MM-dd", out _)) return true;
        var parts = line.Replace(",", " ").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length is 2 or 3 && parts[0].Length >= 3 && Months.Contains(parts[0][..3].ToLowerInvariant())
            && int.TryParse(parts[1], out int day) && day is >= 1 and <= 31 && (parts.Length == 2 || int.TryParse(parts[2], out _));
    }
}
