using PaperVec.Duplicates;
using PaperVec.Embedding;
using PaperVec.Ingest;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Engine;

/// <summary>
/// One shard of a collection, as <see cref="CollectionCoordinator"/> sees it (Qdrant's ShardOperation is the
/// model): the operations on the papers it holds, and nothing that spans shards (merging, routing, "exclude
/// itself", the search and recommendation recipes are the coordinator's). A node's shard is a
/// <see cref="LocalShard"/> (a data directory); a cluster's is PaperVec.Cluster's replicated shard, whose
/// replicas, routing to a ready one, catch-up and write acknowledgement stay behind this interface.
/// An operation is one member here and one coordinator method.
/// </summary>
public interface ICollectionShard : IAsyncDisposable
{
    // ---- state ----

    /// <summary>Papers held now (a replicated shard: its fullest ready replica at the last poll).</summary>
    int PaperCount { get; }

    /// <summary>Why lexical answers are incomplete now, or null.</summary>
    string? LexicalDegraded { get; }

    /// <summary>Why the shard does not serve now, or null.</summary>
    string? Problem { get; }

    /// <summary>Bytes on disk; null where the data lives in other processes.</summary>
    long? BytesOnDisk();

    /// <summary>Makes <paramref name="embedder"/> the shard's model (a local shard re-embeds another model's vectors first); how many papers were re-embedded.</summary>
    Task<int> AttachModelAsync(Embedder embedder, Action<int, int>? progress);

    // ---- writes (durable when they return) ----

    /// <summary>The texts (<see cref="PaperText.ForEmbedding"/>) of papers without vectors the shard needs embedded for this ingest: none it already holds the same text of.</summary>
    Task<IReadOnlyList<string>> TextsToEmbedAsync(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest);

    /// <summary>Ingests this shard's papers: identity (source id, title, retitles), versions, twins and its part of a digest resolved inside the shard, as one write.</summary>
    Task<IngestResult> IngestAsync(ShardIngest write);

    /// <summary>Writes a digest's manifest (the whole digest's listing order) on its home shard, replacing this shard's part.</summary>
    Task PutDigestAsync(DigestRecord manifest);

    /// <summary>
    /// Deletes this shard's part of a digest (its record, or the manifest on the home shard) and the papers only it brought;
    /// papers in <paramref name="libraryPapers"/> (named by libraries on any shard) are kept. Null when the shard holds no record of it.
    /// </summary>
    Task<DigestDeletion?> DeleteDigestAsync(string id, IReadOnlyDictionary<long, string>? libraryPapers, DateTimeOffset at);

    /// <summary>Deletes a paper by key (every id that names it stops resolving); false when the shard has none.</summary>
    Task<bool> DeleteAsync(long key);

    /// <summary>Applies a resolved library change on the library's home shard.</summary>
    Task<ReaderLibrary> ApplyLibraryChangeAsync(LibraryChange change);

    /// <summary>Deletes a library; false when there was none.</summary>
    Task<bool> DeleteLibraryAsync(string name);

    /// <summary>Sets (null: ends) a library's checked subscription on its home shard (<see cref="ReaderLibrary.Subscribed"/>), the time fixed by the coordinator; null when there is no such library.</summary>
    Task<ReaderLibrary?> SubscribeAsync(string name, LibrarySubscription? subscription, DateTimeOffset at);

    /// <summary>Notes durably that a digest's message for a library was sent (<see cref="ReaderLibrary.WithMailed"/>); null when there is no such library.</summary>
    Task<ReaderLibrary?> MarkMailedAsync(string name, string digestId, DateTimeOffset at);

    // ---- reads ----

    /// <summary>The stored papers these source ids and title keys name here (0 where none): a title key names a paper by its own title or one it was retitled to.</summary>
    Task<KnownKeys> KnownKeysAsync(string[] sourceIds, long[] titleKeys);

    /// <summary>The key of a paper by id (PaperVec or source id); null when the shard has none.</summary>
    Task<long?> ResolveAsync(string id);

    /// <summary>A stored paper by id, whole; null when the shard has none.</summary>
    Task<PaperRecord?> FindPaperAsync(string id);

    /// <summary>The stored papers among <paramref name="keys"/>, whole.</summary>
    Task<List<PaperRecord>> RecordsAsync(long[] keys);

    /// <summary>The vectors (and titles) of the stored papers among <paramref name="keys"/>.</summary>
    Task<List<PaperVector>> VectorsAsync(long[] keys);

