using System.Globalization;
using System.Text;
using PaperVec.Storage;
using PaperVec.Bench.Datasets;

namespace PaperVec.Bench.Harness;

/// <summary>
/// Makes the HTTP request of each route. Reads pick from precomputed absolute URI strings, so
/// sending one costs the HttpRequestMessage and its Uri; ingest bodies are built per request, since
/// each must carry papers the server has not seen (else nothing is embedded or stored).
/// Strings, not Uri objects: a Uri fills in parsed parts lazily on first use, so 400k long-lived
/// Uris in gen2 each gained new young objects as requests first touched them, and every gen0
/// collection had to trace and promote those (20 ms pauses every ~10 s at 1,000 req/s, which
/// the measured latencies then carried; ~1 ms with strings).
/// </summary>
public sealed class BenchRequests
{
    /// <summary>Papers in each recommend request's library, and how many different libraries are cycled through.</summary>
    public const int LibraryPapers = 50, Libraries = 64;

    readonly string[] _similar, _paper, _search, _searchSemantic, _searchLexical;
    readonly string[] _recommendBodies;
    readonly IReadOnlyList<string> _paperIds;
    readonly int _ingestBatch;
    long _nextNewPaper, _nextColdLibrary;
    string[] _digestLibrary = [];

    /// <param name="paperIds">Ids of stored papers (similar and paper pick among them).</param>
    /// <param name="queries">Short search texts.</param>
    /// <param name="ingestBatch">Papers per ingest request.</param>
    /// <param name="firstNewPaper">Synthetic paper number of the first new paper ingested (after the stored ones).</param>
    public BenchRequests(Uri baseUri, IReadOnlyList<string> paperIds, IReadOnlyList<string> queries, int ingestBatch, long firstNewPaper)
    {
        if (paperIds.Count == 0) throw new ArgumentException("no stored papers to ask for", nameof(paperIds));
        _similar = paperIds.Select(id => new Uri(baseUri, $"papers/{Uri.EscapeDataString(id)}/similar?k=10").AbsoluteUri).ToArray();
        _paper = paperIds.Select(id => new Uri(baseUri, $"papers/{Uri.EscapeDataString(id)}").AbsoluteUri).ToArray();
        _search = queries.Select(q => new Uri(baseUri, $"search?k=10&q={Uri.EscapeDataString(q)}").AbsoluteUri).ToArray();
        if (_search.Length == 0) throw new ArgumentException("no search queries", nameof(queries));
        _searchSemantic = _search.Select(u => u + "&mode=semantic").ToArray();
        _searchLexical = _search.Select(u => u + "&mode=lexical").ToArray();
        _recommendBodies = RecommendBodies(paperIds);
        _paperIds = paperIds;
        _ingestBatch = ingestBatch;
        _nextNewPaper = firstNewPaper;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }
    public int IngestBatch => _ingestBatch;

