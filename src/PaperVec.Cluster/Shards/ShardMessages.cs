using PaperVec.Ingest;
using PaperVec.Storage;

namespace PaperVec.Cluster.Shards;

// What crosses the wire between the cluster client and shard replicas. Orleans' own serializer
// (ids per member) so a silo and a client of the next version can still talk.

/// <summary>A paper as written to a shard: the record with its vector (the client embeds, shards only store and search).</summary>
[GenerateSerializer, Immutable]
public sealed class ShardPaper
{
    [Id(0)] public required string Title { get; init; }
    [Id(1)] public required string Abstract { get; init; }
    [Id(2)] public string? SourceId { get; init; }
    [Id(3)] public string? Authors { get; init; }
    [Id(4)] public string? Url { get; init; }
    [Id(5)] public string? Categories { get; init; }
    [Id(6)] public DateOnly? Date { get; init; }
    [Id(7)] public required float[] Vector { get; init; }
    /// <summary>The stored paper's key (0 in a write: the shard decides identity).</summary>
    [Id(8)] public long Key { get; init; }
    /// <summary>A stored paper's digests (empty in a write: the write's digest says).</summary>
    [Id(9)] public string[] Digests { get; init; } = [];
    /// <summary>The model that made a stored paper's vector (null in a write: the write says).</summary>
    [Id(10)] public string? ModelId { get; init; }

    public static ShardPaper Of(IncomingPaper paper, float[] vector) => new()
    {
        Title = paper.Title, Abstract = paper.Abstract, SourceId = paper.SourceId, Authors = paper.Authors,
        Url = paper.Url, Categories = paper.Categories, Date = paper.Date, Vector = vector,
    };

    public static ShardPaper Of(PaperRecord record) => new()
    {
        Title = record.Title, Abstract = record.Abstract, SourceId = record.SourceId, Authors = record.Authors,
        Url = record.Url, Categories = record.Categories, Date = record.FirstSeen, Vector = record.Vector, Key = record.Key,
        Digests = [.. record.Digests], ModelId = record.ModelId,
    };

    /// <summary>A stored paper as its shard holds it (earlier versions left out).</summary>
    public PaperRecord ToRecord() => new()
    {
        Key = Key, Title = Title, Abstract = Abstract, SourceId = SourceId, Authors = Authors, Url = Url, Categories = Categories,
        FirstSeen = Date ?? default, Digests = Digests, ModelId = ModelId ?? "", Vector = Vector,
    };

    public IncomingPaper ToIncoming() => new(Title, Abstract)
    {
        SourceId = SourceId, Authors = Authors, Url = Url, Categories = Categories, Date = Date, Vector = Vector,
    };
}

