using Orleans.Concurrency;

namespace PaperVec.Cluster.Shards;

/// <summary>
/// One replica of one shard (grain key "SHARD/SILO-NAME", see <see cref="ClusterLayout.ReplicaKey"/>),
/// always on the silo its key names. Writes are applied one at a time; reads run alongside them and
/// off the grain's scheduler, on the thread pool, so one replica answers many searches at once.
/// </summary>
public interface IShardReplica : IGrainWithStringKey
{
    /// <summary>Applies a write durably (returns when it is in this replica's write-ahead log).</summary>
    Task<ShardWriteResult> WriteAsync(ShardWrite write);

    /// <summary>Writes a digest's manifest (its whole listing order over shards) on the digest's home shard; durable when it returns.</summary>
    Task PutDigestAsync(byte[] digest);

    /// <summary>Deletes a paper by key, durably, remembering the delete so catching up does not copy it back; false when none was stored.</summary>
    Task<bool> DeleteAsync(long key, DateTimeOffset at);

    /// <summary>
    /// Deletes this shard's part of a digest (its record, or the manifest on the home shard, and the papers only it
    /// brought; papers in <paramref name="libraryKeys"/>, named by libraries on any shard, are kept), durably.
    /// </summary>
    Task<ShardDigestDeletion> DeleteDigestAsync(string id, long[] libraryKeys, string[] libraryNames, DateTimeOffset at);

    /// <summary>Applies a library change on the library's home shard; durable when it returns the library (encoded).</summary>
    Task<byte[]> ChangeLibraryAsync(ShardLibraryChange change);

    /// <summary>Deletes a library on its home shard; false when there was none.</summary>
    Task<bool> DeleteLibraryAsync(string name);

    /// <summary>
    /// Sets (a null <paramref name="email"/>: ends) a library's subscription on its home shard, checked again here; durable when it
    /// returns the library (encoded), null when there is none. <paramref name="at"/>: the subscription's Since and the record's time, fixed by the client.
    /// </summary>
    Task<byte[]?> SubscribeAsync(string name, string? email, int top, DateTimeOffset at);

    /// <summary>Notes that a digest's message for a library was sent; durable when it returns the library (encoded), null when there is none.</summary>
    Task<byte[]?> MarkMailedAsync(string name, string digestId, DateTimeOffset at);

    [AlwaysInterleave] Task<ReplicaStatus> StatusAsync();

    /// <summary>A reader's library this shard holds (encoded), or null.</summary>
    [AlwaysInterleave] Task<byte[]?> LibraryAsync(string name);

    /// <summary>Every library this shard holds (encoded).</summary>
    [AlwaysInterleave] Task<byte[][]> LibrariesAsync();

    /// <summary>A digest record this shard holds (encoded): its part of the digest, or the whole manifest on the home shard; null when none.</summary>
    [AlwaysInterleave] Task<byte[]?> DigestAsync(string id);

    /// <summary>Every digest record this shard holds (encoded).</summary>
    [AlwaysInterleave] Task<byte[][]> DigestsAsync();

    /// <summary>This shard's papers of a digest as its view shows them ("seen before" from this shard's records); empty when none.</summary>
    [AlwaysInterleave] Task<ShardDigestListing[]> DigestListingsAsync(string id);

    /// <summary>The best <see cref="ShardQuery.Depth"/> papers of one ranking; throws <see cref="ReplicaNotReadyException"/> while catching up.</summary>
    [AlwaysInterleave] Task<ShardHit[]> SearchAsync(ShardQuery query);

    /// <summary>This shard's part of a recommendation: its best <see cref="ShardRecommend.Depth"/> papers by the model or by the profile terms.</summary>
    [AlwaysInterleave] Task<ShardRecommendHit[]> RecommendAsync(ShardRecommend query);

    /// <summary>Duplicate candidates of listed papers among this shard's listed papers (<see cref="Duplicates.DuplicateFinder.Candidates"/>).</summary>
    [AlwaysInterleave] Task<ShardCandidates[]> DuplicateCandidatesAsync(ShardDuplicateQuery query);