    /// <param name="pick">A uniform random integer choosing the paper or query.</param>
    public HttpRequestMessage Create(BenchRoute route, int pick) => route switch
    {
        BenchRoute.Similar => new HttpRequestMessage(HttpMethod.Get, _similar[(int)((uint)pick % _similar.Length)]),
        BenchRoute.Paper => new HttpRequestMessage(HttpMethod.Get, _paper[(int)((uint)pick % _paper.Length)]),
        BenchRoute.Search => new HttpRequestMessage(HttpMethod.Get, _search[(int)((uint)pick % _search.Length)]),
        BenchRoute.SearchSemantic => new HttpRequestMessage(HttpMethod.Get, _searchSemantic[(int)((uint)pick % _searchSemantic.Length)]),
        BenchRoute.SearchLexical => new HttpRequestMessage(HttpMethod.Get, _searchLexical[(int)((uint)pick % _searchLexical.Length)]),
        BenchRoute.Recommend => new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUri, "recommend"))
        {
            Content = new StringContent(_recommendBodies[(int)((uint)pick % _recommendBodies.Length)], Encoding.UTF8, "application/json"),
        },
        BenchRoute.RecommendCold => new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUri, "recommend"))
        {
            Content = new StringContent(ColdLibraryBody(), Encoding.UTF8, "application/json"),
        },
        BenchRoute.DigestLibrary => new HttpRequestMessage(HttpMethod.Get, _digestLibrary.Length > 0 ? _digestLibrary[(int)((uint)pick % _digestLibrary.Length)]
            : throw new InvalidOperationException("digest-library needs SetUpDigestLibrariesAsync first")),
        BenchRoute.Ingest => IngestDigest(),
        BenchRoute.IngestVectors => IngestRecords(),
        _ => throw new ArgumentOutOfRangeException(nameof(route)),
    };

    /// <summary>
    /// Request bodies of <see cref="Libraries"/> libraries, each <see cref="LibraryPapers"/> stored
    /// papers drawn with a fixed seed (so runs compare), as {"liked": [...], "k": 10}.
    /// </summary>
    static string[] RecommendBodies(IReadOnlyList<string> paperIds)
    {
        var random = new Random(17);
        int size = Math.Min(LibraryPapers, paperIds.Count);
        return Enumerable.Range(0, Libraries).Select(_ =>
        {
            var liked = new HashSet<string>(StringComparer.Ordinal);
            while (liked.Count < size) liked.Add(paperIds[random.Next(paperIds.Count)]);
            return System.Text.Json.JsonSerializer.Serialize(new { liked, k = 10 });
        }).ToArray();
    }

    /// <summary>The liked ids of the <see cref="Libraries"/> repeating libraries (recommend's bodies, and digest-library's stored libraries).</summary>
    IEnumerable<string[]> LibraryIds() =>
        _recommendBodies.Select(b => System.Text.Json.JsonDocument.Parse(b).RootElement.GetProperty("liked").EnumerateArray().Select(e => e.GetString()!).ToArray());

    /// <summary>A library no request sent before (its own seed): the server has no model of it yet.</summary>
    string ColdLibraryBody()
    {
        var random = new Random(unchecked((int)(1_000_003 * Interlocked.Increment(ref _nextColdLibrary))));
        int size = Math.Min(LibraryPapers, _paperIds.Count);
        var liked = new HashSet<string>(StringComparer.Ordinal);
        while (liked.Count < size) liked.Add(_paperIds[random.Next(_paperIds.Count)]);
        return System.Text.Json.JsonSerializer.Serialize(new { liked, k = 10 });
    }

    /// <summary>
    /// digest-library's set-up, through the API: one digest of <paramref name="digestPapers"/> new papers
    /// (embedded, as a day's listing is) and the <see cref="Libraries"/> libraries stored as bench-0..63.
    /// </summary>
    public async Task SetUpDigestLibrariesAsync(HttpClient client, int digestPapers = 100)
    {
        var digest = IngestDigest(digestPapers, "bench-library-digest");
        using var created = await client.SendAsync(digest).ConfigureAwait(false);
        string answer = await created.Content.ReadAsStringAsync().ConfigureAwait(false);
        if (!created.IsSuccessStatusCode || created.Headers.Location is not { } location)
            throw new InvalidOperationException($"digest-library set-up: POST /digests answered {(int)created.StatusCode}: {answer}");
        var names = new List<string>();
        int n = 0;
        foreach (var liked in LibraryIds())
        {
            string name = $"bench-{n++}";
            using var put = await client.PutAsync(new Uri(BaseUri, $"libraries/{name}"),
                new StringContent(System.Text.Json.JsonSerializer.Serialize(new { liked, disliked = Array.Empty<string>() }), Encoding.UTF8, "application/json")).ConfigureAwait(false);
            if (!put.IsSuccessStatusCode)
                throw new InvalidOperationException($"digest-library set-up: PUT /libraries/{name} answered {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync().ConfigureAwait(false)}");
            names.Add(name);
        }
        string digestPath = location.OriginalString.TrimStart('/');
        _digestLibrary = names.Select(name => new Uri(BaseUri, $"{digestPath}?library={name}").AbsoluteUri).ToArray();
    }

    long[] NewPapers()
    {
        long first = Interlocked.Add(ref _nextNewPaper, _ingestBatch) - _ingestBatch;
        return Enumerable.Range(0, _ingestBatch).Select(i => first + i).ToArray();
    }

    /// <summary>A digest in the daily format with new synthetic papers (realistic abstract length, so embedding costs what a real one does).</summary>
    HttpRequestMessage IngestDigest() => IngestDigest(_ingestBatch, null);

    HttpRequestMessage IngestDigest(int count, string? name)
    {
        long first = Interlocked.Add(ref _nextNewPaper, count) - count;
        var papers = Enumerable.Range(0, count).Select(i => first + i).ToArray();
        var text = new StringBuilder("new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nbyAK and the research community\n\nMar 11, 2025\n\n");
        foreach (long n in papers)
        {
            var paper = SyntheticPapers.Create((int)n);
            text.Append(paper.Title).Append("\n\n").Append(paper.Abstract).Append("\n\n");
        }
        return new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUri, $"digests?date=2025-03-11&name={name ?? $"bench-{papers[0]}"}"))
        {
            Content = new StringContent(text.ToString(), Encoding.UTF8, "text/plain"),
        };
    }

    /// <summary>JSON Lines records with their vectors, as `papervec ingest` and POST /papers accept them.</summary>
    HttpRequestMessage IngestRecords()
    {
        var lines = new StringBuilder();
        foreach (long n in NewPapers())
        {
            var paper = SyntheticPapers.Create((int)n);
            lines.Append("{\"id\":\"").Append(paper.SourceId).Append("\",\"title\":\"").Append(paper.Title)
                .Append("\",\"abstract\":\"").Append(paper.Abstract).Append("\",\"date\":\"2025-03-11\",\"vector\":[");
            for (int i = 0; i < paper.Vector.Length; i++)
                lines.Append(i == 0 ? "" : ",").Append(paper.Vector[i].ToString("R", CultureInfo.InvariantCulture));
            lines.Append("]}\n");
        }
        return new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUri, "papers"))
        {
            Content = new StringContent(lines.ToString(), Encoding.UTF8, "application/x-ndjson"),
        };
    }

    /// <summary>Papers each request of this route adds (for papers/s).</summary>
    public int PapersPerRequest(BenchRoute route) => route is BenchRoute.Ingest or BenchRoute.IngestVectors ? _ingestBatch : 0;
}
