using System.Text.Json;
using PaperVec.Duplicates;
using PaperVec.Engine;
using PaperVec.Index;
using PaperVec.Ingest;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Engine;

/// <summary>
/// The seam in the fast lane: the coordinator over two in-process local shards (a "cluster of local shards",
/// every paper routed by its key, digests' manifests and libraries on their home shards) answers like one
/// node: ingest reports, exact semantic search, similar, recommendations, ranking a digest by a library,
/// digests and their listings, duplicates, deletes. Lexical and hybrid rankings are left out: BM25 uses
/// each shard's own statistics, as in a cluster.
/// </summary>
public sealed class CoordinatorOverLocalShardsTests : IAsyncLifetime
{
    readonly string[] _dirs = [StoreTestData.TempDir(), StoreTestData.TempDir(), StoreTestData.TempDir()];
    PaperCollection _node = null!;
    CollectionCoordinator _sharded = null!;
    LocalShard[] _shards = null!;
    readonly List<IncomingPaper> _day1 = [], _day2 = [];

    public async Task InitializeAsync()
    {
        _node = await PaperCollection.OpenAsync(_dirs[0]);
        _shards = [await LocalShard.OpenAsync(_dirs[1]), await LocalShard.OpenAsync(_dirs[2])];
        _sharded = new CollectionCoordinator(_shards);

        // Three topics of papers near a topic's centre; day 2 lists new papers, three of day 1's again and a reworded copy of one.
        var random = new Random(17);
        int n = 0;
        foreach (var (topic, words) in new[] { ("vision", "image segmentation pixels"), ("language", "token translation grammar"), ("robots", "gripper locomotion torque") })
        {
            var centre = StoreTestData.UnitVector(random);
            for (int i = 0; i < 24; i++)
            {
                n++;
                var paper = new IncomingPaper($"A study of {topic} number {n} with {words.Split(' ')[i % 3]}", $"We describe a {topic} method about {words}, variant {n} of {i}, and measure it.")
                {
                    SourceId = $"2501.{n:00000}", Date = new DateOnly(2025, 1, 2), Vector = Near(centre, random, 0.6f),
                };
                (i < 18 ? _day1 : _day2).Add(paper);
            }
        }
        _day2.AddRange(_day1.Take(3));
        var reworded = _day1[5];
        _day2.Add(reworded with { Title = reworded.Title + " revisited", SourceId = "2502.00001", Vector = Near(reworded.Vector!, random, 0.01f) });
    }

    static float[] Near(float[] centre, Random random, float noise)
    {
        var v = StoreTestData.UnitVector(random);
        for (int i = 0; i < v.Length; i++) v[i] = centre[i] + noise * v[i];
        VectorKernels.Normalize(v);
        return v;
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        await _sharded.DisposeAsync();
        foreach (var dir in _dirs) Directory.Delete(dir, true);
    }

    async Task IngestBothAsync()
    {
        foreach (var (papers, digest) in new[] { (_day1, new PaperIngestor.DigestInfo("day-1", new DateOnly(2025, 1, 2), "arxiv")), (_day2, new PaperIngestor.DigestInfo("day-2", new DateOnly(2025, 1, 3), "arxiv")) })
        {
            var expected = await _node.IngestAsync(papers, digest);
            var actual = await _sharded.IngestAsync(papers, digest);
            Assert.Equal(Show(expected), Show(actual));
        }
        var records = new List<IncomingPaper> { _day1[0] with { Abstract = _day1[0].Abstract + " Revised." }, _day2[4] };
        Assert.Equal(Show(await _node.IngestAsync(records)), Show(await _sharded.IngestAsync(records)));
        // Both shards hold papers, so every answer below is a merge.
        Assert.All(_shards, s => Assert.InRange(s.PaperCount, 1, _node.PaperCount - 1));
        Assert.Equal(_node.PaperCount, _sharded.PaperCount);
    }

    static string Show(IngestResult r) =>
        $"{string.Join(";", r.Listings.Select(l => $"{l.Key}:{l.Status}"))} | {string.Join(",", r.KeysByPosition)} | {string.Join(";", r.Twins.Select(t => $"{t.Key}:{string.Join(",", t.Positions)}"))} | {r.New}";

    static string Show(List<SearchResult>? results) => results == null ? "null" :
        string.Join("; ", results.Select(r => $"{r.Id} {r.Score} [{string.Join(",", r.Because?.Select(b => $"{b.Id}:{b.Similarity}") ?? [])}] {string.Join(",", r.SharedTerms ?? [])}"));

