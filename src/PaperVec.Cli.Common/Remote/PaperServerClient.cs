using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using PaperVec.Duplicates;
using PaperVec.Engine;
using PaperVec.Search;

namespace PaperVec.Cli.Common.Remote;

/// <summary>
/// The HTTP client of a running `papervec serve`: the existing routes, typed. An error answer is a
/// <see cref="CliException"/> carrying the server's problem-details detail (the same sentence the
/// engine says locally); a server that cannot be reached says so and where.
/// </summary>
sealed class PaperServerClient : IDisposable
{
    public const string ApiKeyHeader = "X-Api-Key";
    readonly HttpClient _http;

    public Uri BaseAddress { get; }

    public PaperServerClient(string url, string? apiKey)
    {
        if (!Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new UsageException($"--server wants an http or https URL such as http://127.0.0.1:5080, not '{url}'");
        BaseAddress = uri;
        // Ingests embed on the server: a thousand papers on a CPU take minutes, not the default 100 s.
        _http = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromMinutes(30) };
        if (!string.IsNullOrEmpty(apiKey)) _http.DefaultRequestHeaders.Add(ApiKeyHeader, apiKey);
    }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A path segment: ids with a slash (digest ids, old arXiv ids) travel as %2F, which the routes decode.</summary>
    public static string Segment(string id) => Uri.EscapeDataString(id);

    public static string Query(params (string Name, string? Value)[] pairs) =>
        string.Join("&", pairs.Where(p => p.Value != null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}")) is { Length: > 0 } q ? "?" + q : "";

    public static string? Date(DateOnly? date) => date?.ToString("yyyy-MM-dd");

    public Task<T> GetAsync<T>(string path) => SendAsync<T>(new HttpRequestMessage(HttpMethod.Get, path));

    /// <summary>GET answering null on 404 (no such paper, library).</summary>
    public async Task<T?> FindAsync<T>(string path, HttpMethod? method = null) where T : class
    {
        using var response = await SendRawAsync(new HttpRequestMessage(method ?? HttpMethod.Get, path));
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        return await ReadAsync<T>(response);
    }

    public Task<T> SendJsonAsync<T>(HttpMethod method, string path, object body) =>
        SendAsync<T>(new HttpRequestMessage(method, path) { Content = JsonContent.Create(body, body.GetType(), options: Json) });

    public Task<T> SendTextAsync<T>(string path, string text, string mediaType) =>
        SendAsync<T>(new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(text, Encoding.UTF8, mediaType) });

    /// <summary>DELETE: true when done, false on 404.</summary>
    public async Task<bool> DeleteAsync(string path)
    {
        using var response = await SendRawAsync(new HttpRequestMessage(HttpMethod.Delete, path));
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        if (!response.IsSuccessStatusCode) throw await ProblemAsync(response);
        return true;
    }

    async Task<T> SendAsync<T>(HttpRequestMessage request)
    {
        using var response = await SendRawAsync(request);
        return await ReadAsync<T>(response);
    }

    async Task<T> ReadAsync<T>(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode) throw await ProblemAsync(response);
        try { return await response.Content.ReadFromJsonAsync<T>(Json) ?? throw new CliException($"the server at {BaseAddress} answered {response.RequestMessage?.RequestUri?.AbsolutePath} with null"); }
        catch (JsonException e) { throw new CliException($"the server at {BaseAddress} answered {response.RequestMessage?.RequestUri?.AbsolutePath} with something else than PaperVec's JSON ({e.Message.Split('\n')[0]})"); }
    }

    async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request)
    {
        try { return await _http.SendAsync(request); }
        catch (HttpRequestException e)
        {
            throw new CliException($"cannot reach the server at {BaseAddress} ({e.Message.Split('\n')[0].Trim()}): is `papervec serve` running there?");
        }
        catch (TaskCanceledException) { throw new CliException($"the server at {BaseAddress} did not answer {request.RequestUri} within {_http.Timeout.TotalMinutes:0} minutes"); }
    }

    /// <summary>The problem details' detail (the engine's own sentence), else the status line.</summary>
    async Task<CliException> ProblemAsync(HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync();
        string? detail = null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String) detail = d.GetString();
        }
        catch (JsonException) { }
        return new CliException(detail ?? $"the server at {BaseAddress} answered {(int)response.StatusCode} {response.ReasonPhrase} to {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath}");
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>The answers' shapes the command line reads (the server's records, its fields only; other fields are ignored).</summary>
sealed record RemoteSearchAnswer(List<SearchResult> Results, int Papers);
sealed record RemoteReady(string Status, int Papers, string? Model);
sealed record RemoteLibrary(string Name, List<string> Liked, List<string> Disliked, DateTimeOffset UpdatedAt);
sealed record RemotePaper(string Id, string? SourceId, string Title, string Abstract, string? Authors, string? Url, string? Categories, string Date, List<string> Digests, string Model);
sealed record RemoteDigestSummary(string Id, string Date, string Source, int Papers, DateTimeOffset IngestedAt, int SeenBefore);
sealed record RemoteDeletedPaper(string Id, string Title, string? Reason, string? Detail);
sealed record RemoteDigestDeletion(string Digest, List<RemoteDeletedPaper> DeletedPapers, List<RemoteDeletedPaper> KeptPapers);
sealed record RemoteDigestPaper(string Id, string Title, string Date, bool SeenBefore, List<string> SeenIn, string Snippet, string? SameAs, double? Score,
    List<LikedMatch>? Because, List<string>? SharedTerms, string? Judged);
sealed record RemoteDigestView(string Id, string Date, string Source, List<RemoteDigestPaper> Papers);
sealed record RemoteIngestPaper(string Id, string Title, string Status);
sealed record RemoteIngestAnswer(string? Digest, string? Date, int Papers, int New, int AlreadySeen, int Exact, int Revised, int Retitled, string Summary,
    List<RemoteIngestPaper> NewPapers, List<RemoteIngestPaper> Duplicates, List<string> Problems);
sealed record RemoteSubscription(string Library, string Email, int Top, DateTimeOffset Since, List<string> Mailed);
