
using PaperVec.Cli.Common;
namespace PaperVec.Bench.Harness;

/// <summary>The routes a benchmark can send, by the names used in --mix and in the reports.</summary>
public enum BenchRoute
{
    /// <summary>GET /papers/{id}/similar?k=10 for a random prepared paper.</summary>
    Similar,
    /// <summary>GET /search?q=...&amp;k=10 with a short query (a sample digest title), embedded by the server; the default mode (hybrid).</summary>
    Search,
    /// <summary>The same queries with mode=semantic (embedding and HNSW only), to compare with hybrid in one run.</summary>
    SearchSemantic,
    /// <summary>The same queries with mode=lexical (BM25 only).</summary>
    SearchLexical,
    /// <summary>POST /recommend from a 50-paper library of stored papers (the default strategy); 64 libraries repeat, so they are warm after the warm-up.</summary>
    Recommend,
    /// <summary>POST /recommend from a 50-paper library never sent before: each request is a library's first after a change, and trains its model.</summary>
    RecommendCold,
    /// <summary>GET /digests/{id}?library=NAME: a 100-paper digest ordered by one of 64 stored 50-paper libraries (set up before the run).</summary>
    DigestLibrary,
    /// <summary>GET /papers/{id}.</summary>
    Paper,
    /// <summary>POST /digests with new papers: parsed, embedded, checked for duplicates, stored durably.</summary>
    Ingest,
    /// <summary>POST /papers with new records carrying their vectors: stored durably without embedding.</summary>
    IngestVectors,
}

/// <summary>Weighted routes, e.g. "similar:70,search:25,ingest:5"; each request picks one at random by weight.</summary>
public sealed class RouteMix
{
    public static readonly IReadOnlyDictionary<string, BenchRoute> Names = new Dictionary<string, BenchRoute>(StringComparer.OrdinalIgnoreCase)
    {
        ["similar"] = BenchRoute.Similar, ["search"] = BenchRoute.Search, ["search-semantic"] = BenchRoute.SearchSemantic,
        ["search-lexical"] = BenchRoute.SearchLexical, ["recommend"] = BenchRoute.Recommend, ["recommend-cold"] = BenchRoute.RecommendCold,
        ["digest-library"] = BenchRoute.DigestLibrary, ["paper"] = BenchRoute.Paper,
        ["ingest"] = BenchRoute.Ingest, ["ingest-vectors"] = BenchRoute.IngestVectors,
    };

    readonly BenchRoute[] _routes;
    readonly double[] _cumulative; // running sums of the weights, normalised to end at 1

    public IReadOnlyList<(BenchRoute Route, double Weight)> Entries { get; }

    RouteMix(List<(BenchRoute, double)> entries)
    {
        Entries = entries;
        _routes = entries.Select(e => e.Item1).ToArray();
        double total = entries.Sum(e => e.Item2), sum = 0;
        _cumulative = entries.Select(e => (sum += e.Item2) / total).ToArray();
        _cumulative[^1] = 1;
    }

    public bool Contains(BenchRoute route) => _routes.Contains(route);

    /// <summary>Whether the run writes to the data directory (then the server gets a copy): ingest, and digest-library's set-up (a digest and libraries stored).</summary>
    public bool Writes => Contains(BenchRoute.Ingest) || Contains(BenchRoute.IngestVectors) || Contains(BenchRoute.DigestLibrary);

    public static string NameOf(BenchRoute route) => Names.First(n => n.Value == route).Key;

    /// <summary>Parses "name:weight,..." (a bare name weighs 1); unknown names, repeats and weights &lt;= 0 are usage errors.</summary>
    public static RouteMix Parse(string text)
    {
        var entries = new List<(BenchRoute, double)>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pieces = part.Split(':', 2, StringSplitOptions.TrimEntries);
            if (!Names.TryGetValue(pieces[0], out var route))
                throw new UsageException($"unknown route '{pieces[0]}' in --mix (known: {string.Join(", ", Names.Keys)})");
            double weight = 1;
            if (pieces.Length == 2 && (!double.TryParse(pieces[1], System.Globalization.CultureInfo.InvariantCulture, out weight) || weight <= 0 || !double.IsFinite(weight)))
                throw new UsageException($"weight of '{pieces[0]}' in --mix must be a positive number, not '{pieces[1]}'");
            if (entries.Any(e => e.Item1 == route)) throw new UsageException($"route '{pieces[0]}' appears twice in --mix");
            entries.Add((route, weight));
        }
        if (entries.Count == 0) throw new UsageException("--mix names no route");
        return new RouteMix(entries);
    }

    /// <summary>A route drawn by weight from <paramref name="uniform"/> in [0, 1).</summary>
    public BenchRoute Pick(double uniform)
    {
        for (int i = 0; i < _cumulative.Length; i++)
            if (uniform < _cumulative[i]) return _routes[i];
        return _routes[^1];
    }

    public override string ToString() => string.Join(",", Entries.Select(e => $"{NameOf(e.Route)}:{e.Weight:0.###}"));
}
