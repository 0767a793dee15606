using PaperVec.Storage;

namespace PaperVec.Engine;

/// <summary>
/// The one wording of "no such id" that points to the fix, for every host (CLI, one node's API, a
/// cluster's): an unknown digest id lists the stored ones (the newest few, and how many more) with a
/// "did you mean" when one is close; an unknown paper id says which ids resolve. Also the one
/// "did you mean" rule (edit distance) the command line uses for verbs and flags.
/// </summary>
public static class NotFoundHints
{
    /// <summary>How many stored digest ids an unknown-digest message lists.</summary>
    public const int ListedDigests = 10;

    public static string Paper(string id) =>
        $"no paper with id '{id}' (a 16-hex-digit PaperVec id, or a record's own id such as an arXiv id, with or without its version or arXiv: prefix)";

    /// <summary>"no digest with id 'X' (did you mean 'Y'?); stored digests, newest first: ...": <paramref name="stored"/> in any order.</summary>
    public static string Digest(string id, IReadOnlyCollection<DigestRecord> stored)
    {
        string message = $"no digest with id '{id}'";
        if (stored.Count == 0) return message + "; no digest is stored yet";
        var newest = stored.OrderByDescending(d => d.Date).ThenBy(d => d.Id, StringComparer.Ordinal).Select(d => d.Id).ToList();
        if (ClosestDigest(id, newest) is { } near) message += $" (did you mean '{near}'?)";
        string more = newest.Count > ListedDigests ? $" (and {newest.Count - ListedDigests:N0} more)" : "";
        return $"{message}; stored digests, newest first: {string.Join(", ", newest.Take(ListedDigests))}{more}";
    }

    /// <summary>
    /// The stored digest id a mistyped one most likely meant: the same id in other case, the id
    /// whose name part (after "date/") was typed alone ("daily-papers-mar-12"), else the nearest by
    /// edit distance of the whole id or of its name part.
    /// </summary>
    static string? ClosestDigest(string typed, IReadOnlyList<string> newestFirst)
    {
        string trimmed = typed.Trim();
        if (trimmed.Length == 0) return null;
        static string NameOf(string id) => id[(id.IndexOf('/') + 1)..];
        return newestFirst.FirstOrDefault(d => d.Equals(trimmed, StringComparison.OrdinalIgnoreCase))
            ?? newestFirst.FirstOrDefault(d => NameOf(d).Equals(trimmed, StringComparison.OrdinalIgnoreCase))
            ?? Closest(trimmed, newestFirst)
            ?? (Closest(trimmed, newestFirst.Select(NameOf)) is { } name ? newestFirst.First(d => NameOf(d) == name) : null);
    }

    /// <summary>The candidate nearest <paramref name="typed"/> by edit distance, if near enough to be a typo (the first of equals).</summary>
    public static string? Closest(string typed, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        string lower = typed.ToLowerInvariant();
        foreach (var candidate in candidates)
        {
            int d = Distance(lower, candidate.ToLowerInvariant());
            if (d < bestDistance) (best, bestDistance) = (candidate, d);
        }
        // A third of the word (at least 1, at most 3 edits): 'serch' -> 'search', not 'x' -> 'k'.
        return best != null && bestDistance <= Math.Clamp(typed.TrimStart('-').Length / 3, 1, 3) ? best : null;
    }

    /// <summary>Edits between two words, a swap of neighbours counting as one ('yaer' -> 'year').</summary>
    static int Distance(string a, string b)
    {
        // Ids can be long (a URL pasted as an id): past a few hundred characters nothing is a typo of anything.
        if (Math.Abs(a.Length - b.Length) > 3 || a.Length > 300 || b.Length > 300) return int.MaxValue;
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}
