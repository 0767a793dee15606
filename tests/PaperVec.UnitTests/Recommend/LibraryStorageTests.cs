using PaperVec.Engine;
using PaperVec.Recommend;
using PaperVec.Storage;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Recommend;

/// <summary>Readers' libraries are stored like papers: one durable write each, replayed after a crash, kept by checkpoints, nothing half-written on a refused change.</summary>
public class LibraryStorageTests
{
    static List<PaperRecord> Papers(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(1, count).Select(n => StoreTestData.Paper(n, random)).ToList();
    }

    [Fact]
    public void ALibraryRecordRoundTripsThroughTheCodecAndTheLog()
    {
        var library = new ReaderLibrary("alice_2", [3, 1, 2], [9], DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123));
        var read = RecordCodec.ReadLibrary(RecordCodec.EncodeLibrary(library));
        Assert.Equal(library.Name, read.Name);
        Assert.Equal(library.Liked, read.Liked);
        Assert.Equal(library.Disliked, read.Disliked);
        Assert.Equal(library.UpdatedAt, read.UpdatedAt);
        var batch = WriteBatch.Decode(new WriteBatch().PutLibrary(library).DeleteLibrary("bob").Encode());
        Assert.Equal([WriteBatch.Kind.PutLibrary, WriteBatch.Kind.DeleteLibrary], batch.Changes.Select(c => c.Kind));
        Assert.Equal(library.Liked, batch.Changes[0].Library!.Liked);
        Assert.Equal("bob", batch.Changes[1].Alias);
        Assert.Throws<InvalidDataException>(() => RecordCodec.ReadLibrary(RecordCodec.EncodeLibrary(library)[..20]));
    }

    [Fact]
    public async Task LibrariesSurviveAKill9BeforeAndAfterACheckpoint()
    {
        string dir = StoreTestData.TempDir();
        var papers = Papers(6, 1);
        try
        {
            var collection = await PaperCollection.OpenAsync(dir);
            collection.Database.Commit(papers.Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p)));
            await collection.PutLibraryAsync("alice", [papers[0].Id, papers[1].Id], [papers[2].Id]);
            await collection.ChangeLibraryAsync("bob", [papers[3].Id], [], []);
            collection.Database.Checkpoint();
            await collection.ChangeLibraryAsync("alice", [papers[4].Id], [papers[1].Id], [papers[2].Id]); // after the checkpoint: only in the log
            await collection.DeleteLibraryAsync("bob");
            collection.Database.Abandon(); // kill -9

            await using var reopened = await PaperCollection.OpenAsync(dir);
            Assert.Equal(2, reopened.Database.Recovery.ReplayedBatches);
            var alice = reopened.Library("alice")!;
            Assert.Equal([papers[0].Key, papers[4].Key], alice.Liked);
            Assert.Equal([papers[1].Key], alice.Disliked);
            Assert.Null(reopened.Library("bob"));
            Assert.Equal(["alice"], reopened.Database.Catalog.Libraries().Select(l => l.Name));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task ARefusedChangeWritesNothing()
    {
        string dir = StoreTestData.TempDir();
        var papers = Papers(3, 2);
        try
        {
            await using var collection = await PaperCollection.OpenAsync(dir);
            collection.Database.Commit(papers.Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p)));
            await collection.PutLibraryAsync("alice", [papers[0].Id], []);
            long tail = collection.Database.LogTailAddress;

            var unknown = await Assert.ThrowsAsync<UnknownPapersException>(() => collection.ChangeLibraryAsync("alice", [papers[1].Id, "2501.00000"], [], []));
            Assert.Equal(["2501.00000"], unknown.Ids);
            await Assert.ThrowsAsync<InvalidDataException>(() => collection.PutLibraryAsync("alice", [papers[1].Id], [papers[1].Id]));
            foreach (var bad in new[] { "", "has space", "slash/name", new string('a', 65), "ünïcode" })
                Assert.Contains("not valid", (await Assert.ThrowsAsync<InvalidDataException>(() => collection.PutLibraryAsync(bad, [papers[1].Id], []))).Message);
            Assert.Equal(tail, collection.Database.LogTailAddress);
            Assert.Equal([papers[0].Key], collection.Library("alice")!.Liked);
            Assert.Null(collection.Library(new string('a', 64)));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task ALikedPaperDeletedLaterIsSkippedWhenRankingAndCanStillBeRemoved()
    {
        string dir = StoreTestData.TempDir();
        var papers = Papers(12, 3);
        try
        {
            await using var collection = await PaperCollection.OpenAsync(dir);
            collection.Database.Commit(papers.Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p)));
            await collection.PutLibraryAsync("alice", [papers[0].Id, papers[1].Id], []);
            await collection.DeleteAsync(papers[0].Id);
            var results = await collection.RecommendForLibraryAsync("alice", new Search.SearchScope { K = 5 });
            Assert.Equal(5, results!.Count);
            Assert.All(results, r => Assert.Equal(papers[1].Id, r.Because![0].Id));
            var library = await collection.ChangeLibraryAsync("alice", [], [], [papers[0].Id]);
            Assert.Equal([papers[1].Key], library.Liked);
            Assert.Null(await collection.RecommendForLibraryAsync("nobody", new Search.SearchScope()));
        }
        finally { Directory.Delete(dir, true); }
    }
}