    /// <summary>The vectors (and titles) of the keys this shard holds.</summary>
    [AlwaysInterleave] Task<ShardVector[]> VectorsAsync(long[] keys);

    /// <summary>This shard's bottom-k sample (<see cref="Storage.PaperCatalog.SampleKeys"/>), smallest hash first.</summary>
    [AlwaysInterleave] Task<long[]> SampleAsync(int count, int seed, long[] excluded);

    /// <summary>The analyzed terms of each paper's title and abstract, for the keys this shard holds.</summary>
    [AlwaysInterleave] Task<string[][]> TermsOfAsync(long[] keys);

    /// <summary>Document frequencies of terms in this shard's lexical index.</summary>
    [AlwaysInterleave] Task<ShardDocFreqs> DocFreqsAsync(string[] terms);

    /// <summary>A stored paper by PaperVec id or source id, with its vector; null when this shard has none.</summary>
    [AlwaysInterleave] Task<ShardPaper?> FindAsync(string id);

    /// <summary>
    /// The stored papers these source ids and title keys name on this shard (0 where none): a title
    /// key names a paper by its own title or by a title it was retitled to. Routes a write to the
    /// shard whose paper it is.
    /// </summary>
    [AlwaysInterleave] Task<ShardKnownKeys> KnownKeysAsync(string[] sourceIds, long[] titleKeys);

    /// <summary>The key of a paper by id (PaperVec or source id); null when this shard has none.</summary>
    [AlwaysInterleave] Task<long?> ResolveAsync(string id);

    /// <summary>
    /// What this replica holds (papers as key and record hash, digest records and libraries whole):
    /// catching up compares listings. Answered while this replica catches up too: what it holds is durable.
    /// </summary>
    [AlwaysInterleave] Task<ReplicaListing> ListAsync();

    /// <summary>Papers by key, whole and encoded, for a client (throws <see cref="ReplicaNotReadyException"/> while catching up).</summary>
    [AlwaysInterleave] Task<byte[][]> RecordsAsync(long[] keys);

    /// <summary>Papers by key, whole and encoded as the store holds them (catching up copies them as they are).</summary>
    [AlwaysInterleave] Task<byte[][]> ReadAsync(long[] keys);

    /// <summary>
    /// A peer (<paramref name="silo"/>) has caught up from this replica: it may take writes this one
    /// lacks from now on, so this replica compares with it after a restart (<see cref="ShardInSync"/>).
    /// </summary>
    [AlwaysInterleave] Task IncludeAsync(int silo);

    /// <summary>
    /// This replica missed a write that the replicas on <paramref name="ahead"/> took (silo
    /// indices). When it returns, the replica has stopped serving the shard and its durable record
    /// (<see cref="ShardInSync"/>) names those replicas, so neither now nor after a restart does it
    /// serve before it has compared with them; it starts catching up. The client waits for this
    /// (or for membership to declare the replica's silo dead) before it acknowledges the write.
    /// </summary>
    [AlwaysInterleave] Task BehindAsync(int[] ahead);

    /// <summary>Whether membership, as this replica's silo sees it, has declared every life of silo <paramref name="silo"/> dead.</summary>
    [AlwaysInterleave] Task<bool> DeclaredDeadAsync(int silo);

    /// <summary>
    /// Copies from its peers what this replica lacks (pull only: a peer that lacks something of ours
    /// pulls it when we ask it to catch up in turn). Asked at start, by a client after this replica
    /// missed a write another took, or by a peer: the replica is not ready (serves no reads, takes no
    /// writes) until it has compared with every peer that may hold writes it lacks; one it cannot
    /// reach, or a copy that fails, keeps it not ready, named in its status, and it tries again.
    /// One-way: the caller does not wait.
    /// </summary>
    [OneWay] Task CatchUpAsync();
}
