using System.Text.RegularExpressions;

namespace PaperVec.Storage;

/// <summary>
/// The other ways people write an arXiv id: an `arXiv:` prefix, a version suffix (`v2`), or the
/// abs/PDF/HTML page's URL. A record stores the id as its source sent it (the shared corpus: bare
/// `2503.11677`), so a lookup that misses tries these forms: the id as written without the wrapper,
/// then without its version. Nothing else is guessed (a bare number is not padded, a title not searched).
/// </summary>
public static partial class ArxivIdForms
{
    // New-style ids (2503.11677, 0704.0001) and old-style ones (cs/0112017, math.GT/0309136), each with an optional version.
    [GeneratedRegex(@"\A(?<id>(?:\d{4}\.\d{4,5})|(?:[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}))(?<version>v\d+)?\z")]
    private static partial Regex ArxivId();

    [GeneratedRegex(@"\A(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(?<rest>[^?#]+?)(?:\.pdf)?/?(?:[?#].*)?\z", RegexOptions.IgnoreCase)]
    private static partial Regex ArxivUrl();

    /// <summary>The arXiv forms of <paramref name="id"/> to look up, most specific first; empty when it is not an arXiv id in any of those forms.</summary>
    public static IReadOnlyList<string> Candidates(string id)
    {
        string text = id.Trim();
        if (ArxivUrl().Match(text) is { Success: true } url) text = url.Groups["rest"].Value;
        else if (text.StartsWith("arxiv:", StringComparison.OrdinalIgnoreCase)) text = text["arxiv:".Length..].Trim();
        if (ArxivId().Match(text) is not { Success: true } match) return [];
        string bare = match.Groups["id"].Value;
        var forms = new List<string>(2);
        if (text != id) forms.Add(text);
        if (match.Groups["version"].Success) forms.Add(bare);
        return forms;
    }
}
