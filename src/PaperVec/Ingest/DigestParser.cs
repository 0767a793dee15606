using System.Globalization;
using System.Text;

namespace PaperVec.Ingest;

/// <summary>How the digest's date was decided, reported to the user.</summary>
public enum DateRule { DateLineWithYear, GivenDate, GivenYear, FileName, IngestDate }

/// <summary>A parsed digest: its date and how it was decided, its papers in listing order, and what was skipped.</summary>
public sealed record ParsedDigest(string? DateLine, DateOnly Date, DateRule DateRule, IReadOnlyList<DigestPaper> Papers, IReadOnlyList<string> Problems)
{
    /// <summary>The date line's number (0 when the day has none).</summary>
    public int DateLineNumber { get; init; }
    /// <summary>Lines the daily-papers page adds (submitter, upvotes, links, authors...) recognised and left out.</summary>
    public int PageLinesLeftOut { get; init; }
}

/// <summary>What the caller knows about a digest besides its text.</summary>
public sealed record DigestParseOptions
{
    /// <summary>The digest's date (--date): wins over everything but a date line that names its own year.</summary>
    public DateOnly? Date { get; init; }
    /// <summary>The year of a bare "Mar 11" (--year, ?year=), within <see cref="MinYear"/>..<see cref="MaxYear"/>.</summary>
    public int? Year { get; init; }
    /// <summary>The years a caller may give (the CLI's --year and the API's ?year= alike: the API took 1900..9999, the CLI 1990..2100).</summary>
    public const int MinYear = 1990, MaxYear = 2100;
    public string? FileName { get; init; }
    public DateOnly Today { get; init; } = DateOnly.FromDateTime(DateTime.UtcNow);
    /// <summary>How the caller passes a date, named when a digest has none ("--date YYYY-MM-DD", "?date=YYYY-MM-DD").</summary>
    public string DateHint { get; init; } = "a date (YYYY-MM-DD)";
}

/// <summary>
/// A digest that cannot be stored as it was sent: empty, no papers, no date, several days where one was
/// asked for, or too many blocks that are neither a title, an abstract nor a line the page adds. The
/// message names the lines; nothing is written.
/// </summary>
public sealed class DigestRefusedException(string message, IReadOnlyList<int> lines, IReadOnlyList<string> problems) : Exception(message)
{
    /// <summary>The lines that could not be read (empty where the refusal is about the whole text).</summary>
    public IReadOnlyList<int> Lines { get; } = lines;
    /// <summary>Every block that could not be read, one line each, as <see cref="ParsedDigest.Problems"/> would list them.</summary>
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// Parses the daily digest format: header lines, a date line ("Mar 11", "Mar 11, 2025" or
/// "2025-03-11"), then for each paper a title paragraph, a blank line and its abstract, in one or more
/// paragraphs. Lines are joined with spaces, so hard-wrapped text, CRLF, a BOM, several blank lines
/// and trailing spaces are all fine. Lines the daily-papers page adds around a paper (submitter,
/// upvotes, links, "View ..." lines, authors, "Published on ...") are recognised and left out. A
/// block that is neither is reported with its line number; when more than one block in ten is such,
/// the digest is refused whole (<see cref="DigestRefusedException"/>). Each further date line starts
/// another day's digest (<see cref="ParseDays"/>).
/// </summary>
public static class DigestParser
{
    // The page's own lines (its header, headings and buttons), compared whole.
    static readonly HashSet<string> PageLines = new(StringComparer.OrdinalIgnoreCase)
    {
        "new", "Get trending papers in your email inbox!", "Subscribe", "byAK and the research community",
        "Daily Papers", "Trending Papers", "Abstract", "Community", "Add to collection", "Upvote", "Previous", "Next",
        "·", "•", "|", "-",
    };

