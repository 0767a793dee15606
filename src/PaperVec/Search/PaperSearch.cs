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
    public static List<SearchResult> Run(PaperDatabase db, ReadOnlySpan<float> vector, SearchScope scope)
    {
        if (scope.K is < 1 or > SearchScope.MaxK) throw new ArgumentOutOfRangeException(nameof(scope), $"k must be within 1..{SearchScope.MaxK}");
        DateOnly? from = scope.From, to = scope.To;
        var exclude = scope.Exclude;
        Func<long, bool>? filter = null;
        if (from != null || to != null || exclude.Count > 0)
        {
            // First-seen dates are in memory (PaperDatabase's summaries): the filter reads no store.
            filter = key =>
            {
                if (exclude.Contains(key)) return false;
                if (from == null && to == null) return true;
                var seen = db.FirstSeen(key);
                return seen != null && (from == null || seen >= from) && (to == null || seen <= to);
            };
        }
        var results = new List<SearchResult>();
        foreach (var hit in db.Search(vector, scope.K, filter: filter))
            if (db.Summary(hit.Id) is { } paper) // deleted between the index hit and the read
                results.Add(new SearchResult(paper.Id, paper.Title, paper.FirstSeen.ToString("yyyy-MM-dd"), Math.Round(hit.Score, 4), paper.Snippet));
        return results;
    }
}