/// <summary>One durable write to a shard: its papers and the model that made their vectors.</summary>
[GenerateSerializer, Immutable]
public sealed class ShardWrite
{
    [Id(0)] public required string ModelId { get; init; }
    [Id(1)] public required ShardPaper[] Papers { get; init; }
    [Id(2)] public DateOnly? DefaultDate { get; init; }
    /// <summary>The digest these papers are this shard's part of (null for records).</summary>
    [Id(3)] public ShardDigest? Digest { get; init; }
    /// <summary>When the client wrote (every replica records the same time for a paper ingested again after its delete).</summary>
    [Id(4)] public DateTimeOffset At { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>A digest's identity, as a shard's part of it is written.</summary>
[GenerateSerializer, Immutable]
public sealed record ShardDigest([property: Id(0)] string Id, [property: Id(1)] DateOnly Date, [property: Id(2)] string Source)
{
    public Ingest.PaperIngestor.DigestInfo ToInfo() => new(Id, Date, Source);
    public static ShardDigest Of(Ingest.PaperIngestor.DigestInfo info) => new(info.Id, info.Date, info.Source);
}

/// <summary>One listing of a write as the shard decided it: the stored key and new, exact, revised or retitled.</summary>
[GenerateSerializer, Immutable]
public readonly record struct ShardListing([property: Id(0)] long Key, [property: Id(1)] string Title, [property: Id(2)] Ingest.ListingStatus Status);

/// <summary>What a replica did with a write (its own decisions; replicas of one shard agree when in step).</summary>
[GenerateSerializer, Immutable]
public sealed class ShardWriteResult
{
    /// <summary>As the engine lists them: one per paper for records, one per distinct paper for a digest.</summary>
    [Id(0)] public required ShardListing[] Listings { get; init; }
    /// <summary>The stored key of each paper of the write, in the write's order.</summary>
    [Id(1)] public required long[] KeysByPosition { get; init; }
    /// <summary>For a digest: the record of this shard's part (encoded, <see cref="RecordCodec"/>), with its listing hashes and copy decisions.</summary>
    [Id(2)] public byte[]? Digest { get; init; }
}

/// <summary>A search sent to every shard: each answers its own best <see cref="Depth"/> of one ranking.</summary>
[GenerateSerializer, Immutable]
public sealed class ShardQuery
{
    [Id(0)] public string Text { get; init; } = "";
    [Id(1)] public float[]? Vector { get; init; }
    /// <summary>Semantic or Lexical: the shard's part of one ranking (hybrid asks for both and fuses after the merge).</summary>
    [Id(2)] public required Search.SearchMode Ranking { get; init; }
    [Id(3)] public required int Depth { get; init; }
    [Id(4)] public DateOnly? From { get; init; }
    [Id(5)] public DateOnly? To { get; init; }
    [Id(6)] public long[] Exclude { get; init; } = [];
}

/// <summary>One paper a shard found, with what a result shows.</summary>
[GenerateSerializer, Immutable]
public sealed class ShardHit
{
    [Id(0)] public required long Key { get; init; }
    [Id(1)] public required double Score { get; init; }
    [Id(2)] public required string Title { get; init; }
    [Id(3)] public required string Date { get; init; }
    [Id(4)] public required string Snippet { get; init; }
    /// <summary>The words of the title and snippet the query's terms match; null when the query has no text (similar).</summary>
    [Id(5)] public string[]? Matches { get; init; }

    public static ShardHit Of(Engine.ShardSearchHit hit) =>
        new() { Key = hit.Key, Score = hit.Score, Title = hit.Title, Date = hit.Date, Snippet = hit.Snippet, Matches = hit.Matches?.ToArray() };

    public Engine.ShardSearchHit ToHit() => new(Key, Score, Title, Date, Snippet, Matches);
}

/// <summary>A replica's health: whether it serves reads (caught up with a live peer), and what it holds.</summary>
[GenerateSerializer, Immutable]
public sealed class ReplicaStatus
{
    [Id(0)] public required int Shard { get; init; }
    [Id(1)] public required string Silo { get; init; }
    [Id(2)] public required bool Ready { get; init; }
    [Id(3)] public required int Papers { get; init; }
    [Id(4)] public string? ModelId { get; init; }
    [Id(5)] public string? Note { get; init; }
    /// <summary>The replicas this one must compare with after a restart (it and every peer that may hold writes it lacks), and that record's epoch.</summary>
    [Id(6)] public string[] InSync { get; init; } = [];
    [Id(7)] public long InSyncEpoch { get; init; }
}

/// <summary>
/// One paper in a replica's listing, for catching up: its key, a hash of the whole stored record,
/// and how many versions and digests it has (a record that grew in either is the newer).
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct ListedPaper([property: Id(0)] long Key, [property: Id(1)] ulong RecordHash, [property: Id(2)] int Versions, [property: Id(3)] int Digests,
    [property: Id(4)] int Bytes)
{
    /// <summary>The listing of a stored paper; <see cref="Bytes"/> is its encoded size, so catching up copies in batches bounded by bytes.</summary>
    public static ListedPaper Of(PaperRecord paper)
    {
        byte[] encoded = RecordCodec.EncodePaper(paper);
        return new(paper.Key, System.IO.Hashing.XxHash3.HashToUInt64(encoded), paper.PreviousVersions.Count, paper.Digests.Count, encoded.Length);
    }

    /// <summary>Whether this (a peer's) is newer than <paramref name="mine"/>: it differs and holds more versions or more digests.</summary>
    public bool NewerThan(ListedPaper mine) =>
        RecordHash != mine.RecordHash && (Versions, Digests).CompareTo((mine.Versions, mine.Digests)) > 0;
}

/// <summary>A paper of a digest as one shard shows it (<see cref="Ingest.DigestListing"/>).</summary>
[GenerateSerializer, Immutable]
public sealed class ShardDigestListing
{
    [Id(0)] public required long Key { get; init; }
    [Id(1)] public required string Title { get; init; }
    [Id(2)] public required DateOnly FirstSeen { get; init; }
    [Id(3)] public required string[] SeenIn { get; init; }
    [Id(4)] public required string Snippet { get; init; }
    [Id(5)] public string? SameAs { get; init; }

    public static ShardDigestListing Of(Ingest.DigestListing l) =>
        new() { Key = l.Key, Title = l.Title, FirstSeen = l.FirstSeen, SeenIn = [.. l.SeenIn], Snippet = l.Snippet, SameAs = l.SameAs };

    public Ingest.DigestListing ToListing() => new(Key, Title, FirstSeen, SeenIn, Snippet, SameAs);
}

/// <summary>
/// A shard's part of a recommendation: the reader's model (as the client trained it) and which
/// ranking to run with it, the model's score or BM25 of the library's profile terms.
/// </summary>
[GenerateSerializer, Immutable]
public sealed class ShardRecommend
{
    [Id(0)] public required Recommend.RecommendStrategy Strategy { get; init; }
    [Id(1)] public float[]? Direction { get; init; }
    [Id(2)] public float[]? ClassifierWeights { get; init; }
    [Id(3)] public double ClassifierBias { get; init; }
    [Id(4)] public required long[] LikedKeys { get; init; }
    [Id(5)] public required float[][] LikedVectors { get; init; }
    [Id(6)] public required long[] DislikedKeys { get; init; }
    [Id(7)] public required float[][] DislikedVectors { get; init; }
    /// <summary>Semantic: rank by the model's score; Lexical: BM25 of <see cref="ProfileTerms"/>.</summary>
    [Id(8)] public required Search.SearchMode Ranking { get; init; }
    [Id(9)] public string[] ProfileTerms { get; init; } = [];
    [Id(10)] public float[] ProfileWeights { get; init; } = [];
    [Id(11)] public required int Depth { get; init; }
    [Id(12)] public DateOnly? From { get; init; }
    [Id(13)] public DateOnly? To { get; init; }
    [Id(14)] public long[] Exclude { get; init; } = [];
    [Id(15)] public long[]? Candidates { get; init; }

    public static ShardRecommend Of(Recommend.LibraryModel model, Search.SearchMode ranking, int depth, Search.SearchScope scope, IReadOnlyCollection<long>? candidates,
        IReadOnlyList<(string Term, float Weight)>? profile = null) => new()
    {
        ProfileTerms = profile?.Select(p => p.Term).ToArray() ?? [], ProfileWeights = profile?.Select(p => p.Weight).ToArray() ?? [],
        Strategy = model.Strategy, Direction = model.Direction, ClassifierWeights = model.Classifier?.Weights, ClassifierBias = model.Classifier?.Bias ?? 0,
        LikedKeys = model.Liked.Select(e => e.Key).ToArray(), LikedVectors = model.Liked.Select(e => e.Vector).ToArray(),
        DislikedKeys = model.Disliked.Select(e => e.Key).ToArray(), DislikedVectors = model.Disliked.Select(e => e.Vector).ToArray(),
        Ranking = ranking, Depth = depth, From = scope.From, To = scope.To, Exclude = [.. scope.Exclude], Candidates = candidates?.ToArray(),
    };

    public Recommend.LibraryModel Model() => new()
    {
        Strategy = Strategy, Direction = Direction,
        Classifier = ClassifierWeights == null ? null : Recommend.LogisticRegression.Of(ClassifierWeights, ClassifierBias),
        Liked = LikedKeys.Zip(LikedVectors).ToList(), Disliked = DislikedKeys.Zip(DislikedVectors).ToList(),
    };

    public Search.SearchScope Scope() => new() { K = Depth, From = From, To = To, Exclude = Exclude.ToHashSet() };
}

/// <summary>A paper a shard ranked for a reader: the hit, and the liked papers it is closest to (keys: their titles are on their own shards).</summary>
[GenerateSerializer, Immutable]
public sealed class ShardRecommendHit
{
    [Id(0)] public required ShardHit Hit { get; init; }
    [Id(1)] public required long[] BecauseKeys { get; init; }
    [Id(2)] public required float[] BecauseSimilarities { get; init; }
}

/// <summary>A stored paper's vector and title (a recommendation's examples and background).</summary>
[GenerateSerializer, Immutable]
public readonly record struct ShardVector([property: Id(0)] long Key, [property: Id(1)] string Title, [property: Id(2)] float[] Vector);

/// <summary>How many of a shard's papers hold each asked term, and how many it indexes.</summary>
[GenerateSerializer, Immutable]
public readonly record struct ShardDocFreqs([property: Id(0)] int[] DocFreqs, [property: Id(1)] int Docs);

/// <summary>Listed papers whose duplicate candidates a shard looks for among its own listed papers.</summary>
[GenerateSerializer, Immutable]
public sealed class ShardDuplicateQuery
{
    [Id(0)] public required long[] Keys { get; init; }
    [Id(1)] public required float[][] Vectors { get; init; }
    /// <summary>This shard's papers listed by the digests in scope: the only ones a candidate may be.</summary>
    [Id(2)] public required long[] Listed { get; init; }
}

/// <summary>One listed paper's candidates on one shard, best first.</summary>
[GenerateSerializer, Immutable]
public readonly record struct ShardCandidates([property: Id(0)] long Key, [property: Id(1)] long[] Others, [property: Id(2)] float[] Cosines);

/// <summary>A change to a reader's library, by paper keys (resolved by the client), with the time every replica records.</summary>
[GenerateSerializer, Immutable]
public sealed class ShardLibraryChange
{
    [Id(0)] public required string Name { get; init; }
    [Id(1)] public long[] Like { get; init; } = [];
    [Id(2)] public long[] Dislike { get; init; } = [];
    [Id(3)] public long[] Remove { get; init; } = [];
    [Id(4)] public bool Replace { get; init; }
    [Id(5)] public required DateTimeOffset At { get; init; }
}

/// <summary>What a replica holds, for a peer catching up: every paper's listing, and its digest records and libraries whole (encoded).</summary>
[GenerateSerializer, Immutable]
public sealed class ReplicaListing
{
    [Id(0)] public required ListedPaper[] Papers { get; init; }
    [Id(1)] public required byte[][] Digests { get; init; }
    [Id(2)] public required byte[][] Libraries { get; init; }
    /// <summary>The replica's deletes: per key, when last deleted and when last ingested again after a delete (UTC ticks).</summary>
    [Id(3)] public long[] DeletedKeys { get; init; } = [];
    [Id(4)] public long[] DeletedAt { get; init; } = [];
    [Id(5)] public long[] RevivedAt { get; init; } = [];
}

/// <summary>What a shard's papers answer to: per asked source id and per asked title key, the stored paper's key (0: none here).</summary>
[GenerateSerializer, Immutable]
public readonly record struct ShardKnownKeys([property: Id(0)] long[] BySourceId, [property: Id(1)] long[] ByTitle);

/// <summary>One paper of a deleted digest on one shard: deleted, or kept with its reason (<see cref="Storage.KeptBecause"/>) and detail.</summary>
[GenerateSerializer, Immutable]
public readonly record struct ShardDigestPaper([property: Id(0)] long Key, [property: Id(1)] string Title, [property: Id(2)] bool Kept,
    [property: Id(3)] Storage.KeptBecause Reason, [property: Id(4)] string Detail);

/// <summary>What a replica did when a digest was deleted: whether it held the digest's record, and its papers' fates.</summary>
[GenerateSerializer, Immutable]
public sealed class ShardDigestDeletion
{
    [Id(0)] public bool HadDigest { get; init; }
    [Id(1)] public ShardDigestPaper[] Papers { get; init; } = [];

    public static ShardDigestDeletion Of(Storage.DigestDeletion? deletion) => deletion == null ? new() : new()
    {
        HadDigest = true,
        Papers = [.. deletion.Deleted.Select(p => new ShardDigestPaper(p.Key, p.Title, false, default, "")),
                  .. deletion.Kept.Select(p => new ShardDigestPaper(p.Key, p.Title, true, p.Reason, p.Detail))],
    };
}