    [Fact]
    public async Task Search_and_similar_over_two_shards_equal_one_nodes()
    {
        await IngestBothAsync();
        var random = new Random(3);
        var stored = _day1.Concat(_day2).ToList();
        for (int q = 0; q < 9; q++)
        {
            var scope = new SearchScope { K = 10, Diversity = q % 3 == 2 ? 0.5 : 0 };
            var query = new SearchQuery("", stored[random.Next(stored.Count)].Vector, SearchMode.Semantic);
            Assert.Equal(Show(await _node.SearchAsync(query, scope)), Show(await _sharded.SearchAsync(query, scope)));
        }
        foreach (var paper in stored.Take(8))
        {
            string id = paper.SourceId!;
            Assert.Equal(Show(await _node.SimilarAsync(id, new SearchScope { K = 10 })), Show(await _sharded.SimilarAsync(id, new SearchScope { K = 10 })));
            Assert.Equal(Show(await _node.SimilarAsync(id, new SearchScope { K = 10, Diversity = 0.5 })), Show(await _sharded.SimilarAsync(id, new SearchScope { K = 10, Diversity = 0.5 })));
            Assert.Equal(Show(await _node.SimilarAsync(id, new SearchScope { K = 10 }, "day-2")), Show(await _sharded.SimilarAsync(id, new SearchScope { K = 10 }, "day-2")));
            Assert.DoesNotContain(PaperIdentity.Format(PaperIdentity.KeyOfTitle(paper.Title)), (await _sharded.SimilarAsync(id, new SearchScope { K = 10 }))!.Select(r => r.Id));
        }
        Assert.Null(await _sharded.SimilarAsync("no-such-paper", new SearchScope { K = 10 }));
        await Assert.ThrowsAsync<DigestNotFoundException>(() => _sharded.SimilarAsync(stored[0].SourceId!, new SearchScope { K = 10 }, "no-such-digest"));
    }

    [Fact]
    public async Task Recommendations_and_a_digest_ranked_by_a_library_over_two_shards_equal_one_nodes()
    {
        await IngestBothAsync();
        var ids = _day1.Concat(_day2).Select(p => p.SourceId!).Distinct().Order(StringComparer.Ordinal).ToList();
        var random = new Random(5);
        for (int reader = 0; reader < 3; reader++)
        {
            var liked = Enumerable.Range(0, 8).Select(_ => ids[random.Next(ids.Count)]).Distinct().ToList();
            var disliked = Enumerable.Range(0, 3).Select(_ => ids[random.Next(ids.Count)]).Except(liked).ToList();
            foreach (var (strategy, diversity) in new[] { (RecommendStrategy.Classifier, 0.0), (RecommendStrategy.Centroid, 0.0), (RecommendStrategy.Classifier, 0.5),
                (RecommendStrategy.Fused, 0.0), (RecommendStrategy.TermClassifier, 0.0), (RecommendStrategy.TermCentroid, 0.0) })
            {
                var scope = new SearchScope { K = 10, Diversity = diversity };
                Assert.Equal(Show(await _node.RecommendAsync(liked, disliked, scope, strategy: strategy)), Show(await _sharded.RecommendAsync(liked, disliked, scope, strategy: strategy)));
                Assert.Equal(Show(await _node.RecommendAsync(liked, disliked, scope, "day-2", strategy)), Show(await _sharded.RecommendAsync(liked, disliked, scope, "day-2", strategy)));
            }
            Assert.Equal(
                string.Join(",", (await _node.ChangeLibraryAsync($"reader-{reader}", liked, disliked, [], replace: true)).Liked),
                string.Join(",", (await _sharded.ChangeLibraryAsync($"reader-{reader}", liked, disliked, [], replace: true)).Liked));
            Assert.Equal(Show(await _node.RankDigestAsync("day-2", $"reader-{reader}")), Show(await _sharded.RankDigestAsync("day-2", $"reader-{reader}")));
            Assert.Equal(Show(await _node.RecommendForLibraryAsync($"reader-{reader}", new SearchScope { K = 10 })),
                Show(await _sharded.RecommendForLibraryAsync($"reader-{reader}", new SearchScope { K = 10 })));
        }
        Assert.Equal((await _node.LibrariesAsync()).Select(l => l.Name), (await _sharded.LibrariesAsync()).Select(l => l.Name));
        Assert.True(await _sharded.DeleteLibraryAsync("reader-1"));
        Assert.Null(await _sharded.RankDigestAsync("day-2", "reader-1"));
        await Assert.ThrowsAsync<UnknownPapersException>(() => _sharded.RecommendAsync(["no-such-paper"], [], new SearchScope { K = 5 }));
    }

    // A library's record less its times (Since and UpdatedAt are each collection's own clock).
    static string Show(ReaderLibrary? l) => l == null ? "null" :
        $"{l.Name} [{string.Join(",", l.Liked)}] [{string.Join(",", l.Disliked)}] {l.Subscription?.Email}/{l.Subscription?.Top} [{string.Join(",", l.Mailed)}]";

