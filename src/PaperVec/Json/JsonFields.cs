namespace PaperVec.Json;

/// <summary>
/// Names an unknown JSON field, and the field PaperVec calls it when the name is a known synonym
/// (arXiv's `summary`, Semantic Scholar's `positive`): a misspelled field must be refused, never
/// read as absent (a PUT with `positive` once replaced a library with an empty one).
/// </summary>
public static class JsonFields
{
    /// <summary>Words other APIs (or PaperVec's other routes) use, and what each may be here, first match wins.</summary>
    static readonly Dictionary<string, string[]> Synonyms = new(StringComparer.OrdinalIgnoreCase)
    {
        ["summary"] = ["abstract"], ["text"] = ["abstract"], ["description"] = ["abstract"],
        ["published"] = ["date"], ["updated"] = ["date"], ["publication_date"] = ["date"], ["publicationDate"] = ["date"],
        ["positive"] = ["liked", "like"], ["negative"] = ["disliked", "dislike"],
        ["positives"] = ["liked", "like"], ["negatives"] = ["disliked", "dislike"],
        ["likes"] = ["liked", "like"], ["dislikes"] = ["disliked", "dislike"],
        ["liked"] = ["like"], ["disliked"] = ["dislike"], ["like"] = ["liked"], ["dislike"] = ["disliked"],
        ["removed"] = ["remove"], ["unlike"] = ["remove"],
        ["query"] = ["text"], ["q"] = ["text"],
        ["limit"] = ["k"], ["top_k"] = ["k"], ["topK"] = ["k"], ["count"] = ["k"],
        ["author"] = ["authors"], ["category"] = ["categories"], ["link"] = ["url"], ["embedding"] = ["vector"],
        ["arxiv_id"] = ["id"], ["arxivId"] = ["id"], ["_id"] = ["id"],
    };

    /// <summary>The message for an unknown field <paramref name="name"/> where <paramref name="known"/> are the fields read.</summary>
    public static string Unknown(string name, IReadOnlyCollection<string> known)
    {
        string? right = known.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
        if (right == null && Synonyms.TryGetValue(name, out var candidates)) right = candidates.FirstOrDefault(c => known.Contains(c, StringComparer.OrdinalIgnoreCase));
        return right != null
            ? $"unknown field '{Shorten(name)}'; PaperVec calls it '{right}'"
            : $"unknown field '{Shorten(name)}'; the fields are {string.Join(", ", known.Select(k => $"'{k}'"))}";
    }

    static string Shorten(string name) => name.Length > 60 ? name[..60] + "..." : name;
}
