using System.Collections.Concurrent;
using PaperVec.Index;

namespace PaperVec.Tests.Index;

/// <summary>
/// Searchers run while other threads insert and delete for a fixed number of operations: no
/// exception, results sorted with correct scores, and every returned id was inserted and not
/// deleted before the query began.
/// </summary>
public class HnswConcurrencyTests
{
    const int Dimension = 32;

    static float[] VectorFor(long id)
    {
        var random = new Random((int)id);
        var v = new float[Dimension];
        for (int d = 0; d < Dimension; d++) v[d] = (float)(random.NextDouble() * 2 - 1) + (d == id % Dimension ? 1.5f : 0f);
        VectorKernels.Normalize(v);
        return v;
    }

    [Fact]
    public async Task SearchesInsertsDeletesAndRepairsRunTogether()
    {
        // Small initial capacity: the index also grows under load.
        using var index = new HnswIndex(Dimension, new HnswOptions { M = 8, EfConstruction = 64, InitialCapacity = 64 });
        for (long id = 0; id < 500; id++) index.Add(id, VectorFor(id));

        long clock = 0;
        var deletedAt = new ConcurrentDictionary<long, long>(); // id → clock tick after Remove returned
        var inserted = new ConcurrentDictionary<long, bool>(Enumerable.Range(0, 500).Select(i => KeyValuePair.Create((long)i, true)));
        var failures = new ConcurrentQueue<string>();
        long nextId = 500;
        int searchesDone = 0;

        void Inserter()
        {
            for (int i = 0; i < 1500; i++)
            {
                long id = Interlocked.Increment(ref nextId) - 1;
                inserted[id] = true; // before Add: a search may see it as soon as it is linked
                index.Add(id, VectorFor(id));
            }
        }
        void Deleter()
        {
            var random = new Random(9);
            for (int i = 0; i < 1200; i++)
            {
                long id = random.NextInt64(0, Interlocked.Read(ref nextId));
                if (!index.Remove(id)) continue;
                deletedAt.TryAdd(id, Interlocked.Increment(ref clock));
                if (i % 300 == 299) index.Repair();
            }
        }
        void Searcher(int seed)
        {
            var random = new Random(seed);
            for (int i = 0; i < 1500; i++)
            {
                long startedAt = Interlocked.Read(ref clock);
                var filter = i % 3 == 0 ? (Func<long, bool>)(id => id % 2 == 0) : null;
                float[] query;
                SearchHit[] hits;
                if (i % 4 == 1)
                {
                    // Like an indexed paper (maybe deleted or being inserted meanwhile: then -1 or a search from the top).
                    long like = random.NextInt64(0, Interlocked.Read(ref nextId));
                    query = VectorFor(like);
                    var buffer = new SearchHit[10];
                    int found = index.SearchSimilar(like, buffer, 32, filter);
                    hits = buffer[..Math.Max(0, found)];
                }
                else
                {
                    query = VectorFor(random.Next(100_000) + 1_000_000);
                    hits = index.Search(query, 10, 32, filter);
                }
                for (int h = 0; h < hits.Length; h++)
                {
                    var hit = hits[h];
                    if (!inserted.ContainsKey(hit.Id)) failures.Enqueue($"returned never-inserted id {hit.Id}");
                    if (deletedAt.TryGetValue(hit.Id, out long at) && at <= startedAt) failures.Enqueue($"returned id {hit.Id} deleted before the query began");
                    if (filter != null && !filter(hit.Id)) failures.Enqueue($"returned id {hit.Id} that fails the filter");
                    if (h > 0 && hits[h - 1].Score < hit.Score) failures.Enqueue("results out of order");
                    if (Math.Abs(VectorKernels.Dot(query, VectorFor(hit.Id)) - hit.Score) > 1e-4f) failures.Enqueue($"score of {hit.Id} is not its dot product");
                }
                Interlocked.Increment(ref searchesDone);
            }
        }

        var tasks = new[] { Task.Run(Inserter), Task.Run(Deleter), Task.Run(() => Searcher(1)), Task.Run(() => Searcher(2)) };
        await Task.WhenAll(tasks); // rethrows any exception from the workers
        Assert.Empty(failures);
        Assert.Equal(3000, searchesDone);

        index.CheckIntegrity();
        index.Repair();
        index.CheckIntegrity();
        Assert.Equal(0, index.CountUnreachableLiveNodes());
        Assert.Equal(2000 - deletedAt.Count, index.LiveCount);
    }

    [Fact]
    public void ParallelAddsOfOneIdLetExactlyOneWin()
    {
        using var index = new HnswIndex(Dimension, new HnswOptions { M = 4, EfConstruction = 16 });
        int accepted = 0, rejected = 0;
        Parallel.For(0, 8, _ =>
        {
            try { index.Add(42, VectorFor(42)); Interlocked.Increment(ref accepted); }
            catch (ArgumentException) { Interlocked.Increment(ref rejected); }
        });
        Assert.Equal((1, 7), (accepted, rejected));
        Assert.Equal(1, index.LiveCount);
        index.Update(42, VectorFor(43));
        Assert.Equal(1, index.LiveCount);
        Assert.Equal(42, index.Search(VectorFor(43), 1, 8).Single().Id);
        Assert.Equal(1.0f, index.Search(VectorFor(43), 1, 8).Single().Score, 1e-4);
    }
}
