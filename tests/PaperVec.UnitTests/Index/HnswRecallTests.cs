using PaperVec.Index;
using PaperVec.Storage;
using Xunit.Abstractions;

namespace PaperVec.Tests.Index;

public class HnswRecallTests(HnswFixture fixture, ITestOutputHelper output) : IClassFixture<HnswFixture>
{
    [Fact]
    public void ParallelBuildGivesAConsistentGraph()
    {
        fixture.Index.CheckIntegrity();
        Assert.Equal(HnswFixture.Count, fixture.Index.LiveCount);
        int unreachable = fixture.Index.CountUnreachableLiveNodes();
        // Plain HNSW can strand a node whose in-links were all pruned away; Repair relinks them
        // (the property tests check it reaches zero), so here only a handful are allowed.
        output.WriteLine($"unreachable before repair: {unreachable}");
        Assert.True(unreachable <= HnswFixture.Count / 1000, $"{unreachable} unreachable");
        var memory = fixture.Index.MemoryUsage();
        output.WriteLine($"bytes/vector {memory.BytesPerVector:F0} ({memory})");
        Assert.True(memory.BytesPerVector < 1800 * 1.5, "20k nodes in a 24k-slot index after growth"); // slack from growth, see the 200k bench
    }

    [Fact]
    public void RecallAt10IsAtLeast098AtEf64AndGrowsWithEf()
    {
        var recalls = new[] { 10, 16, 32, 64, 128 }.Select(ef =>
            (ef, recall: fixture.Recall(q => fixture.Index.Search(fixture.Data.QueryRow(q), HnswFixture.K, ef), q => fixture.TrueTopK[q]))).ToList();
        foreach (var (ef, recall) in recalls) output.WriteLine($"ef={ef}: recall@10 {recall:F4}");
        Assert.True(recalls.Single(r => r.ef == 64).recall >= 0.98);
        for (int i = 1; i < recalls.Count; i++) Assert.True(recalls[i].recall >= recalls[i - 1].recall - 0.002, $"recall fell from ef={recalls[i - 1].ef} to ef={recalls[i].ef}");
        Assert.True(recalls[^1].recall > recalls[0].recall);
    }

    [Fact]
    public void ResultsAreSortedLiveAndScoredByDotProduct()
    {
        for (int q = 0; q < 20; q++)
        {
            var query = fixture.Data.QueryRow(q);
            var hits = fixture.Index.Search(query, 25, 50);
            Assert.Equal(25, hits.Length);
            Assert.Equal(25, hits.Select(h => h.Id).Distinct().Count());
            for (int i = 0; i < hits.Length; i++)
            {
                if (i > 0) Assert.True(hits[i - 1].Score >= hits[i].Score);
                int row = checked((int)((hits[i].Id - 3) / 10_000_019L));
                Assert.Equal(VectorKernels.Dot(query, fixture.Data.BaseRow(row), KernelPath.Scalar), hits[i].Score, 1e-4);
            }
        }
    }

    [Fact]
    public void SearchLikeAnIndexedVectorStartsAtItsNodeAndKeepsRecallAtHalfTheWidth()
    {
        // Base rows as queries, each excluding itself, as "papers like this" asks.
        var rows = Enumerable.Range(0, 200).Select(i => i * 97 % HnswFixture.Count).ToArray();
        var truth = rows.Select(r =>
        {
            long self = HnswFixture.IdOf(r);
            return fixture.Exact.Search(fixture.Data.BaseRow(r), HnswFixture.K, id => id != self).Select(h => h.Id).ToHashSet();
        }).ToArray();
        long foundLike = 0, foundByVector = 0;
        var hits = new SearchHit[HnswFixture.K];
        for (int i = 0; i < rows.Length; i++)
        {
            long self = HnswFixture.IdOf(rows[i]);
            Func<long, bool> notSelf = id => id != self;
            int found = fixture.Index.SearchSimilar(self, hits, VectorSearchPolicy.SimilarEf, notSelf);
            Assert.Equal(HnswFixture.K, found);
            for (int h = 0; h < found; h++)
            {
                Assert.NotEqual(self, hits[h].Id);
                if (h > 0) Assert.True(hits[h - 1].Score >= hits[h].Score);
                int row = checked((int)((hits[h].Id - 3) / 10_000_019L));
                Assert.Equal(VectorKernels.Dot(fixture.Data.BaseRow(rows[i]), fixture.Data.BaseRow(row), KernelPath.Scalar), hits[h].Score, 1e-4);
            }
            foundLike += hits.Count(h => truth[i].Contains(h.Id));
            foundByVector += fixture.Index.Search(fixture.Data.BaseRow(rows[i]), HnswFixture.K, 64, notSelf).Count(h => truth[i].Contains(h.Id));
        }
        double like = foundLike / (rows.Length * 10.0), byVector = foundByVector / (rows.Length * 10.0);
        output.WriteLine($"recall@10, base rows as queries: from the node at ef={VectorSearchPolicy.SimilarEf} {like:F4}, by vector from the top at ef=64 {byVector:F4}");
        Assert.True(like >= 0.98, $"recall {like:F4}");
        Assert.True(like >= byVector - 0.01, $"starting at the node lost recall: {like:F4} vs {byVector:F4}");

        // Without a filter the paper itself comes first; an id never indexed is -1.
        Assert.Equal(HnswFixture.IdOf(rows[0]), fixture.Index.SearchSimilar(HnswFixture.IdOf(rows[0]), hits, 64) > 0 ? hits[0].Id : -1);
        Assert.Equal(-1, fixture.Index.SearchSimilar(HnswFixture.IdOf(HnswFixture.Count + 5), hits, 64));
    }

    [Theory]
    [InlineData(50, 0.95)]
    [InlineData(10, 0.95)]
    [InlineData(1, 0.95)]
    public void FilteredSearchKeepsRecallAtLowSelectivity(int percent, double minimumRecall)
    {
        Func<long, bool> filter = id => (id * 2654435761L & 0x7FFFFFFF) % 100 < percent;
        var truth = Enumerable.Range(0, fixture.Data.QueryCount)
            .Select(q => fixture.Exact.Search(fixture.Data.QueryRow(q), HnswFixture.K, filter).Select(h => h.Id).ToArray()).ToArray();
        double recall = fixture.Recall(q =>
        {
            var hits = fixture.Index.Search(fixture.Data.QueryRow(q), HnswFixture.K, 64, filter);
            Assert.All(hits, h => Assert.True(filter(h.Id)));
            return hits;
        }, q => truth[q]);
        output.WriteLine($"{percent}% selectivity: filtered recall@10 {recall:F4} at ef=64");
        Assert.True(recall >= minimumRecall, $"recall {recall:F4}");
    }

    [Fact]
    public void SearchAllocatesOnlyItsResultsInSteadyState()
    {
        var results = new SearchHit[10];
        var query = fixture.Data.QueryRow(0);
        for (int i = 0; i < 50; i++) fixture.Index.Search(fixture.Data.QueryRow(i % 100), results, 64); // warm the pool and heaps
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) fixture.Index.Search(fixture.Data.QueryRow(i % 100), results, 64);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