    // Lines the page adds around a paper: who submitted it, counts, links, buttons, dates, authors.
    static readonly System.Text.RegularExpressions.Regex PageLine = new(
        @"^(?:submitted\s+by\b.*" +
        @"|(?:[·•|▲△⬆↑]\s*)?\d[\d,.]*\s*k?\s*(?:up-?votes?|likes?|comments?|authors?|stars?|citations?)?" +
        @"|upvote\s*\d[\d,.]*k?" +
        @"|(?:published|submitted|updated|posted)\s+on\b.{0,40}" +
        @"|published\s*:.{0,40}" +
        @"|authors?\s*:.*" +
        @"|(?:https?://|www\.)\S+" +
        @"|(?:arxiv\s*:?\s*)?\d{4}\.\d{4,5}(?:v\d+)?" +
        @"|(?:view|read|open|download|see)\s+(?:the\s+|on\s+)?(?:arxiv|pdf|paper|page|abstract|code|more|full|github|hugging\s*face)\b.{0,30}" +
        @"|(?:github|code|pdf|paper|project\s+page|website|demo|arxiv|models?|datasets?|spaces?|collections?)(?:\s*[:·]\s*\S+|\s+\d[\d,.]*\s*k?)?" +
        @")$",
        System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);

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

    /// <summary>A digest of one day; a text with several date lines is refused, naming them (see <see cref="ParseDays"/>).</summary>
    public static ParsedDigest Parse(string text, DigestParseOptions? options = null)
    {
        var days = ParseDays(text, options);
        if (days.Count > 1)
            throw new DigestRefusedException($"the digest holds {days.Count} days ({string.Join(", ", days.Select(d => $"'{d.DateLine}' on line {d.DateLineNumber}"))}); send one day at a time", days.Select(d => d.DateLineNumber).ToList(), []);
        return days[0];
    }

    /// <summary>
    /// Every day's digest in the text, in order: each date line starts one. Refused whole
    /// (<see cref="DigestRefusedException"/>) when the text is empty, holds no paper, a day has no date,
    /// or more than one block in ten is neither a paper nor a line the page adds.
    /// </summary>
    public static IReadOnlyList<ParsedDigest> ParseDays(string text, DigestParseOptions? options = null)
    {
        options ??= new DigestParseOptions();
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        if (string.IsNullOrWhiteSpace(text)) throw new DigestRefusedException("the digest is empty", [], []);
        var paragraphs = Paragraphs(text);

        // Days: each date paragraph starts one; papers before the first date line form a day without a date line.
        var days = new List<(Paragraph? Date, List<Paragraph> Body)> { (null, []) };
        foreach (var p in paragraphs)
        {
            if (p.LineCount == 1 && TryParseDateLine(p.Text, out _, out _)) days.Add((p, []));
            else days[^1].Body.Add(p);
        }
        var segmented = days.Select(d => (d.Date, Paper: Segment(d.Body))).ToList();
        // Blocks before the first date line that make no paper (an unknown header line) are reported with the first day.
        if (segmented.Count > 1 && segmented[0].Paper.Papers.Count == 0)
        {
            segmented[1].Paper.Problems.InsertRange(0, segmented[0].Paper.Problems);
            segmented[1].Paper.Unreadable.InsertRange(0, segmented[0].Paper.Unreadable);
            segmented.RemoveAt(0);
        }

        // A date line with no paper under it (two date lines in a row) makes no digest: reported with the day before.
        for (int i = segmented.Count - 1; i >= 0 && segmented.Count > 1; i--)
        {
            if (segmented[i].Paper.Papers.Count > 0 || segmented[i].Date is not { } empty) continue;
            var into = segmented[i > 0 ? i - 1 : 1].Paper;
            into.Problems.Add($"line {empty.Line}: date line without papers under it, skipped: {empty.Text}");
            into.Problems.AddRange(segmented[i].Paper.Problems);
            into.Unreadable.Add(empty.Line);
            into.Unreadable.AddRange(segmented[i].Paper.Unreadable);
            segmented.RemoveAt(i);
        }
        var problems = segmented.SelectMany(s => s.Paper.Problems).ToList();
        var unreadable = segmented.SelectMany(s => s.Paper.Unreadable).ToList();
        int papers = segmented.Sum(s => s.Paper.Papers.Count);
        if (papers == 0)
            throw new DigestRefusedException("no papers found in the digest (a title, a blank line, then its abstract)" +
                (problems.Count > 0 ? $"; {Lines(unreadable)} could not be read: {problems[0]}" : ""), unreadable, problems);
        // A few odd blocks are reported and skipped; more than one in ten means the format was not understood.
        if (unreadable.Count * 10 > papers + unreadable.Count)
            throw new DigestRefusedException($"{unreadable.Count} of {papers + unreadable.Count} blocks are neither a title with its abstract nor a line the daily-papers page adds ({Lines(unreadable)}); nothing was stored; first: {problems[0]}", unreadable, problems);
        if (segmented.Count > 1 && options.Date != null)
            throw new DigestRefusedException($"the digest holds {segmented.Count} days ({string.Join(", ", segmented.Select(s => s.Date == null ? "papers before the first date line" : $"'{s.Date.Text}' on line {s.Date.Line}"))}) but one date was given", segmented.Where(s => s.Date != null).Select(s => s.Date!.Line).ToList(), []);

        var result = new List<ParsedDigest>();
        foreach (var (dateParagraph, day) in segmented)
        {
            var (date, rule) = ResolveDate(dateParagraph?.Text, options);
            result.Add(new ParsedDigest(dateParagraph?.Text, date, rule, day.Papers, day.Problems) { DateLineNumber = dateParagraph?.Line ?? 0, PageLinesLeftOut = day.PageLines });
        }
        return result;
    }

