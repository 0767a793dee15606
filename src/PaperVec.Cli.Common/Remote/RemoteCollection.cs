using PaperVec.Duplicates;
using PaperVec.Embedding;
using PaperVec.Engine;
using PaperVec.Ingest;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Cli.Common.Remote;

/// <summary>
/// The papers of a running `papervec serve`, as the query verbs see a local collection: each call is
/// one request to the server's existing routes, mapped back to the engine's answers, so a verb prints
/// the same lines either way. Writes that need the directory itself, and the model, are the server's.
/// </summary>
sealed class RemoteCollection : IPaperCollection
{
    readonly PaperServerClient _client;

    RemoteCollection(PaperServerClient client, string location, int papers)
    {
        _client = client;
        Location = location;
        PaperCount = papers;
    }

    /// <summary>Connects: the server must answer /ready (model loaded, store serving) before a verb runs.</summary>
    /// <param name="location">What the verbs print as where the papers are: the data directory the server holds, or its URL.</param>
    public static async Task<RemoteCollection> ConnectAsync(string url, string? apiKey, string? location = null)
    {
        var client = new PaperServerClient(url, apiKey);
        try
        {
            RemoteReady ready;
            try { ready = await client.GetAsync<RemoteReady>("ready"); }
            catch (CliException e) { throw new CliException($"the server at {client.BaseAddress} is not ready: {e.Message}"); }
            return new RemoteCollection(client, location ?? client.BaseAddress.ToString(), ready.Papers);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public PaperServerClient Client => _client;

    public int PaperCount { get; private set; }
    public string? LexicalDegraded => null;
    public CollectionHealth Health => new(null);
    public string Location { get; }
    public long? BytesOnDisk() => null;
    public Embedder? Embedder => null;

    /// <summary>Papers held now, asked again (after an ingest).</summary>
    public async Task<int> RefreshCountAsync() => PaperCount = (await _client.GetAsync<RemoteReady>("ready")).Papers;

    public Task<int> AttachModelAsync(Embedder embedder, Action<int, int>? progress = null) =>
        throw new CliException("the server embeds with its own model; the command line attaches none to it");

    public Task<IngestResult> IngestAsync(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest = null, DateOnly? defaultDate = null) =>
        throw new NotSupportedException("a server ingests a digest's text or records (POST /digests, POST /papers): see IngestCommand's remote path");

    public async Task<bool> DeleteAsync(string id) => await _client.DeleteAsync($"papers/{PaperServerClient.Segment(id)}");

    public async Task<PaperRecord?> FindPaperAsync(string id)
    {
        var paper = await _client.FindAsync<RemotePaper>($"papers/{PaperServerClient.Segment(id)}");
        if (paper == null) return null;
        if (!PaperIdentity.TryParse(paper.Id, out long key)) throw new CliException($"the server answered paper id '{paper.Id}', not a PaperVec id");
        return new PaperRecord
        {
            Key = key, Title = paper.Title, Abstract = paper.Abstract, SourceId = paper.SourceId, Authors = paper.Authors, Url = paper.Url, Categories = paper.Categories,
            FirstSeen = DateOnly.ParseExact(paper.Date, "yyyy-MM-dd"), Digests = paper.Digests, ModelId = paper.Model, Vector = [], // the API leaves vectors out
        };
    }

    public async Task<List<SearchResult>> SearchAsync(SearchQuery query, SearchScope scope)
    {
        // The server embeds the text itself: the query's vector (none, remotely) is not sent.
        var answer = await _client.SendJsonAsync<RemoteSearchAnswer>(HttpMethod.Post, "search", new
        {
            text = query.Text, k = scope.K, from = PaperServerClient.Date(scope.From), to = PaperServerClient.Date(scope.To),
            mode = query.Mode.ToString().ToLowerInvariant(), diversity = scope.Diversity,
        });
        PaperCount = answer.Papers;
        return answer.Results;
    }

    public async Task<List<SearchResult>?> SimilarAsync(string id, SearchScope scope, string? excludeDigest = null)
    {
        var answer = await _client.FindAsync<RemoteSearchAnswer>($"papers/{PaperServerClient.Segment(id)}/similar" + PaperServerClient.Query(
            ("k", scope.K.ToString()), ("from", PaperServerClient.Date(scope.From)), ("to", PaperServerClient.Date(scope.To)),
            ("diversity", scope.Diversity.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("excludeDigest", excludeDigest)));
        if (answer == null) return null;
        PaperCount = answer.Papers;
        return answer.Results;
    }

    public async Task<List<SearchResult>> RecommendAsync(IReadOnlyList<string> liked, IReadOnlyList<string> disliked, SearchScope scope, string? digestId = null,
        RecommendStrategy strategy = Recommender.DefaultStrategy)
    {
        if (strategy != Recommender.DefaultStrategy) throw new CliException($"a server recommends with its default strategy only, not {strategy}");
        return await RecommendAsync(new { liked, disliked, k = scope.K, from = PaperServerClient.Date(scope.From), to = PaperServerClient.Date(scope.To), digest = digestId, diversity = scope.Diversity });
    }

    // "no library named ..." is the server's 404 detail, the sentence the verb says locally.
    public async Task<List<SearchResult>?> RecommendForLibraryAsync(string library, SearchScope scope, string? digestId = null) =>
        await RecommendAsync(new { library, k = scope.K, from = PaperServerClient.Date(scope.From), to = PaperServerClient.Date(scope.To), digest = digestId, diversity = scope.Diversity });

    async Task<List<SearchResult>> RecommendAsync(object body)
    {
        var answer = await _client.SendJsonAsync<RemoteSearchAnswer>(HttpMethod.Post, "recommend", body);
        PaperCount = answer.Papers;
        return answer.Results;
    }

    public async Task<List<SearchResult>?> RankDigestAsync(string digestId, string library)
    {
        var view = await _client.GetAsync<RemoteDigestView>($"digests/{PaperServerClient.Segment(digestId)}" + PaperServerClient.Query(("library", library)));
        return view.Papers.Select(p => new SearchResult(p.Id, p.Title, p.Date, p.Score ?? 0, p.Snippet) { Because = p.Because, SharedTerms = p.SharedTerms, Judged = p.Judged }).ToList();
    }

    public async Task<List<ReaderLibrary>> LibrariesAsync() => (await _client.GetAsync<List<RemoteLibrary>>("libraries")).Select(Library).ToList();

    public async Task<ReaderLibrary?> LibraryAsync(string name) =>
        await _client.FindAsync<RemoteLibrary>($"libraries/{PaperServerClient.Segment(name)}") is { } library ? Library(library) : null;

    public async Task<ReaderLibrary> ChangeLibraryAsync(string name, IReadOnlyList<string> like, IReadOnlyList<string> dislike, IReadOnlyList<string> remove, bool replace) =>
        Library(replace
            ? await _client.SendJsonAsync<RemoteLibrary>(HttpMethod.Put, $"libraries/{PaperServerClient.Segment(name)}", new { liked = like, disliked = dislike })
            : await _client.SendJsonAsync<RemoteLibrary>(HttpMethod.Patch, $"libraries/{PaperServerClient.Segment(name)}", new { like, dislike, remove }));

    public async Task<ReaderLibrary?> SubscribeAsync(string name, string? email, int top)
    {
        string path = $"libraries/{PaperServerClient.Segment(name)}/subscription";
        if (email == null)
            return await _client.DeleteAsync(path) ? await LibraryAsync(name) : throw new CliException($"library '{name}' has no subscription");
        var view = await _client.SendJsonAsync<RemoteSubscription>(HttpMethod.Put, path, new { email, top });
        return await LibraryAsync(name) is { } library ? library with { Subscription = new LibrarySubscription(view.Email, view.Top, view.Since), Mailed = view.Mailed } : null;
    }

    public Task<ReaderLibrary?> MarkMailedAsync(string name, string digestId) => throw new NotSupportedException("the server notes what it mailed");

    public Task<bool> DeleteLibraryAsync(string name) => _client.DeleteAsync($"libraries/{PaperServerClient.Segment(name)}");

    static ReaderLibrary Library(RemoteLibrary l) => new(l.Name, l.Liked.Select(Key).ToList(), l.Disliked.Select(Key).ToList(), l.UpdatedAt);

    static long Key(string id) => PaperIdentity.TryParse(id, out long key) ? key : throw new CliException($"the server answered paper id '{id}', not a PaperVec id");

    public async Task<List<DigestRecord>> DigestsAsync() =>
        // GET /digests gives the count, not the keys: the keys stay unknown (zeros) and only the count is meaningful.
        (await _client.GetAsync<List<RemoteDigestSummary>>("digests"))
            .Select(d => new DigestRecord(d.Id, DateOnly.ParseExact(d.Date, "yyyy-MM-dd"), d.Source, new long[d.Papers], d.IngestedAt)).ToList();

    public Task<(DigestRecord Digest, List<DigestListing> Listings)?> DigestAsync(string id) =>
        throw new NotSupportedException("a digest's listings are read from a server with GET /digests/{id}");

    /// <summary>GET /digests's seen-before counts, by digest id (a local list counts them from each digest's listings).</summary>
    public async Task<Dictionary<string, int>> SeenBeforeAsync() =>
        (await _client.GetAsync<List<RemoteDigestSummary>>("digests")).ToDictionary(d => d.Id, d => d.SeenBefore);

    public async Task<DigestDeletion?> DeleteDigestAsync(string id)
    {
        var answer = await _client.FindAsync<RemoteDigestDeletion>($"digests/{PaperServerClient.Segment(id)}", HttpMethod.Delete);
        if (answer == null) return null;
        static KeptBecause Reason(string? name) => Enum.GetValues<KeptBecause>().FirstOrDefault(r => DigestDeletion.Name(r) == name) is var r && DigestDeletion.Name(r) == name ? r
            : throw new CliException($"the server answered a kept paper's reason '{name}', which this command line does not know");
        return new DigestDeletion(answer.Digest, answer.DeletedPapers.Select(p => new DeletedPaper(Key(p.Id), p.Title)).ToList(),
            answer.KeptPapers.Select(p => new KeptPaper(Key(p.Id), p.Title, Reason(p.Reason), p.Detail ?? "")).ToList());
    }

    public async Task<List<DuplicateGroup>> DuplicatesAsync(DuplicateScope scope, DuplicateSettings? settings = null)
    {
        if (settings != null && settings != new DuplicateSettings())
            throw new CliException("a server finds duplicates with its default settings: --neighbours, --min-cosine and --min-lexical need the data directory (stop the server)");
        var pairs = new List<(string, string?)> { ("from", PaperServerClient.Date(scope.From)), ("to", PaperServerClient.Date(scope.To)) };
        foreach (var digest in scope.Digests ?? (IEnumerable<string>)[]) pairs.Add(("digest", digest));
        var report = await _client.GetAsync<DuplicateReport>("duplicates" + PaperServerClient.Query([.. pairs]));
        return [.. report.Groups];
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
