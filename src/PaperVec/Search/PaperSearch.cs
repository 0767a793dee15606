using PaperVec.Index;
using PaperVec.Storage;

namespace PaperVec.Search;

/// <summary>Which papers a search may return besides the nearest ones: how many, first-seen dates, and papers to leave out.</summary>
public sealed record SearchScope
{
    public const int MaxK = 1000;

    public int K { get; init; } = 10;
    /// <summary>Only papers first seen on or after this date.</summary>
    public DateOnly? From { get; init; }
    /// <summary>Only papers first seen on or before this date.</summary>
    public DateOnly? To { get; init; }
    /// <summary>Papers never returned: the query paper itself for "similar", the papers of a digest.</summary>
    public IReadOnlySet<long> Exclude { get; init; } = new HashSet<long>();
}

/// <summary>One search answer as the command line's --json and the HTTP API show it.</summary>
public sealed record SearchResult(string Id, string Title, string Date, double Score, string Snippet);

/// <summary>
/// Nearest papers to a unit vector within a <see cref="SearchScope"/>, shaped for people and JSON:
/// the one place the command line and the HTTP API turn index hits into results.
/// </summary>
public static class PaperSearch
{
    /// <summary>Nearest papers to a unit vector (free-text search).</summary>
    public static List<SearchResult> Run(PaperDatabase db, ReadOnlySpan<float> vector, SearchScope scope) =>
        Shape(db, db.Search(vector, CheckedK(scope), filter: Filter(db, scope)));

    /// <summary>Papers like the stored paper <paramref name="key"/> ("similar"); null when there is no such paper.</summary>
    public static List<SearchResult>? Similar(PaperDatabase db, long key, SearchScope scope) =>
        db.SearchSimilar(key, CheckedK(scope), filter: Filter(db, scope)) is { } hits ? Shape(db, hits) : null;

    static int CheckedK(SearchScope scope) =>
        scope.K is < 1 or > SearchScope.MaxK ? throw new ArgumentOutOfRangeException(nameof(scope), $"k must be within 1..{SearchScope.MaxK}") : scope.K;

    static Func<long, bool>? Filter(PaperDatabase db, SearchScope scope)
    {
        DateOnly? from = scope.From, to = scope.To;
        var exclude = scope.Exclude;
        if (from == null && to == null && exclude.Count == 0) return null;
        // First-seen dates are in memory (PaperDatabase's summaries): the filter reads no store.
        return key =>
        {
            if (exclude.Contains(key)) return false;
            if (from == null && to == null) return true;
            var seen = db.FirstSeen(key);
            return seen != null && (from == null || seen >= from) && (to == null || seen <= to);
        };
    }

    static List<SearchResult> Shape(PaperDatabase db, SearchHit[] hits)
    {
        var results = new List<SearchResult>(hits.Length);
        foreach (var hit in hits)
            if (db.Summary(hit.Id) is { } paper) // deleted between the index hit and the read
                results.Add(new SearchResult(paper.Id, paper.Title, paper.FirstSeen.ToString("yyyy-MM-dd"), Math.Round(hit.Score, 4), paper.Snippet));
        return results;
    }
}
