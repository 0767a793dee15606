using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;
using PaperVec.Api.Hosting;
using PaperVec.Api.Http;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Api.Libraries;

/// <summary>
/// GET /libraries/{name}/feed.atom: an Atom feed (RFC 4287) of what a library recommends from each
/// recent digest: one entry per recommended paper (the top <c>top</c> of each of the newest
/// <c>digests</c> digests, papers the reader already judged left out). An entry's id is a tag: URI
/// of its digest and paper, so a reader never sees the same entry twice; its link is the paper's
/// arXiv page when its id is an arXiv id (else the paper's JSON here); its summary says why.
/// Written with XmlWriter: a dozen elements need no syndication library.
/// </summary>
public static partial class LibraryFeed
{
    public const int DefaultTop = 10, DefaultDigests = 7, MaxTop = 100, MaxDigests = 100;
    const string Atom = "http://www.w3.org/2005/Atom";
    /// <summary>The tag: URIs' authority and date (RFC 4151): fixed, so ids never change.</summary>
    const string TagAuthority = "papervec,2025";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/libraries/{name}/feed.atom", async (string name, string? top, string? digests, HttpContext context, ServedPapers served) =>
            {
                int perDigest = Count(top, "top", DefaultTop, MaxTop), digestCount = Count(digests, "digests", DefaultDigests, MaxDigests);
                var library = await served.Collection.LibraryAsync(name) ?? throw ApiProblemException.NotFound($"no library named '{name}'");
                var request = context.Request;
                string self = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}{request.QueryString}";
                string xml = await WriteAsync(served.Collection, library, perDigest, digestCount, self, $"{request.Scheme}://{request.Host}{request.PathBase}");
                return Results.Text(xml, "application/atom+xml; charset=utf-8", Encoding.UTF8);
            })
            .WithTags("Libraries")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("An Atom feed of the library's recommendations: the top papers (?top=, default 10) of each of the newest digests (?digests=, default 7), each with why");
    }

    static int Count(string? text, string name, int fallback, int max)
    {
        if (string.IsNullOrEmpty(text)) return fallback;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= 1 && value <= max ? value
            : throw ApiProblemException.BadRequest($"{name} must be a whole number from 1 to {max}");
    }

    /// <summary>One recommended paper of one digest, with what the entry shows.</summary>
    public sealed record FeedEntry(DigestRecord Digest, SearchResult Result, PaperRecord? Paper)
    {
        public string Id => $"tag:{TagAuthority}:digest/{Escape(Digest.Id)}/paper/{Result.Id}";
        public string? ArxivId => Paper is { } p ? ArxivIdOf(p) : null;
    }

    /// <summary>The library's entries: per digest (newest first) its top papers not yet judged.</summary>
    public static async Task<List<FeedEntry>> EntriesAsync(PaperVec.Engine.IPaperCollection collection, ReaderLibrary library, int perDigest, int digestCount, IReadOnlyCollection<string>? only = null)
    {
        var digests = (await collection.DigestsAsync()).Where(d => only == null || only.Contains(d.Id))
            .OrderByDescending(d => d.Date).ThenByDescending(d => d.IngestedAt).Take(digestCount).ToList();
        var entries = new List<FeedEntry>();
        if (library.Liked.Count == 0) return entries; // nothing to recommend from yet: an empty feed, not an error a feed reader shows forever
        foreach (var digest in digests)
        {
            var ranked = await collection.RankDigestAsync(digest.Id, library.Name) ?? [];
            foreach (var result in ranked.Where(r => r.Judged == null).Take(perDigest))
                entries.Add(new FeedEntry(digest, result, await collection.FindPaperAsync(result.Id)));
        }
        return entries;
    }

    static async Task<string> WriteAsync(PaperVec.Engine.IPaperCollection collection, ReaderLibrary library, int perDigest, int digestCount, string self, string site)
    {
        var entries = await EntriesAsync(collection, library, perDigest, digestCount);
        var updated = entries.Count > 0 ? entries.Max(e => e.Digest.IngestedAt) : library.UpdatedAt;
        var text = new StringBuilder();
        using (var w = XmlWriter.Create(text, new XmlWriterSettings { Indent = true, Encoding = Encoding.UTF8, OmitXmlDeclaration = false }))
        {
            w.WriteStartDocument();
            w.WriteStartElement("feed", Atom);
            w.WriteElementString("id", Atom, $"tag:{TagAuthority}:library/{library.Name}");
            w.WriteElementString("title", Atom, $"PaperVec: recommended for {library.Name}");
            w.WriteElementString("updated", Atom, Rfc3339(updated));
            w.WriteStartElement("author", Atom);
            w.WriteElementString("name", Atom, "PaperVec");
            w.WriteEndElement();
            Link(w, "self", "application/atom+xml", self);
            Link(w, "alternate", "text/html", site + "/");
            w.WriteStartElement("generator", Atom);
            w.WriteString("PaperVec");
            w.WriteEndElement();
            foreach (var e in entries)
            {
                w.WriteStartElement("entry", Atom);
                w.WriteElementString("id", Atom, e.Id);
                w.WriteElementString("title", Atom, e.Result.Title);
                w.WriteElementString("updated", Atom, Rfc3339(e.Digest.IngestedAt));
                w.WriteElementString("published", Atom, Rfc3339(e.Digest.IngestedAt));
                if (e.Paper?.Authors is { Length: > 0 } authors)
                {
                    w.WriteStartElement("author", Atom);
                    w.WriteElementString("name", Atom, authors);
                    w.WriteEndElement();
                }
                // One alternate link per entry (the validator's rule): the arXiv abstract page when known.
                // Else the paper's JSON here (no type: feed readers take an alternate link typed other than HTML for none).
                Link(w, "alternate", e.ArxivId != null ? "text/html" : null,
                    e.ArxivId is { } arxiv ? $"https://arxiv.org/abs/{arxiv}" : $"{site}/papers/{e.Result.Id}");
                if (e.ArxivId is { } pdf) Link(w, "related", "application/pdf", $"https://arxiv.org/pdf/{pdf}");
                foreach (var category in (e.Paper?.Categories ?? "").Split([' ', ','], StringSplitOptions.RemoveEmptyEntries))
                {
                    w.WriteStartElement("category", Atom);
                    w.WriteAttributeString("term", category);
                    w.WriteEndElement();
                }
                w.WriteStartElement("summary", Atom);
                w.WriteAttributeString("type", "text");
                w.WriteString(Summary(e));
                w.WriteEndElement();
                w.WriteEndElement();
            }
            w.WriteEndElement();
            w.WriteEndDocument();
        }
        // StringBuilder output declares utf-16; the body is sent as UTF-8.
        return text.ToString().Replace("encoding=\"utf-16\"", "encoding=\"utf-8\"");
    }

    /// <summary>Why, then the snippet: "In digest D. Because you liked "X" (matches: a, b). Score 0.87. ...".</summary>
    public static string Summary(FeedEntry e)
    {
        var r = e.Result;
        var why = r.Because is [var first, ..]
            ? $"Because you liked \"{first.Title}\"" + (r.Because.Count > 1 ? $" and \"{r.Because[1].Title}\"" : "") + (r.SharedTerms is { Count: > 0 } shared ? $" (matches: {string.Join(", ", shared)})" : "") + ". "
            : "";
        return $"From digest {e.Digest.Id}. {why}Score {r.Score.ToString("0.000", CultureInfo.InvariantCulture)}. {r.Snippet}";
    }

    static void Link(XmlWriter w, string rel, string? type, string href)
    {
        w.WriteStartElement("link", Atom);
        w.WriteAttributeString("rel", rel);
        if (type != null) w.WriteAttributeString("type", type);
        w.WriteAttributeString("href", href);
        w.WriteEndElement();
    }

    /// <summary>RFC 3339 in UTC, to the second.</summary>
    public static string Rfc3339(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>A tag: URI's specific part: digest ids may hold any printable character; '/' stays as the separator.</summary>
    static string Escape(string id) => string.Join('/', id.Split('/').Select(Uri.EscapeDataString));

    /// <summary>The paper's arXiv id (new style 2303.06284, old style cs/0112017; version kept) from its record id or URL, or null.</summary>
    public static string? ArxivIdOf(PaperRecord paper)
    {
        foreach (var candidate in new[] { paper.SourceId, paper.Url })
        {
            if (candidate == null) continue;
            var m = ArxivPattern().Match(candidate);
            if (m.Success && (candidate == paper.Url ? candidate.Contains("arxiv.org", StringComparison.OrdinalIgnoreCase) : true)) return m.Groups["id"].Value;
        }
        return null;
    }

    [GeneratedRegex(@"(?:^|arxiv\.org/(?:abs|pdf)/|^arxiv:)(?<id>\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?)(?:\.pdf)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ArxivPattern();
}