    [Fact]
    public async Task Subscriptions_and_sent_marks_over_two_shards_equal_one_nodes_and_live_on_the_home_shard()
    {
        await IngestBothAsync();
        string[] names = ["reader-0", "reader-1", "reader-2", "reader-3", "reader-4"];
        // Homes on both shards, so the coordinator routes each call rather than always hitting one.
        Assert.Equal(2, names.Select(_sharded.Routing.LibraryShardOf).Distinct().Count());
        foreach (IPaperCollection collection in new IPaperCollection[] { _node, _sharded })
        {
            Assert.Null(await collection.SubscribeAsync("no-such-library", "a@example.org", 5));
            Assert.Null(await collection.MarkMailedAsync("no-such-library", "day-1"));
            await Assert.ThrowsAsync<InvalidDataException>(() => collection.SubscribeAsync("bad name", "a@example.org", 5));
        }
        foreach (string name in names)
        {
            string[] liked = [_day1[Array.IndexOf(names, name)].SourceId!];
            var expected = new List<string>();
            var actual = new List<string>();
            foreach (var (collection, shown) in new (IPaperCollection, List<string>)[] { (_node, expected), (_sharded, actual) })
            {
                await collection.ChangeLibraryAsync(name, liked, [], [], replace: true);
                await Assert.ThrowsAsync<InvalidDataException>(() => collection.SubscribeAsync(name, "not an address", 5));
                await Assert.ThrowsAsync<InvalidDataException>(() => collection.SubscribeAsync(name, "a@example.org", 0));
                var first = await collection.SubscribeAsync(name, $"{name}@example.org", 5);
                shown.Add(Show(first));
                shown.Add(Show(await collection.MarkMailedAsync(name, "day-1")));
                var again = await collection.MarkMailedAsync(name, "day-1"); // once
                shown.Add(Show(again));
                // Changing the address keeps Since: the old digests are not mailed to it.
                var changed = await collection.SubscribeAsync(name, $"{name}+new@example.org", 7);
                Assert.Equal(first!.Subscription!.Since, changed!.Subscription!.Since);
                Assert.True(changed.UpdatedAt > again!.UpdatedAt); // newer, so a replica that missed it copies it when catching up
                shown.Add(Show(await collection.MarkMailedAsync(name, "day-2")));
                // The lists replaced, the subscription and sent marks kept; read back as stored.
                await collection.ChangeLibraryAsync(name, liked, [], [], replace: true);
                var stored = await collection.LibraryAsync(name);
                shown.Add(Show(stored));
                Assert.Equal(changed.Subscription, stored!.Subscription);
            }
            Assert.Equal(expected, actual);
            Assert.Equal(["day-1", "day-2"], (await _sharded.LibraryAsync(name))!.Mailed);
            int home = _sharded.Routing.LibraryShardOf(name);
            Assert.Equal(Show(await _sharded.LibraryAsync(name)), Show(await _shards[home].LibraryAsync(name)));
            Assert.Null(await _shards[1 - home].LibraryAsync(name));
        }
        Assert.Null((await _sharded.SubscribeAsync("reader-2", null, 0))!.Subscription);
        Assert.Null((await _sharded.LibraryAsync("reader-2"))!.Subscription);
        Assert.Equal((await _node.LibrariesAsync()).Select(l => l.Name), (await _sharded.LibrariesAsync()).Select(l => l.Name));
    }

    [Fact]
    public async Task Digests_duplicates_and_deletes_over_two_shards_equal_one_nodes()
    {
        await IngestBothAsync();
        Assert.Equal((await _node.DigestsAsync()).Select(d => d.Id), (await _sharded.DigestsAsync()).Select(d => d.Id));
        foreach (string digest in new[] { "day-1", "day-2" })
        {
            var (expected, expectedListings) = (await _node.DigestAsync(digest))!.Value;
            var (actual, actualListings) = (await _sharded.DigestAsync(digest))!.Value;
            Assert.Equal(expected.PaperKeys, actual.PaperKeys);
            Assert.Equal(JsonSerializer.Serialize(expectedListings), JsonSerializer.Serialize(actualListings));
        }
        var duplicates = JsonSerializer.Serialize(await _sharded.DuplicatesAsync(new DuplicateScope()));
        Assert.Equal(JsonSerializer.Serialize(await _node.DuplicatesAsync(new DuplicateScope())), duplicates);
        Assert.Contains("\"Exact\"", duplicates.Replace("\"exact\"", "\"Exact\"")); // the 3 papers listed on both days

        string deleted = _day1[7].SourceId!;
        Assert.True(await ((IPaperCollection)_node).DeleteAsync(deleted));
        Assert.True(await _sharded.DeleteAsync(deleted));
        Assert.Null(await _sharded.FindPaperAsync(deleted));
        Assert.False(await _sharded.DeleteAsync(deleted));
        Assert.Equal(_node.PaperCount, _sharded.PaperCount);
        var query = new SearchQuery("", _day1[7].Vector, SearchMode.Semantic);
        Assert.Equal(Show(await _node.SearchAsync(query, new SearchScope { K = 10 })), Show(await _sharded.SearchAsync(query, new SearchScope { K = 10 })));
    }
}