    /// <summary>The best <paramref name="depth"/> papers of one ranking (semantic or lexical) within the scope, with what a result shows.</summary>
    Task<List<ShardSearchHit>> RankingAsync(SearchQuery query, SearchMode ranking, SearchScope scope, int depth);

    /// <summary>A digest record the shard holds (its part, or the whole manifest on the home shard); null when none.</summary>
    Task<DigestRecord?> DigestRecordAsync(string id);

    /// <summary>Every digest record the shard holds.</summary>
    Task<List<DigestRecord>> DigestRecordsAsync();

    /// <summary>The shard's papers of a digest, "seen before" from its own records; empty when none.</summary>
    Task<List<DigestListing>> DigestListingsAsync(string id);

    /// <summary>A library the shard holds by (checked) name, or null.</summary>
    Task<ReaderLibrary?> LibraryAsync(string name);

    /// <summary>Every library the shard holds.</summary>
    Task<List<ReaderLibrary>> LibrariesAsync();

    // ---- a recommendation's reads (the recipe runs in the coordinator) ----

    /// <summary>The shard's best <paramref name="depth"/> papers by the model's score (semantic) or by BM25 of the profile terms (lexical), each with the liked papers it is closest to.</summary>
    Task<List<ShardRecommendation>> RecommendAsync(LibraryModel model, SearchMode ranking, IReadOnlyList<(string Term, float Weight)>? profile,
        IReadOnlyCollection<long>? candidates, SearchScope scope, int depth);

    /// <summary>The shard's bottom-k sample (<see cref="PaperCatalog.SampleKeys"/>), smallest hash first.</summary>
    Task<List<long>> SampleAsync(int count, int seed, IReadOnlySet<long> excluded);

    /// <summary>The analyzed terms of each key's title and abstract, in the order asked (empty for a key not held).</summary>
    Task<List<IReadOnlyList<string>>> TermsOfAsync(IReadOnlyList<long> keys);

    /// <summary>How many of the shard's papers hold each term (in the order asked), and how many it indexes.</summary>
    Task<(int[] DocFreqs, int Docs)> DocFreqsAsync(IReadOnlyList<string> terms);

    // ---- duplicates ----

    /// <summary>Each listed paper's duplicate candidates among the shard's <paramref name="listed"/> papers (<see cref="DuplicateFinder.Candidates"/>).</summary>
    Task<List<DuplicateCandidates>> DuplicateCandidatesAsync(long[] keys, float[][] vectors, long[] listed);
}

/// <summary>One shard's part of an ingest: its papers, vectors made ahead by the coordinator (by embedding text), and the time every replica records.</summary>
public sealed record ShardIngest(IReadOnlyList<IncomingPaper> Papers, PaperIngestor.DigestInfo? Digest, DateOnly? DefaultDate, EmbeddedTexts? Embedded, DateTimeOffset At);

/// <summary>One paper a shard found, with what a result shows; <see cref="Matches"/>: the words the query's terms matched (null without query text).</summary>
public sealed record ShardSearchHit(long Key, double Score, string Title, string Date, string Snippet, IReadOnlyList<string>? Matches = null)
{
    public static ShardSearchHit Of(PaperSummary paper, double score, IReadOnlyList<string>? matches = null) =>
        new(paper.Key, score, paper.Title, paper.FirstSeen.ToString("yyyy-MM-dd"), paper.Snippet, matches);

    public SearchResult ToResult(double score) => new(PaperIdentity.Format(Key), Title, Date, Math.Round(score, 4), Snippet) { Matches = Matches };
}

/// <summary>A paper a shard ranked for a reader, and the liked papers it is closest to (keys: their titles live on their own shards).</summary>
public sealed record ShardRecommendation(ShardSearchHit Hit, IReadOnlyList<long> BecauseKeys, IReadOnlyList<float> BecauseSimilarities);

/// <summary>A stored paper's vector and title.</summary>
public readonly record struct PaperVector(long Key, string Title, float[] Vector);

/// <summary>The stored papers source ids and title keys name on a shard (0 where none).</summary>
public readonly record struct KnownKeys(long[] BySourceId, long[] ByTitle);

/// <summary>One listed paper's duplicate candidates on one shard, best first.</summary>
public sealed record DuplicateCandidates(long Key, long[] Others, float[] Cosines);
