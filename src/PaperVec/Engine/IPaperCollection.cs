using PaperVec.Ingest;
using PaperVec.Duplicates;
using PaperVec.Embedding;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Engine;

/// <summary>
/// The one thing hosts call (the HTTP API, the command line's query verbs, `serve --cluster`): a
/// collection of papers, one node's (<see cref="PaperCollection"/>) or a cluster's (PaperVec.Cluster's
/// ClusterCollection). Hosts parse, check their own syntax, call this and shape the answer; every
/// engine rule (limits, "exclude the paper itself", identity resolution, the search and
/// recommendation recipes) is behind it, so a node and a cluster answer alike.
/// </summary>
public interface IPaperCollection : IAsyncDisposable
{
    /// <summary>Papers held now (a cluster: per shard, its fullest ready replica at the last poll).</summary>
    int PaperCount { get; }

    /// <summary>Why lexical answers are incomplete now (the lexical index being rebuilt), or null.</summary>
    string? LexicalDegraded { get; }

    /// <summary>Whether the collection serves now, and why not; a cluster adds each replica's health.</summary>
    CollectionHealth Health { get; }

    /// <summary>Where the papers are, for people: one node's data directory, or a cluster's layout.</summary>
    string Location { get; }

    /// <summary>Bytes of the data directory on disk; null where the data lives in other processes (a cluster).</summary>
    long? BytesOnDisk();

    /// <summary>The attached model (null until <see cref="AttachModelAsync"/>): embeds papers written without vectors.</summary>
    Embedder? Embedder { get; }

    /// <summary>Makes <paramref name="embedder"/> the collection's model (a node re-embeds another model's vectors first); how many papers were re-embedded.</summary>
    Task<int> AttachModelAsync(Embedder embedder, Action<int, int>? progress = null);

    /// <summary>
    /// Ingests papers (a digest's when <paramref name="digest"/> is given, else records) as one durable write per shard.
    /// Papers without a vector need the model (<see cref="ModelNotReadyException"/>); bad input is an <see cref="InvalidDataException"/> before anything is written.
    /// </summary>
    Task<IngestResult> IngestAsync(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest = null, DateOnly? defaultDate = null);

    /// <summary>Deletes a paper durably (every id it was known by stops resolving); false when no paper has that id.</summary>
    Task<bool> DeleteAsync(string id);

    /// <summary>A stored paper by PaperVec id or any id it was ingested under; null when none.</summary>
    Task<PaperRecord?> FindPaperAsync(string id);

    /// <summary>Free-text search in the query's mode (k, diversity and the query's embedding checked here).</summary>
    Task<List<SearchResult>> SearchAsync(SearchQuery query, SearchScope scope);

    /// <summary>Papers like the one <paramref name="id"/> names, itself and <paramref name="excludeDigest"/>'s papers left out; null when no paper has that id.</summary>
    Task<List<SearchResult>?> SimilarAsync(string id, SearchScope scope, string? excludeDigest = null);

    /// <summary>Papers for a reader who liked and disliked these ids; <paramref name="digestId"/> limits candidates to that digest.</summary>
    Task<List<SearchResult>> RecommendAsync(IReadOnlyList<string> liked, IReadOnlyList<string> disliked, SearchScope scope, string? digestId = null,
        RecommendStrategy strategy = Recommender.DefaultStrategy);

    /// <summary>Papers for a stored library's reader; null when there is no such library.</summary>
    Task<List<SearchResult>?> RecommendForLibraryAsync(string library, SearchScope scope, string? digestId = null);

    /// <summary>A digest's papers ranked by a reader's library; null when there is no such library.</summary>
    Task<List<SearchResult>?> RankDigestAsync(string digestId, string library);

    /// <summary>Every reader's library, by name.</summary>
    Task<List<ReaderLibrary>> LibrariesAsync();

    /// <summary>A reader's library (the name checked); null when there is none.</summary>
    Task<ReaderLibrary?> LibraryAsync(string name);

    /// <summary>Marks papers (ids) liked or disliked, or takes them out; with <paramref name="replace"/> the lists become the library.</summary>
    Task<ReaderLibrary> ChangeLibraryAsync(string name, IReadOnlyList<string> like, IReadOnlyList<string> dislike, IReadOnlyList<string> remove, bool replace);

    /// <summary>False when there was no such library.</summary>
    Task<bool> DeleteLibraryAsync(string name);

    /// <summary>
    /// Sets (a null <paramref name="email"/>: ends) a library's e-mail subscription; null when there is no such library.
    /// Kept with the library on its home shard (on a cluster: by every replica of it). An address already subscribed keeps its Since.
    /// </summary>
    Task<ReaderLibrary?> SubscribeAsync(string name, string? email, int top);

    /// <summary>Records durably that <paramref name="digestId"/>'s message for the library was sent; null when there is no such library.</summary>
    Task<ReaderLibrary?> MarkMailedAsync(string name, string digestId);

    /// <summary>Every ingested digest, oldest first.</summary>
    Task<List<DigestRecord>> DigestsAsync();

    /// <summary>A digest and its listings in listing order; null when there is none.</summary>
    Task<(DigestRecord Digest, List<DigestListing> Listings)?> DigestAsync(string id);

    /// <summary>
    /// Deletes a digest durably, with the papers only it brought (a paper another digest lists, one
    /// ingested as a record, or one a library names is kept, the digest dropped from it); what was
    /// deleted and kept, and why. Null when no digest has that id.
    /// </summary>
    Task<DigestDeletion?> DeleteDigestAsync(string id);

    /// <summary>Duplicate groups among the digests in scope; an unknown digest id is a <see cref="DigestNotFoundException"/>.</summary>
    Task<List<DuplicateGroup>> DuplicatesAsync(DuplicateScope scope, DuplicateSettings? settings = null);
}

/// <summary>
/// Whether a collection serves: <see cref="Problem"/> is null when it does, else why not (a failing
/// disk; a shard no replica serves). <see cref="Replicas"/>: a cluster's replicas as last polled, null for one node.
/// </summary>
public sealed record CollectionHealth(string? Problem, IReadOnlyList<ReplicaHealth>? Replicas = null);

/// <summary>One shard replica's health (a cluster's): ready to serve reads, papers held, and why not when not.</summary>
public sealed record ReplicaHealth(int Shard, string Silo, bool Ready, int Papers, string? ModelId = null, string? Note = null)
{
    /// <summary>The replicas this one must compare with after a restart, and that record's epoch.</summary>
    public IReadOnlyList<string> InSync { get; init; } = [];
    public long InSyncEpoch { get; init; }
}
