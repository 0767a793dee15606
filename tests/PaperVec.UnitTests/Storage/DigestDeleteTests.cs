using PaperVec.Duplicates;
using PaperVec.Engine;
using PaperVec.Ingest;
using PaperVec.Storage;

namespace PaperVec.Tests.Storage;

/// <summary>
/// Undoing a digest (issue 29 item 2): the digest and the papers only it brought go in one durable
/// write; papers another digest lists, a record ingest brought or a library names are kept, each
/// with its reason; the delete is replayed after a kill -9 and verify checks membership.
/// </summary>
public class DigestDeleteTests
{
    static readonly PaperIngestor.DigestInfo Mistaken = new("2026-03-11/digest", new DateOnly(2026, 3, 11), "digest");
    static readonly PaperIngestor.DigestInfo Earlier = new("2025-03-10/digest", new DateOnly(2025, 3, 10), "digest");

    static IncomingPaper Listing(int n, Random random) =>
        new($"Digest paper number {n}", $"Abstract of digest paper {n}: " + string.Join(" ", Enumerable.Repeat($"topic{n} methods and results", 12)))
        { Vector = StoreTestData.UnitVector(random) };

    /// <summary>
    /// The earlier digest lists papers 1 and 2; a record ingest brings paper 3 (with an arXiv id); the mistaken
    /// digest lists papers 1..7, and a library likes paper 4 and dislikes paper 5. Papers 6 and 7 only it brought.
    /// </summary>
    static async Task<(PaperCollection Collection, List<IncomingPaper> Papers)> FilledAsync(string dir)
    {
        var random = new Random(29);
        var papers = Enumerable.Range(1, 7).Select(n => Listing(n, random)).ToList();
        var collection = await PaperCollection.OpenAsync(dir);
        await collection.IngestAsync(papers[..2], Earlier);
        await collection.IngestAsync([papers[2] with { SourceId = "2503.00003", Authors = "A. Author" }]);
        // The digest's text gives title and abstract only: what a digest ingest sees.
        await collection.IngestAsync(papers.Select(p => new IncomingPaper(p.Title, p.Abstract) { Vector = p.Vector }).ToList(), Mistaken);
        await collection.PutLibraryAsync("alice", [Id(papers[3])], [Id(papers[4])]);
        return (collection, papers);
    }

    static long Key(IncomingPaper paper) => PaperIdentity.KeyOfTitle(paper.Title);
    static string Id(IncomingPaper paper) => PaperIdentity.Format(Key(paper));

