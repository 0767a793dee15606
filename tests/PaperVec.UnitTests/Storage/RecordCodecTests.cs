using PaperVec.Storage;

namespace PaperVec.Tests.Storage;

public class RecordCodecTests
{
    static PaperRecord Sample(string? sourceId = "2503.01234", int dim = 384) => new()
    {
        Key = PaperIdentity.KeyOfTitle("Grad-CAM: Visual Explanations"),
        Title = "Grad-CAM: Visual Explanations",
        Abstract = "We propose a technique… naïve ☃ 中文",
        SourceId = sourceId,
        Authors = null,
        Url = "https://arxiv.org/abs/2503.01234",
        Categories = "cs.CV cs.LG",
        FirstSeen = new DateOnly(2025, 3, 11),
        Digests = ["2025-03-11/daily-papers", "2025-03-12/daily-papers"],
        ModelId = "all-MiniLM-L6-v2/6638f625a0a6/b1",
        Vector = Enumerable.Range(0, dim).Select(i => MathF.Sin(i)).ToArray(),
    };

    [Fact]
    public void PaperRoundTripsEveryField()
    {
        var paper = Sample();
        var decoded = RecordCodec.ReadPaper(RecordCodec.EncodePaper(paper));
        Assert.Equal(paper.Key, decoded.Key);
        Assert.Equal(paper.Title, decoded.Title);
        Assert.Equal(paper.Abstract, decoded.Abstract);
        Assert.Equal(paper.SourceId, decoded.SourceId);
        Assert.Null(decoded.Authors);
        Assert.Equal(paper.Url, decoded.Url);
        Assert.Equal(paper.Categories, decoded.Categories);
        Assert.Equal(paper.FirstSeen, decoded.FirstSeen);
        Assert.Equal(paper.Digests, decoded.Digests);
        Assert.Equal(paper.ModelId, decoded.ModelId);
        Assert.Equal(paper.Vector, decoded.Vector);
    }

    [Fact]
    public void PreviousVersionsRoundTripAndDoNotMoveTheVector()
    {
        var paper = Sample() with { PreviousVersions = [new PaperVersion("Old title", "Old abstract ☃", [1f, 2f, 3f]), new PaperVersion("Grad-CAM", "", [])] };
        var bytes = RecordCodec.EncodePaper(paper);
        var decoded = RecordCodec.ReadPaper(bytes);
        Assert.Equal(2, decoded.PreviousVersions.Count);
        Assert.Equal("Old abstract ☃", decoded.PreviousVersions[0].Abstract);
        Assert.Equal([1f, 2f, 3f], decoded.PreviousVersions[0].Vector);
        Assert.Equal(paper.PreviousVersions[1].TextHash, decoded.PreviousVersions[1].TextHash);
        var vector = new float[384];
        RecordCodec.ReadPaperVector(bytes, vector);
        Assert.Equal(paper.Vector, vector);
        Assert.Equal(paper.PreviousVersions[0], decoded.VersionOf(paper.PreviousVersions[0].TextHash) with { Vector = paper.PreviousVersions[0].Vector });
        Assert.Equal(paper.Title, decoded.VersionOf(0).Title);
    }

    /// <summary>A paper in layout 3: layout 4 with the digest count as a u16 (the i32's two high bytes, zero here, removed).</summary>
    static byte[] Version3Paper(PaperRecord paper)
    {
        var bytes = RecordCodec.EncodePaper(paper).ToList();
        int at = 2 + 8 + 4;
        for (int i = 0; i < 7; i++)
        {
            uint n = BitConverter.ToUInt32(bytes.ToArray(), at);
            at += 4 + (n == uint.MaxValue ? 0 : (int)n);
        }
        bytes.RemoveRange(at + 2, 2);
        bytes[1] = 3;
        return [.. bytes];
    }

    [Fact]
    public void Version3PapersWithAU16DigestCountStillRead()
    {
        var decoded = RecordCodec.ReadPaper(Version3Paper(Sample()));
        Assert.Equal(Sample().Digests, decoded.Digests);
        Assert.Equal(Sample().Vector, decoded.Vector);
        var vector = new float[384];
        Assert.Equal(384, RecordCodec.ReadPaperVector(Version3Paper(Sample()), vector));
        Assert.Equal(Sample().Vector, vector);
    }

    [Fact]
    public void APaperListedInMoreThan65535DigestsRoundTrips()
    {
        // Layout 3 wrote the count as a u16: 70,000 digests came back as 4,464 and the rest of the record was misread.
        var digests = Enumerable.Range(0, 70_000).Select(i => $"{i}/d").ToArray();
        var paper = Sample() with { Digests = digests };
        var encoded = RecordCodec.EncodePaper(paper);
        Assert.Equal(RecordCodec.PaperSize(paper), encoded.Length);
        var decoded = RecordCodec.ReadPaper(encoded);
        Assert.Equal(70_000, decoded.Digests.Count);
        Assert.Equal(digests[^1], decoded.Digests[^1]);
        Assert.Equal(paper.Vector, decoded.Vector);
        var vector = new float[384];
        RecordCodec.ReadPaperVector(encoded, vector);
        Assert.Equal(paper.Vector, vector);
    }

