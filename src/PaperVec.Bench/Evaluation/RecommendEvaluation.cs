using System.Text.Json;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Bench.Evaluation;

/// <summary>One paper of the arXiv corpus with what the recommendation proxies need.</summary>
public sealed record ListedPaper(string Id, string Title, string Abstract, IReadOnlyList<string> Authors, IReadOnlyList<string> Categories, DateOnly Listed);

/// <summary>Reads the shared arXiv corpus for `papervec eval recommend` (<see cref="LibrarySizeEvaluation"/>).</summary>
public static class RecommendEvaluation
{
    public static List<ListedPaper> LoadCorpus(string path, DateOnly since)
    {
        var papers = new List<ListedPaper>();
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            var listed = DateOnly.Parse(e.GetProperty("listing_date").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            if (listed < since) continue;
            papers.Add(new ListedPaper(e.GetProperty("id").GetString()!, e.GetProperty("title").GetString()!, e.GetProperty("abstract").GetString() ?? "",
                Strings(e, "authors"), Strings(e, "categories"), listed));
        }
        return papers;
    }

    static List<string> Strings(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : [];

}
