namespace PaperVec.Storage;

/// <summary>
/// A stored paper: identity, text, where and when it was seen, and its embedding with the id of the
/// model that made it (a different model id means the vector must be re-made, never mixed).
/// </summary>
public sealed record PaperRecord
{
    public required long Key { get; init; }
    public required string Title { get; init; }
    public required string Abstract { get; init; }
    public string? SourceId { get; init; }
    public string? Authors { get; init; }
    public string? Url { get; init; }
    public string? Categories { get; init; }
    public required DateOnly FirstSeen { get; init; }
    /// <summary>Digest ids this paper was listed in, oldest first.</summary>
    public IReadOnlyList<string> Digests { get; init; } = [];
    public required string ModelId { get; init; }
    public required float[] Vector { get; init; }

    public string Id => PaperIdentity.Format(Key);
}

/// <summary>One ingested digest: its id (date + source name), the ordered paper keys it listed, when it was ingested.</summary>
public sealed record DigestRecord(string Id, DateOnly Date, string Source, IReadOnlyList<long> PaperKeys, DateTimeOffset IngestedAt);
