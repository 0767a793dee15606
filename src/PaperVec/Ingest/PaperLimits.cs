using System.Text;
using PaperVec.Storage;

namespace PaperVec.Ingest;

/// <summary>
/// What an incoming paper may hold, checked before anything is written (the one place these
/// limits live: every host's ingest goes through <see cref="PaperIngestor"/>, which checks here).
/// The caps keep every stored record far inside one store page (<see cref="RecordStore.MaxValueBytes"/>):
/// a longer arXiv abstract is about 2,000 characters and the longest real author lists about 60,000.
/// Text must be valid Unicode without control characters (tab and line breaks allowed), and a
/// title must keep at least one letter or digit once normalised (it is the paper's identity).
/// </summary>
public static class PaperLimits
{
    public const int MaxTitleChars = 2_000, MaxAbstractChars = 100_000, MaxAuthorsChars = 100_000,
        MaxSourceIdChars = 256, MaxUrlChars = 2_048, MaxCategoriesChars = 1_000;

    /// <summary>Throws <see cref="InvalidDataException"/> naming the paper (<paramref name="where"/>) and the field that breaks a rule.</summary>
    public static void Check(IncomingPaper paper, string where)
    {
        Field(paper.Title, "title", MaxTitleChars, where);
        if (paper.Title.Trim().Length == 0) throw new InvalidDataException($"{where}: 'title' is empty");
        if (PaperIdentity.NormalizeTitle(paper.Title).Length == 0)
            throw new InvalidDataException($"{where}: 'title' ('{Preview(paper.Title)}') has no letter or digit; a title is a paper's identity");
        Field(paper.Abstract, "abstract", MaxAbstractChars, where);
        Field(paper.SourceId, "id", MaxSourceIdChars, where);
        if (paper.SourceId is { } id && (id.Trim().Length == 0 || id.Any(char.IsWhiteSpace)))
            throw new InvalidDataException($"{where}: 'id' ('{Preview(id)}') must be non-empty and hold no whitespace");
        Field(paper.Authors, "authors", MaxAuthorsChars, where);
        Field(paper.Url, "url", MaxUrlChars, where);
        Field(paper.Categories, "categories", MaxCategoriesChars, where);
    }

    static void Field(string? text, string name, int maxChars, string where)
    {
        if (text == null) return;
        if (text.Length > maxChars)
            throw new InvalidDataException($"{where}: '{name}' is {text.Length:N0} characters; at most {maxChars:N0} are stored");
        if (Problem(text) is { } problem) throw new InvalidDataException($"{where}: '{name}' {problem}");
    }

    /// <summary>Why <paramref name="text"/> is not storable text (a lone surrogate, a control character), or null.</summary>
    public static string? Problem(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
            if (char.IsSurrogate(c)) return $"holds a lone surrogate (U+{(int)c:X4} at character {i}): not valid Unicode";
            if ((c < ' ' && c is not ('\t' or '\n' or '\r')) || c == '\u007F' || c is '\uFFFE' or '\uFFFF')
                return $"holds a control character (U+{(int)c:X4} at character {i})";
        }
        return null;
    }

    static string Preview(string text) => text.Length <= 40 ? text : text[..37] + "...";
}