    [Fact]
    public void Version1RecordsStillRead()
    {
        // Layout 1 is layout 2 without the appended fields: previous versions of papers, listing hashes of digests.
        var paper = Version3Paper(Sample());
        var v1Paper = paper[..^2];
        v1Paper[1] = 1;
        var decodedPaper = RecordCodec.ReadPaper(v1Paper);
        Assert.Equal(Sample().Vector, decodedPaper.Vector);
        Assert.Empty(decodedPaper.PreviousVersions);

        var digest = RecordCodec.EncodeDigest(new DigestRecord("2025-03-11/d", new DateOnly(2025, 3, 11), "d", [5, 3], DateTimeOffset.UnixEpoch) { ListingHashes = [7, 8], StoredCopies = [9, 0] });
        var v1Digest = digest[..^32];
        v1Digest[1] = 1;
        var decodedDigest = RecordCodec.ReadDigest(v1Digest);
        Assert.Equal([5L, 3L], decodedDigest.PaperKeys);
        Assert.Equal(0UL, decodedDigest.ListingHash(1));
        Assert.False(decodedDigest.HasStoredCopies);
    }

    [Fact]
    public void Version2DigestsReadWithoutStoredCopies()
    {
        // Layout 2 is layout 3 without a digest's stored-copy keys (papers did not change).
        var digest = RecordCodec.EncodeDigest(new DigestRecord("2025-03-11/d", new DateOnly(2025, 3, 11), "d", [5, 3], DateTimeOffset.UnixEpoch) { ListingHashes = [7, 8], StoredCopies = [9, 0] });
        var v2Digest = digest[..^16];
        v2Digest[1] = 2;
        var decoded = RecordCodec.ReadDigest(v2Digest);
        Assert.Equal([5L, 3L], decoded.PaperKeys);
        Assert.Equal([7UL, 8UL], decoded.ListingHashes);
        Assert.Empty(decoded.StoredCopies);
        Assert.False(decoded.HasStoredCopies);
        Assert.Equal(0L, decoded.StoredCopy(0));

        var paper = Version3Paper(Sample());
        paper[1] = 2;
        Assert.Equal(Sample().Vector, RecordCodec.ReadPaper(paper).Vector);
    }

    [Fact]
    public void VectorIsReadWithoutDecodingTheRest()
    {
        var paper = Sample();
        var vector = new float[384];
        Assert.Equal(384, RecordCodec.ReadPaperVector(RecordCodec.EncodePaper(paper), vector));
        Assert.Equal(paper.Vector, vector);
    }

    [Fact]
    public void RecordFromAFutureVersionIsRejectedClearly()
    {
        var bytes = RecordCodec.EncodePaper(Sample());
        bytes[1] = RecordCodec.CurrentVersion + 1;
        var error = Assert.Throws<InvalidDataException>(() => RecordCodec.ReadPaper(bytes));
        Assert.Contains("newer than this PaperVec", error.Message);
    }

    [Fact]
    public void TruncatedRecordIsRejected()
    {
        var bytes = RecordCodec.EncodePaper(Sample());
        for (int cut = 0; cut < bytes.Length; cut += 97)
            Assert.Throws<InvalidDataException>(() => RecordCodec.ReadPaper(bytes.AsSpan(0, cut)));
    }

    [Fact]
    public void DigestRoundTrips()
    {
        var digest = new DigestRecord("2025-03-11/daily-papers", new DateOnly(2025, 3, 11), "daily-papers", [5, 3, 9], DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123))
            { ListingHashes = [11, ulong.MaxValue, 1], StoredCopies = [0, 42, long.MinValue] };
        var decoded = RecordCodec.ReadDigest(RecordCodec.EncodeDigest(digest));
        Assert.Equal(digest.Id, decoded.Id);
        Assert.Equal(digest.Date, decoded.Date);
        Assert.Equal(digest.Source, decoded.Source);
        Assert.Equal(digest.PaperKeys, decoded.PaperKeys);
        Assert.Equal(digest.IngestedAt, decoded.IngestedAt);
        Assert.Equal(digest.ListingHashes, decoded.ListingHashes);
        Assert.Equal(digest.StoredCopies, decoded.StoredCopies);
        Assert.True(decoded.HasStoredCopies);
    }

    [Theory]
    [InlineData("Grad-CAM: Visual Explanations", "grad cam visual explanations")]
    [InlineData("  GRAD—CAM:   visual\texplanations!! ", "grad cam visual explanations")]
    [InlineData("Ｆｕｌｌ-width Ｔｉｔｌｅ", "full width title")]
    [InlineData("Straße der Modelle", "strasse der modelle")]
    public void TitlesNormalizeToOneForm(string title, string expected)
    {
        Assert.Equal(expected, PaperIdentity.NormalizeTitle(title));
        Assert.Equal(PaperIdentity.KeyOfTitle(expected), PaperIdentity.KeyOfTitle(title));
    }

    [Fact]
    public void DifferentTitlesGetDifferentKeysThatFormatAndParse()
    {
        long a = PaperIdentity.KeyOfTitle("Grad-CAM"), b = PaperIdentity.KeyOfTitle("Smooth Grad-CAM++");
        Assert.NotEqual(a, b);
        Assert.True(PaperIdentity.TryParse(PaperIdentity.Format(a), out long parsed));
        Assert.Equal(a, parsed);
        Assert.False(PaperIdentity.TryParse("not-an-id", out _));
        Assert.Throws<ArgumentException>(() => PaperIdentity.KeyOfTitle(" -- "));
    }
}
