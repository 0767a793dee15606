using System.Text;

namespace PaperVec.Storage;

/// <summary>
/// What a search result shows of a paper (title, first-seen date, the start of its abstract), kept in
/// memory for every stored paper so that answering searches reads nothing from the store: a store
/// read that misses FASTER's in-memory log waits on disk I/O, and under concurrent requests those
/// waits starved the server's thread pool (measured by `papervec bench api`). UTF-8 bytes, about
/// 400 bytes a paper.
/// </summary>
public sealed class PaperSummary
{
    public const int SnippetChars = 240;

    readonly byte[] _title, _snippet;

    public long Key { get; }
    public DateOnly FirstSeen { get; }
    public string Id => PaperIdentity.Format(Key);
    public string Title => Encoding.UTF8.GetString(_title);
    public string Snippet => Encoding.UTF8.GetString(_snippet);

    public PaperSummary(long key, string title, string abstractText, DateOnly firstSeen)
    {
        Key = key;
        FirstSeen = firstSeen;
        _title = Encoding.UTF8.GetBytes(title);
        _snippet = Encoding.UTF8.GetBytes(SnippetOf(abstractText));
    }

    public static PaperSummary Of(PaperRecord paper) => new(paper.Key, paper.Title, paper.Abstract, paper.FirstSeen);

    /// <summary>The first lines of an abstract: up to 240 characters, cut at a word.</summary>
    public static string SnippetOf(string text)
    {
        if (text.Length <= SnippetChars) return text;
        int cut = text.LastIndexOf(' ', SnippetChars - 1);
        return text[..(cut > 0 ? cut : SnippetChars - 1)] + "…";
    }
}