    static string Lines(IReadOnlyList<int> lines) =>
        (lines.Count == 1 ? "line " : "lines ") + string.Join(", ", lines.Take(20)) + (lines.Count > 20 ? $" and {lines.Count - 20} more" : "");

    sealed record Paragraph(string Text, int Line, int LineCount, int PageLines);

    sealed record Day(List<DigestPaper> Papers, List<string> Problems, List<int> Unreadable, int PageLines);

    /// <summary>
    /// Runs of non-blank lines, each line trimmed, joined with spaces. Lines the page adds are peeled off a
    /// paragraph's first and last lines (a paragraph of only such lines disappears); inside a paragraph
    /// they are kept, as a hard-wrapped abstract may hold a URL on a line of its own.
    /// </summary>
    static List<Paragraph> Paragraphs(string text)
    {
        var paragraphs = new List<Paragraph>();
        var lines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        var run = new List<(string Text, int Line)>();
        // A wrapped abstract's last line may be a link ("https://x.github.io/y/." or "...code at\nhttps://github.com/x"):
        // prose ends with a full stop, or a long block's link goes on from a line that ended no sentence.
        // The page's own link, count and button lines do neither (they follow a title, or a finished abstract).
        bool EndsProse(int i, int start)
        {
            string line = run[i].Text.TrimEnd();
            if (line.EndsWith('.')) return true;
            if (i == start || !line.StartsWith("http", StringComparison.OrdinalIgnoreCase) && !line.StartsWith("www.", StringComparison.OrdinalIgnoreCase)) return false;
            string before = run[i - 1].Text.TrimEnd();
            int chars = 0;
            for (int k = start; k < i; k++) chars += run[k].Text.Length;
            return chars > 300 && before.Length > 0 && before[^1] is not ('.' or '!' or '?');
        }
        void Flush()
        {
            int start = 0, end = run.Count;
            while (start < end && IsPageLine(run[start].Text)) start++;
            // A title's last line may be its authors ("Title\nA. Smith, B. Jones"): peeled too, never the first line.
            while (end > start && !EndsProse(end - 1, start) && (IsPageLine(run[end - 1].Text) || end - 1 > start && IsAuthorList(run[end - 1].Text))) end--;
            // Counted for the user: the lines left out around papers, not the page's own header.
            int peeled = run.Take(start).Concat(run.Skip(end)).Count(l => !PageLines.Contains(l.Text));
            if (end > start) paragraphs.Add(new(string.Join(' ', run.Skip(start).Take(end - start).Select(l => l.Text)), run[start].Line, end - start, peeled));
            else if (paragraphs.Count > 0) paragraphs[^1] = paragraphs[^1] with { PageLines = paragraphs[^1].PageLines + peeled };
            run.Clear();
        }
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0) { Flush(); continue; }
            run.Add((line, i + 1));
        }
        Flush();
        return paragraphs;
    }

    static bool IsPageLine(string line) => PageLines.Contains(line) || line.Length <= 200 && PageLine.IsMatch(line);

    /// <summary>
    /// Groups a day's paragraphs into papers. After a title comes its abstract's first paragraph (unless
    /// that paragraph is itself the next paper's title: a title-like line with a long paragraph after it).
    /// After an abstract paragraph comes either the next paper's title (a title-like line followed by an
    /// abstract) or the abstract's next paragraph (anything that reads like text); a title-like line that
    /// heads nothing is reported, as is text with no title before it.
    /// </summary>
    static Day Segment(List<Paragraph> ps)
    {
        var papers = new List<DigestPaper>();
        var problems = new List<string>();
        var unreadable = new List<int>();
        int pageLines = ps.Sum(p => p.PageLines);
        Paragraph? title = null;
        var abstractParts = new List<string>();
        void Finish()
        {
            if (title != null && abstractParts.Count > 0) papers.Add(new DigestPaper(title.Text, string.Join(' ', abstractParts), title.Line));
            title = null;
            abstractParts.Clear();
        }
        void Unreadable(Paragraph p, string what)
        {
            problems.Add($"line {p.Line}: {what}, skipped: {Preview(p.Text)}");
            unreadable.Add(p.Line);
        }
        bool IsAuthorLine(int j) => j < ps.Count && ps[j].LineCount == 1 && IsAuthorList(ps[j].Text);
        int SkipAuthorLine(int j) => IsAuthorLine(j) ? j + 1 : j;
        // A title-like line with its abstract after it (an author line between them is allowed).
        bool IsNextTitle(int j) => j < ps.Count && !IsAuthorLine(j) && StrongTitle(ps[j]) && SkipAuthorLine(j + 1) < ps.Count && !TitleShaped(ps[SkipAuthorLine(j + 1)]);

        for (int i = 0; i < ps.Count; i++)
        {
            var p = ps[i];
            if (title != null && abstractParts.Count > 0)
            {
                if (StartsPaperAfterAbstract(i)) { Finish(); title = p; }
                else if (IsAuthorLine(i)) pageLines++; // a paper's authors, never an abstract's words
                else if (StrongTitle(p) && !ReadsLikeProse(p.Text)) Unreadable(p, "title without an abstract");
                else abstractParts.Add(p.Text); // the abstract's next paragraph
                continue;
            }
            if (title != null)
            {
                // An author line between the title and the abstract.
                if (p.LineCount == 1 && IsAuthorList(p.Text)) { pageLines++; continue; }
                if (TitleShaped(p) && IsNextTitle(i)) { Unreadable(title, "title without an abstract"); title = p; continue; }
                abstractParts.Add(p.Text);
                continue;
            }
            if (TitleShaped(p) && i + 1 < ps.Count) { title = p; continue; }
            Unreadable(p, TitleShaped(p) ? "title without an abstract" : "paragraph without a title");
        }
        if (title != null && abstractParts.Count == 0) Unreadable(title, "title without an abstract");
        Finish();
        return new Day(papers, problems, unreadable, pageLines);

        // After an abstract paragraph: does p head the next paper?
        bool StartsPaperAfterAbstract(int i)
        {
            int j = SkipAuthorLine(i + 1);
            if (!StrongTitle(ps[i]) || j >= ps.Count) return false;
            var next = ps[j];
            if (!TitleShaped(next)) return true; // a long paragraph follows: p is its title
            if (IsNextTitle(j)) return false; // the next paragraph is the title: p is this abstract's tail
            return !StrongTitle(next); // a short abstract that reads like a sentence
        }
    }

    // Titles are one or two lines, short, and not a run of sentences; abstracts are long or several sentences.
    // A short line that does not end like a sentence is a title even with full stops inside
    // ("See it. Say it. Sorted: ...").
    static bool TitleShaped(Paragraph p) =>
        p.LineCount <= 2 && p.Text.Length <= 300 && (SentenceEnds(p.Text) <= 1 || p.Text.Length <= 160 && !EndsLikeSentence(p.Text));

    // A title that cannot be the last words of an abstract: no final full stop, colon or comma, no link.
    static bool StrongTitle(Paragraph p) =>
        TitleShaped(p) && !EndsLikeSentence(p.Text) && !p.Text.EndsWith(':') && !p.Text.EndsWith(',') && !p.Text.EndsWith(';')
        && !p.Text.Contains("://", StringComparison.Ordinal) && !p.Text.Contains("www.", StringComparison.OrdinalIgnoreCase);

    // The end of an abstract cut into its own paragraph ("For ImageNet, we reach 23.09 ... (90.2%)"): a sentence
    // boundary inside, or the authors speaking, which titles do not.
    static bool ReadsLikeProse(string text) =>
        SentenceEnds(text) > 0 || text.Contains(" we ", StringComparison.Ordinal) || text.Contains(" our ", StringComparison.Ordinal)
        || text.StartsWith("We ", StringComparison.Ordinal) || text.StartsWith("Our ", StringComparison.Ordinal);

    static bool EndsLikeSentence(string text) => text.EndsWith('.') && !text.EndsWith("et al.", StringComparison.Ordinal);

    static int SentenceEnds(string text)
    {
        int count = 0;
        for (int i = 0; i < text.Length - 1; i++)
            if (text[i] is '.' or '?' or '!' && text[i + 1] == ' ' && i + 2 < text.Length && char.IsUpper(text[i + 2])) count++;
        return count + (EndsLikeSentence(text) ? 1 : 0);
    }

    static readonly HashSet<string> NameParticles = new(StringComparer.Ordinal) { "de", "van", "von", "der", "den", "di", "da", "del", "della", "la", "le", "du", "dos", "bin", "al", "el", "y" };

    /// <summary>
    /// "Ramprasaath R. Selvaraju, Michael Cogswell, Abhishek Das" or "A. Smith and B. Jones et al.": two or
    /// more names of two to five capitalised words (initials and particles allowed), no digits. Only asked
    /// of a line right under a title, never of a title itself.
    /// </summary>
    static bool IsAuthorList(string line)
    {
        if (line.Length > 2000 || line.Any(char.IsDigit) || line.Contains(':')) return false;
        string body = line.EndsWith("et al.", StringComparison.Ordinal) ? line[..^6] : line;
        var names = System.Text.RegularExpressions.Regex.Split(body, @"\s*,\s*|\s+and\s+|\s*&\s*").Where(n => n.Length > 0).ToList();
        if (names.Count < 2) return false;
        foreach (var name in names)
        {
            var words = name.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length is < 2 or > 5) return false;
            foreach (var word in words)
                if (!NameParticles.Contains(word) && !(char.IsUpper(word[0]) && word.Skip(1).All(c => char.IsLetter(c) || c is '.' or '-' or '\'' or '’'))) return false;
        }
        return true;
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
        // Filing it under today would be a guess the user never sees.
        throw new DigestRefusedException($"the digest has no date line (such as 'Mar 11' or '2025-03-11') before its papers; pass {options.DateHint}", [], []);
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
