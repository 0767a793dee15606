using PaperVec.Api.Embedding;
using PaperVec.Api.Metrics;
using PaperVec.Digests;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Api.Hosting;

/// <summary>
/// What the routes serve (search, papers, digests, recommendations, libraries, duplicates): one node's collection (<see cref="ServedCollection"/>)
/// or a cluster's client side (<see cref="ServedCluster"/>). The seam between `serve` and
/// `serve --cluster`: the routes parse, check, call this and shape, so both answer alike.
/// </summary>
public interface IServedPapers
{
    ServerMetrics Metrics { get; }
    /// <summary>Embeds search queries; null while the model loads (see <see cref="NotReadyReason"/>).</summary>
    QueryEmbeddingBatcher? Queries { get; }
    string? NotReadyReason { get; }
    int PaperCount { get; }
    /// <summary>Why lexical answers are incomplete now (the lexical index being rebuilt), or null.</summary>
    string? LexicalDegraded => null;

    Task<List<SearchResult>> SearchAsync(SearchQuery query, SearchScope scope);
    /// <summary>Papers like the one <paramref name="id"/> names (itself and <paramref name="excludeDigest"/>'s papers left out); null when no paper has that id.</summary>
    Task<List<SearchResult>?> SimilarAsync(string id, SearchScope scope, string? excludeDigest);
    Task<PaperRecord?> FindPaperAsync(string id);
    /// <summary>Deletes a paper durably (every id it was known by stops resolving); false when no paper has that id.</summary>
    Task<bool> DeleteAsync(string id);
    Task<IngestResult> IngestAsync(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest);
    Task<List<DigestRecord>> DigestsAsync();
    /// <summary>A digest and its listings in listing order; null when there is none.</summary>
    Task<(DigestRecord Digest, List<DigestListing> Listings)?> DigestAsync(string id);
    /// <summary>Papers for a reader who liked and disliked these ids; <paramref name="digestId"/> limits candidates to that digest.</summary>
    Task<List<SearchResult>> RecommendAsync(IReadOnlyList<string> liked, IReadOnlyList<string> disliked, SearchScope scope, string? digestId);
    /// <summary>Papers for a stored library's reader; null when there is no such library.</summary>
    Task<List<SearchResult>?> RecommendForLibraryAsync(string library, SearchScope scope, string? digestId);
    /// <summary>Duplicate groups among the digests in scope; an unknown digest id is a <see cref="Recommend.DigestNotFoundException"/>.</summary>
    Task<List<PaperVec.Duplicates.DuplicateGroup>> DuplicatesAsync(PaperVec.Duplicates.DuplicateScope scope);
    Task<List<ReaderLibrary>> LibrariesAsync();
    /// <summary>A reader's library (the name checked); null when there is none.</summary>
    Task<ReaderLibrary?> LibraryAsync(string name);
    /// <summary>Marks papers (ids) liked or disliked, or takes them out; with <paramref name="replace"/> the lists become the library.</summary>
    Task<ReaderLibrary> ChangeLibraryAsync(string name, IReadOnlyList<string> like, IReadOnlyList<string> dislike, IReadOnlyList<string> remove, bool replace);
    /// <summary>False when there was no such library.</summary>
    Task<bool> DeleteLibraryAsync(string name);
    /// <summary>A digest's papers ranked by a reader's library; null when there is no such library.</summary>
    Task<List<SearchResult>?> RankDigestAsync(string digestId, string library);
}
