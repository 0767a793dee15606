using System.Globalization;
using System.Text;

namespace PaperVec.Digests;

/// <summary>How the digest's date was decided, reported to the user.</summary>
public enum DateRule { DateLineWithYear, GivenDate, GivenYear, FileName, IngestDate }

/// <summary>A parsed digest: its date and how it was decided, its papers in listing order, and what was skipped.</summary>
public sealed record ParsedDigest(string? DateLine, DateOnly Date, DateRule DateRule, IReadOnlyList<DigestPaper> Papers, IReadOnlyList<string> Problems);

/// <summary>What the caller knows about a digest besides its text.</summary>
public sealed record DigestParseOptions
{
    /// <summary>The digest's date (--date): wins over everything but a date line that names its own year.</summary>
    public DateOnly? Date { get; init; }
    /// <summary>The year of a bare "Mar 11" (--year).</summary>
    public int? Year { get; init; }
    public string? FileName { get; init; }
    public DateOnly Today { get; init; } = DateOnly.FromDateTime(DateTime.UtcNow);
}

/// <summary>
/// Parses the daily digest format: header lines, a date line ("Mar 11", "Mar 11, 2025" or
/// "2025-03-11"), then for each paper a title paragraph, a blank line and an abstract paragraph.
/// Paragraphs are runs of non-blank lines joined with spaces, so hard-wrapped abstracts, CRLF, a BOM,
/// several blank lines and trailing spaces are all fine. A title whose abstract is missing (the next
/// paragraph is another title followed by its abstract, or the text ends) is reported with its line
/// number and skipped, as is an abstract without a title.
/// </summary>
public static class DigestParser
{
    static readonly HashSet<string> HeaderLines = new(StringComparer.OrdinalIgnoreCase)
    {
        "new", "Get trending papers in your email inbox!", "Subscribe", "byAK and the research community",
    };

    static readonly string[] Months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

    /// <summary>Decodes UTF-8 strictly: invalid UTF-8 is an error, never silently mangled. A leading BOM is dropped.</summary>
    public static string DecodeUtf8(ReadOnlySpan<byte> bytes, string what)
    {
        string text;
        try { text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException e) { throw new InvalidDataException($"{what} is not valid UTF-8 (byte offset {e.Index})"); }
        return text.StartsWith('\uFEFF') ? text[1..] : text;
    }

    /// <summary><see cref="DecodeUtf8"/>, and binary content is rejected too.</summary>
    public static string DecodeText(ReadOnlySpan<byte> bytes, string what)
    {
        string text = DecodeUtf8(bytes, what);
        int controls = text.Count(c => c < ' ' && c is not ('\n' or '\r' or '\t' or '\f'));
        if (text.Contains('\0') || controls > 8 && controls > text.Length / 100)
            throw new InvalidDataException($"{what} looks like binary data, not a text digest");
        return text;
    }

    public static ParsedDigest Parse(string text, DigestParseOptions? options = null)
    {
        options ??= new DigestParseOptions();
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        var paragraphs = Paragraphs(text);

        int index = 0;
        string? dateLine = null;
        while (index < paragraphs.Count && HeaderLines.Contains(paragraphs[index].Text)) index++;
        if (index < paragraphs.Count && TryParseDateLine(paragraphs[index].Text, out _, out _))
            dateLine = paragraphs[index++].Text;
        var (date, rule) = ResolveDate(dateLine, options);

        var papers = new List<DigestPaper>();
        var problems = new List<string>();
        while (index < paragraphs.Count)
        {
            var current = paragraphs[index];
            if (!LooksLikeTitle(current))
            {
                problems.Add($"line {current.Line}: paragraph without a title, skipped: {Preview(current.Text)}");
                index++;
                continue;
            }
            bool hasNext = index + 1 < paragraphs.Count;
            // The next paragraph is this title's abstract unless it is itself a title with an abstract after it.
            bool nextIsAnotherPaper = hasNext && LooksLikeTitle(paragraphs[index + 1]) && !EndsLikeSentence(paragraphs[index + 1].Text)
                && (index + 2 >= paragraphs.Count || !LooksLikeTitle(paragraphs[index + 2]));
            if (!hasNext || nextIsAnotherPaper)
            {
                problems.Add($"line {current.Line}: title without an abstract, skipped: {Preview(current.Text)}");
                index++;
                continue;
            }
            papers.Add(new DigestPaper(current.Text, paragraphs[index + 1].Text, current.Line));
            index += 2;
        }
        return new ParsedDigest(dateLine, date, rule, papers, problems);
    }

    sealed record Paragraph(string Text, int Line, int LineCount);