    [Fact]
    public async Task DeletingADigestDeletesOnlyThePapersItAloneBroughtAndSaysWhyTheOthersStay()
    {
        string dir = StoreTestData.TempDir();
        try
        {
            var (collection, papers) = await FilledAsync(dir);
            await using var _ = collection;
            Assert.NotEmpty(await collection.DuplicatesAsync(new DuplicateScope(null, null, null))); // papers 1 and 2, listed twice
            var deletion = await collection.DeleteDigestAsync(Mistaken.Id);

            Assert.NotNull(deletion);
            Assert.Equal([Key(papers[5]), Key(papers[6])], deletion.Deleted.Select(p => p.Key));
            var kept = deletion.Kept.ToDictionary(p => p.Key);
            Assert.Equal(KeptBecause.OtherDigest, kept[Key(papers[0])].Reason);
            Assert.Contains(Earlier.Id, kept[Key(papers[0])].Detail);
            Assert.Equal(KeptBecause.OtherDigest, kept[Key(papers[1])].Reason);
            Assert.Equal(KeptBecause.Record, kept[Key(papers[2])].Reason);
            Assert.Equal(KeptBecause.Library, kept[Key(papers[3])].Reason);
            Assert.Contains("alice", kept[Key(papers[3])].Detail);
            Assert.Equal(KeptBecause.Library, kept[Key(papers[4])].Reason); // a dislike refers to it too
            Assert.Equal(5, deletion.Kept.Count);
            Assert.Equal(new Dictionary<KeptBecause, int> { [KeptBecause.OtherDigest] = 2, [KeptBecause.Record] = 1, [KeptBecause.Library] = 2 }, deletion.KeptByReason);
            Assert.Equal($"deleted digest {Mistaken.Id}: 2 papers deleted, 5 kept (2 listed by another digest, 1 ingested as a record, 2 in a library)", deletion.Summary);

            AssertUndone(collection, papers);
            // The digest views and dupes no longer know it.
            Assert.Null(await collection.DigestAsync(Mistaken.Id));
            Assert.Equal([Earlier.Id], (await collection.DigestsAsync()).Select(d => d.Id));
            await Assert.ThrowsAsync<DigestNotFoundException>(() => collection.DuplicatesAsync(new DuplicateScope(null, null, new HashSet<string> { Mistaken.Id })));
            Assert.Empty(await collection.DuplicatesAsync(new DuplicateScope(null, null, null)));
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>The state after undoing the mistaken digest, from memory and from the store alike.</summary>
    static void AssertUndone(PaperCollection collection, List<IncomingPaper> papers)
    {
        var db = collection.Database;
        Assert.Null(db.Catalog.GetDigest(Mistaken.Id));
        Assert.NotNull(db.Catalog.GetDigest(Earlier.Id));
        foreach (var gone in papers[5..])
        {
            Assert.False(db.Catalog.Contains(Key(gone)));
            Assert.Null(db.GetPaper(Key(gone)));
            Assert.Null(db.Catalog.ResolveId(Id(gone)));
        }
        Assert.Equal(5, db.PaperCount);
        foreach (var stays in papers[..5])
        {
            var paper = db.GetPaper(Key(stays))!;
            Assert.DoesNotContain(Mistaken.Id, paper.Digests);
        }
        Assert.Equal([Earlier.Id], db.GetPaper(Key(papers[0]))!.Digests);
        Assert.Empty(db.GetPaper(Key(papers[2]))!.Digests);
        Assert.Equal(Key(papers[2]), db.Catalog.ResolveId("2503.00003"));
        Assert.True(db.IndexMatchesStore(out string problem), problem);
        var report = db.Verify();
        Assert.True(report.Sound, string.Join("; ", report.Problems));
    }

    [Fact]
    public async Task TheDeleteIsOneLogEntryReplayedAfterAKill9BeforeAndAfterACheckpoint()
    {
        foreach (bool checkpointFirst in new[] { false, true })
        {
            string dir = StoreTestData.TempDir();
            try
            {
                var (collection, papers) = await FilledAsync(dir);
                if (checkpointFirst) collection.Database.Checkpoint();
                int entries = collection.Database.Recovery.ReplayedBatches;
                long before = collection.Database.LogTailAddress;
                await collection.DeleteDigestAsync(Mistaken.Id);
                Assert.NotEqual(before, collection.Database.LogTailAddress);
                collection.Database.Abandon(); // kill -9: only the log has the delete

                await using var reopened = await PaperCollection.OpenAsync(dir);
                Assert.Equal(checkpointFirst ? 1 : 5, reopened.Database.Recovery.ReplayedBatches); // the delete is one entry
                AssertUndone(reopened, papers);
                Assert.Null(await reopened.DeleteDigestAsync(Mistaken.Id)); // gone for good: a second delete finds nothing
            }
            finally { Directory.Delete(dir, true); }
        }
    }

    [Fact]
    public async Task AnUnknownDigestWritesNothing()
    {
        string dir = StoreTestData.TempDir();
        try
        {
            var (collection, _) = await FilledAsync(dir);
            await using var __ = collection;
            long tail = collection.Database.LogTailAddress;
            Assert.Null(await collection.DeleteDigestAsync("2026-03-12/digest"));
            Assert.Null(await ((IPaperCollection)collection).DeleteDigestAsync("nope"));
            Assert.Equal(tail, collection.Database.LogTailAddress);
            Assert.Equal(7, collection.PaperCount);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task LibrariesHeldElsewhereKeepTheirPapers()
    {
        // A cluster shard holds no library of the paper's own: the client names them.
        string dir = StoreTestData.TempDir();
        try
        {
            var (collection, papers) = await FilledAsync(dir);
            await using var _ = collection;
            var deletion = await collection.DeleteDigestAsync(Mistaken.Id, new Dictionary<long, string> { [Key(papers[6])] = "bob" });
            Assert.Equal([Key(papers[5])], deletion!.Deleted.Select(p => p.Key));
            Assert.Equal("library 'bob' names it", deletion.Kept.Single(p => p.Key == Key(papers[6])).Detail);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task VerifyReportsAPaperListingADigestThatIsNotStored()
    {
        string dir = StoreTestData.TempDir();
        try
        {
            var (collection, papers) = await FilledAsync(dir);
            await using var _ = collection;
            // The digest record alone removed (as a half-applied delete would leave it): its papers still name it.
            await collection.Database.CommitAsync(new WriteBatch().DeleteDigest(Mistaken.Id));
            var report = collection.Database.Verify();
            Assert.False(report.Sound);
            Assert.Contains(report.Problems, p => p.Contains(Id(papers[6])) && p.Contains($"lists digest {Mistaken.Id}, which is not stored"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ADigestDeleteRoundTripsThroughTheLogEncoding()
    {
        var batch = WriteBatch.Decode(new WriteBatch().DeletePaper(7).DeleteDigest("2026-03-11/daily papers é").Encode());
        Assert.Equal([WriteBatch.Kind.DeletePaper, WriteBatch.Kind.DeleteDigest], batch.Changes.Select(c => c.Kind));
        Assert.Equal("2026-03-11/daily papers é", batch.Changes[1].Alias);
    }
}
