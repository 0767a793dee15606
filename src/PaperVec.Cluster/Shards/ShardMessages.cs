using PaperVec.Digests;
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

    public static ShardPaper Of(IncomingPaper paper, float[] vector) => new()
    {
        Title = paper.Title, Abstract = paper.Abstract, SourceId = paper.SourceId, Authors = paper.Authors,
        Url = paper.Url, Categories = paper.Categories, Date = paper.Date, Vector = vector,
    };

    public static ShardPaper Of(PaperRecord record) => new()
    {
        Title = record.Title, Abstract = record.Abstract, SourceId = record.SourceId, Authors = record.Authors,
        Url = record.Url, Categories = record.Categories, Date = record.FirstSeen, Vector = record.Vector, Key = record.Key,
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
}

/// <summary>What a replica did with a write (its own counts; replicas of one shard agree when in step).</summary>
[GenerateSerializer, Immutable]
public sealed class ShardWriteResult
{
    [Id(0)] public int New { get; init; }
    [Id(1)] public int SeenExact { get; init; }
    [Id(2)] public int Revised { get; init; }
    [Id(3)] public required string[] Ids { get; init; }
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
}

/// <summary>One paper in a replica's listing, for catching up: its key and which text it holds.</summary>
[GenerateSerializer, Immutable]
public readonly record struct ListedPaper([property: Id(0)] long Key, [property: Id(1)] ulong TextHash, [property: Id(2)] int Versions);

/// <summary>A replica is catching up with its peers and does not serve reads yet: ask another.</summary>
[GenerateSerializer]
public sealed class ReplicaNotReadyException : Exception
{
    public ReplicaNotReadyException(string message) : base(message) { }
}
