using PaperVec.Ingest;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Engine;

/// <summary>
/// One node's collection: the coordinator (<see cref="CollectionCoordinator"/>, every rule hosts rely on)
/// over one <see cref="LocalShard"/> in one data directory, plus the tooling a data directory has (stats,
/// compaction, recovery report). Storage below the shard (<see cref="PaperDatabase"/>) owns durability,
/// recovery and checkpoints.
/// </summary>
public sealed class PaperCollection : CollectionCoordinator, IPaperCollection
{
    /// <summary>The only shard: the data directory.</summary>
    public LocalShard Shard { get; }

    PaperCollection(LocalShard shard, long libraryModelCacheBytes) : base([shard], ShardRouting.Single, libraryModelCacheBytes: libraryModelCacheBytes) => Shard = shard;

    /// <summary>Opens (and recovers) the collection's data directory; see <see cref="PaperDatabase.OpenAsync"/>.</summary>
    public static async Task<PaperCollection> OpenAsync(string? path, PaperDatabaseOptions? options = null) =>
        new(await LocalShard.OpenAsync(path, options).ConfigureAwait(false), (options ?? new()).LibraryModelCacheBytes);

    /// <summary>The storage below: the engine's rooms and tests use it.</summary>
    public PaperDatabase Database => Shard.Database;

    public override string Location => Shard.Root;

    /// <summary>What opening the data directory found and did.</summary>
    public RecoveryReport Recovery => Shard.Recovery;

    /// <summary>Papers, digests, bytes on disk and index size, and whether the index holds exactly the store's papers (a full scan).</summary>
    public StorageStats StorageStats() => Shard.StorageStats();

    /// <summary>Reclaims disk from overwritten and deleted records, then checkpoints; returns the bytes of store log reclaimed.</summary>
    public Task<long> CompactAsync() => Shard.CompactAsync();

    /// <summary>Ingests papers whose vectors another process made with model <paramref name="modelId"/> (see <see cref="LocalShard.IngestEmbeddedAsync"/>).</summary>
    public Task<IngestResult> IngestEmbeddedAsync(IReadOnlyList<IncomingPaper> papers, string modelId, DateOnly? defaultDate = null,
        PaperIngestor.DigestInfo? digest = null) => Shard.IngestEmbeddedAsync(papers, modelId, defaultDate, digest);

    /// <summary>
    /// Embeds, with the attached model, the papers of <paramref name="papers"/> that carry no vector and
    /// that no stored paper answers to, without taking the write gate (CPU only; limits are checked
    /// first). <see cref="CollectionCoordinator.IngestAsync(IReadOnlyList{IncomingPaper}, PaperIngestor.DigestInfo?, DateOnly?, EmbeddedTexts?)"/> uses the result; empty when no model is attached.
    /// </summary>
    public EmbeddedTexts EmbedAhead(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest = null) => Shard.EmbedAhead(papers, digest);

    /// <summary>Deletes a paper (by PaperVec id or any id it was ingested under) and every id that names it; the deleted record, or null when there is none.</summary>
    public new async Task<PaperRecord?> DeleteAsync(string id) =>
        await Shard.ResolveAsync(id).ConfigureAwait(false) is long key ? await Shard.DeletePaperAsync(key).ConfigureAwait(false) : null;

    /// <summary>The listings of a digest, in listing order, each marked when an earlier digest listed it too; null when there is no such digest.</summary>
    public async Task<List<DigestListing>?> ListingsOfAsync(string digestId) =>
        Database.Catalog.GetDigest(digestId) is { } digest ? await DigestListing.ReadAsync(Database, digest).ConfigureAwait(false) : null;

    /// <summary>Deletes a digest and the papers only it brought (see <see cref="LocalShard.DeleteDigestAsync"/>); <paramref name="libraryPapers"/>: papers libraries held elsewhere name. Null when there is no such digest.</summary>
    public Task<DigestDeletion?> DeleteDigestAsync(string id, IReadOnlyDictionary<long, string>? libraryPapers) => Shard.DeleteDigestAsync(id, libraryPapers);

    /// <summary>Papers similar to a stored one (itself excluded unless the scope says otherwise); null when there is no such paper.</summary>
    public List<SearchResult>? Similar(long key, SearchScope scope) => Shard.Similar(key, scope);

    /// <summary>A reader's library by name (checked), or null.</summary>
    public ReaderLibrary? Library(string name) => Database.Catalog.GetLibrary(ReaderLibrary.CheckName(name));

    /// <summary>Replaces (or creates) a library with these liked and disliked papers (ids), as one durable write.</summary>
    public Task<ReaderLibrary> PutLibraryAsync(string name, IReadOnlyList<string> liked, IReadOnlyList<string> disliked) =>
        ChangeLibraryAsync(name, liked, disliked, [], replace: true);

    /// <summary>Marks papers liked or disliked, or takes them out, in a library (created when missing), as one durable write.</summary>
    public Task<ReaderLibrary> ChangeLibraryAsync(string name, IReadOnlyList<string> like, IReadOnlyList<string> dislike, IReadOnlyList<string> remove) =>
        ChangeLibraryAsync(name, like, dislike, remove, replace: false);
}

/// <summary>Vectors made ahead of an ingest (<see cref="CollectionCoordinator.EmbedAheadAsync"/>), by embedding text, with the model that made them.</summary>
public sealed record EmbeddedTexts(string ModelId, IReadOnlyDictionary<string, float[]> Vectors);