    static List<Paragraph> Paragraphs(string text)
    {
        var paragraphs = new List<Paragraph>();
        var current = new StringBuilder();
        int startLine = 0, lineNumber = 0, lines = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length == 0)
            {
                if (current.Length > 0) { paragraphs.Add(new(current.ToString(), startLine, lines)); current.Clear(); }
                continue;
            }
            if (current.Length == 0) { startLine = lineNumber; lines = 0; }
            else current.Append(' ');
            current.Append(line);
            lines++;
        }
        if (current.Length > 0) paragraphs.Add(new(current.ToString(), startLine, lines));
        return paragraphs;
    }

    // Titles are one line, short, and not a run of sentences; abstracts are long or several sentences.
    // A short line that does not end like a sentence is a title even with full stops inside
    // ("See it. Say it. Sorted: ...").
    static bool LooksLikeTitle(Paragraph p) =>
        p.LineCount <= 2 && p.Text.Length <= 300 && (SentenceEnds(p.Text) <= 1 || p.Text.Length <= 160 && !EndsLikeSentence(p.Text));

    static bool EndsLikeSentence(string text) => text.EndsWith('.') && !text.EndsWith("et al.", StringComparison.Ordinal);

    static int SentenceEnds(string text)
    {
        int count = 0;
        for (int i = 0; i < text.Length - 1; i++)
            if (text[i] is '.' or '?' or '!' && text[i + 1] == ' ' && i + 2 < text.Length && char.IsUpper(text[i + 2])) count++;
        return count + (EndsLikeSentence(text) ? 1 : 0);
    }

    static string Preview(string text) => text.Length <= 80 ? text : text[..77] + "...";

    static (DateOnly, DateRule) ResolveDate(string? dateLine, DigestParseOptions options)
    {
        int? month = null, day = null;
        if (dateLine != null && TryParseDateLine(dateLine, out var full, out var monthDay))
        {
            if (full is DateOnly withYear) return (withYear, DateRule.DateLineWithYear);
            (month, day) = monthDay;
        }
        if (options.Date is DateOnly given) return (given, DateRule.GivenDate);
        if (month is int m && day is int d)
        {
            if (options.Year is int year) return (Checked(year, m, d), DateRule.GivenYear);
            if (YearFromFileName(options.FileName) is int fileYear) return (Checked(fileYear, m, d), DateRule.FileName);
            return (Checked(options.Today.Year, m, d), DateRule.IngestDate);
        }
        if (DateFromFileName(options.FileName) is DateOnly fromName) return (fromName, DateRule.FileName);
        return (options.Today, DateRule.IngestDate);
    }

    static DateOnly Checked(int year, int month, int day) =>
        day <= DateTime.DaysInMonth(year, month) ? new DateOnly(year, month, day) : throw new InvalidDataException($"{year}-{month:00}-{day:00} is not a date");

    /// <summary>"Mar 11" (month and day), "Mar 11, 2025" or "2025-03-11" (a whole date).</summary>
    public static bool TryParseDateLine(string line, out DateOnly? date, out (int Month, int Day) monthDay)
    {
        date = null;
        monthDay = default;
        line = line.Trim();
        if (line.Length == 10 && DateOnly.TryParseExact(line, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var iso))
        {
            date = iso;
            return true;
        }
        var parts = line.Replace(",", " ").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is not (2 or 3) || parts[0].Length < 3) return false;
        int month = Array.IndexOf(Months, parts[0][..3].ToLowerInvariant()) + 1;
        if (month == 0 || !int.TryParse(parts[1], out int day) || day is < 1 or > 31) return false;
        if (parts.Length == 2) { monthDay = (month, day); return day <= DateTime.DaysInMonth(2024, month); }
        if (!int.TryParse(parts[2], out int year) || year is < 1900 or > 2999 || day > DateTime.DaysInMonth(year, month)) return false;
        date = new DateOnly(year, month, day);
        return true;
    }

    static int? YearFromFileName(string? fileName) => DateFromFileName(fileName)?.Year ?? YearOnly(fileName);

    static DateOnly? DateFromFileName(string? fileName)
    {
        if (fileName == null) return null;
        var m = System.Text.RegularExpressions.Regex.Match(Path.GetFileName(fileName), @"(?<!\d)(19|20)\d\d-\d\d-\d\d(?!\d)");
        return m.Success && DateOnly.TryParseExact(m.Value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;
    }

    static int? YearOnly(string? fileName)
    {
        if (fileName == null) return null;
        var m = System.Text.RegularExpressions.Regex.Match(Path.GetFileName(fileName), @"(?<!\d)(19|20)\d\d(?!\d)");
        return m.Success ? int.Parse(m.Value) : null;
    }
}
