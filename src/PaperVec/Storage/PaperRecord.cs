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
    /// <summary>
    /// Earlier texts of this paper as digests listed them (oldest first, at most
    /// <see cref="MaxPreviousVersions"/>), kept so duplicate reports can show what changed.
    /// </summary>
    public IReadOnlyList<PaperVersion> PreviousVersions { get; init; } = [];

    public const int MaxPreviousVersions = 8;

    public string Id => PaperIdentity.Format(Key);
    public ulong TextHash => PaperIdentity.TextHash(Title, Abstract);

    /// <summary>The version whose text hashes to <paramref name="textHash"/> (0, unknown, means the current one).</summary>
    public PaperVersion VersionOf(ulong textHash)
    {
        if (textHash != 0 && textHash != TextHash)
            foreach (var v in PreviousVersions)
                if (v.TextHash == textHash) return v;
        return new PaperVersion(Title, Abstract, Vector);
    }
}

/// <summary>One text of a paper and its embedding.</summary>
public sealed record PaperVersion(string Title, string Abstract, float[] Vector)
{
    public ulong TextHash => PaperIdentity.TextHash(Title, Abstract);
}

/// <summary>One ingested digest: its id (date + source name), the ordered paper keys it listed, when it was ingested.</summary>
public sealed record DigestRecord(string Id, DateOnly Date, string Source, IReadOnlyList<long> PaperKeys, DateTimeOffset IngestedAt)
{
    /// <summary>
    /// Per listing, the hash of the text the digest listed (<see cref="PaperIdentity.TextHash"/>), so a
    /// later revision of the paper does not hide what this digest said; 0 where unknown (older layout).
    /// </summary>
    public IReadOnlyList<ulong> ListingHashes { get; init; } = [];

    public ulong ListingHash(int index) => index < ListingHashes.Count ? ListingHashes[index] : 0;

    /// <summary>
    /// Per listing, the key of the stored paper that the listed one is a reworded copy of (decided at
    /// ingest by <c>DuplicateFinder.StoredCopyOf</c>), 0 when none. Empty for digests stored before
    /// layout 3: then <see cref="HasStoredCopies"/> is false and the decision must be made again.
    /// </summary>
    public IReadOnlyList<long> StoredCopies { get; init; } = [];

    /// <summary>Whether this record holds the ingest's copy decisions (every digest since layout 3).</summary>
    public bool HasStoredCopies => StoredCopies.Count == PaperKeys.Count;

    public long StoredCopy(int index) => index < StoredCopies.Count ? StoredCopies[index] : 0;
}
