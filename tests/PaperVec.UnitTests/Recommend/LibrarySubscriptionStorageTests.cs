using PaperVec.Engine;
using PaperVec.Storage;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Recommend;

/// <summary>A library's e-mail subscription and its sent marks are part of its record: logged, recovered after a kill -9, kept when the lists are replaced.</summary>
public class LibrarySubscriptionStorageTests
{
    [Fact]
    public async Task ASubscriptionAndItsSentMarksSurviveAKill9AndAReplacedLibrary()
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(3);
        var papers = Enumerable.Range(1, 3).Select(n => StoreTestData.Paper(n, random)).ToList();
        try
        {
            var collection = await PaperCollection.OpenAsync(dir);
            collection.Database.Commit(papers.Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p)));
            Assert.Null(await collection.SubscribeAsync("alice", "a@example.org", 5)); // no such library
            await collection.PutLibraryAsync("alice", [papers[0].Id], []);
            Assert.Throws<InvalidDataException>(() => collection.SubscribeAsync("alice", "not an address", 5).GetAwaiter().GetResult());
            Assert.Throws<InvalidDataException>(() => collection.SubscribeAsync("alice", "a@example.org", 0).GetAwaiter().GetResult());
            var subscribed = await collection.SubscribeAsync("alice", "a@example.org", 5);
            await collection.MarkMailedAsync("alice", "2025-03-12/daily");
            await collection.MarkMailedAsync("alice", "2025-03-12/daily"); // once
            await collection.PutLibraryAsync("alice", [papers[1].Id], [papers[2].Id]); // the lists replaced, the subscription kept
            collection.Database.Abandon(); // kill -9: all of it only in the log

            await using var reopened = await PaperCollection.OpenAsync(dir);
            var alice = reopened.Library("alice")!;
            Assert.Equal([papers[1].Key], alice.Liked);
            Assert.Equal(new LibrarySubscription("a@example.org", 5, subscribed!.Subscription!.Since), alice.Subscription);
            Assert.Equal(["2025-03-12/daily"], alice.Mailed);
            var ended = await reopened.SubscribeAsync("alice", null, 0);
            Assert.Null(ended!.Subscription);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AVersion4LibraryReadsWithoutASubscriptionAndADamagedOneIsRefused()
    {
        var library = new ReaderLibrary("bob", [1, 2], [3], DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000))
        {
            Subscription = new LibrarySubscription("b@example.org", 7, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_001_000)),
            Mailed = ["d1", "d2"],
        };
        var bytes = RecordCodec.EncodeLibrary(library);
        var read = RecordCodec.ReadLibrary(bytes);
        Assert.Equal(library.Subscription, read.Subscription);
        Assert.Equal(library.Mailed, read.Mailed);
        // Version 4's layout is version 5's without the appended fields.
        int v4Length = 2 + 8 + 4 + 3 + 4 + 2 * 8 + 4 + 8;
        var v4 = bytes[..v4Length];
        v4[1] = 4;
        var old = RecordCodec.ReadLibrary(v4);
        Assert.Null(old.Subscription);
        Assert.Empty(old.Mailed);
        Assert.Equal(library.Liked, old.Liked);
        Assert.Throws<InvalidDataException>(() => RecordCodec.ReadLibrary(bytes[..(bytes.Length - 3)]));
    }
}
