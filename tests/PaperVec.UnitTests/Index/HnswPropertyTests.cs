using FsCheck;
using FsCheck.Fluent;
using PaperVec.Index;

namespace PaperVec.Tests.Index;

/// <summary>
/// Graph invariants on random small indexes (FsCheck picks sizes, dimension, M, seeds and which
/// ids get deleted): degrees in bounds with no self or duplicate links, deleted ids never
/// returned (and results live, unique, sorted, scored by dot product), every live node reachable
/// on level 0 after repair, and save then load giving identical results.
/// </summary>
public class HnswPropertyTests
{
    public sealed record Scenario(int Count, int Dimension, int M, int Seed, int DeletePercent, bool RepairMidway)
    {
        public override string ToString() => $"n={Count} dim={Dimension} M={M} seed={Seed} delete={DeletePercent}% repairMidway={RepairMidway}";
    }

    static readonly Arbitrary<Scenario> Scenarios =
        (from count in Gen.Choose(1, 250)
         from dimension in Gen.Choose(2, 24)
         from m in Gen.Choose(2, 12)
         from seed in Gen.Choose(0, int.MaxValue - 1)
         from deletePercent in Gen.Elements(0, 5, 30, 70, 100)
         from repairMidway in Gen.Elements(false, true)
         select new Scenario(count, dimension, m, seed, deletePercent, repairMidway)).ToArbitrary();

    static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(60).WithQuietOnSuccess(true);

    /// <summary>Inserts the first half, deletes some, optionally repairs, inserts the rest (reusing freed slots), deletes more.</summary>
    sealed class Built : IDisposable
    {
        public readonly HnswIndex Index;
        public readonly Dictionary<long, float[]> Live = new();
        public readonly HashSet<long> Deleted = new();
        public readonly float[][] Queries;

        public Built(Scenario s)
        {
            var random = new Random(s.Seed);
            float[] NewVector()
            {
                // A few loose clusters, so the heuristic has real choices to make.
                var v = new float[s.Dimension];
                int cluster = random.Next(4);
                for (int d = 0; d < v.Length; d++) v[d] = (d % 4 == cluster ? 2f : 0f) + (float)(random.NextDouble() * 2 - 1);
                VectorKernels.Normalize(v);
                return v;
            }
            Index = new HnswIndex(s.Dimension, new HnswOptions { M = s.M, EfConstruction = 32, Seed = (ulong)s.Seed, InitialCapacity = 8 });
            var ids = Enumerable.Range(0, s.Count).Select(i => (long)i * 1_000_003 - 500).ToArray();
            void Insert(int from, int to)
            {
                for (int i = from; i < to; i++) { var v = NewVector(); Index.Add(ids[i], v); Live[ids[i]] = v; }
            }
            void DeleteSome()
            {
                foreach (var id in Live.Keys.ToList())
                {
                    if (random.Next(100) >= s.DeletePercent) continue;
                    Assert.True(Index.Remove(id));
                    Live.Remove(id);
                    Deleted.Add(id);
                }
            }
            Insert(0, s.Count / 2);
            DeleteSome();
            if (s.RepairMidway) Index.Repair();
            Insert(s.Count / 2, s.Count);
            DeleteSome();
            Queries = Enumerable.Range(0, 5).Select(_ => NewVector()).ToArray();
        }

        public void Dispose() => Index.Dispose();
    }

    [Fact]
    public void DegreesStayInBoundsWithoutSelfOrDuplicateLinks() =>
        Check.One(Runs, Prop.ForAll(Scenarios, s =>
        {
            using var built = new Built(s);
            built.Index.CheckIntegrity(); // deleted nodes still linked
            built.Index.Repair();
            built.Index.CheckIntegrity(); // and after they are unlinked
            Assert.Equal(built.Live.Count, built.Index.LiveCount);
            Assert.Equal(0, built.Index.DeletedCount);
        }));

    [Fact]
    public void EveryLiveNodeIsReachableOnLevel0AfterRepair() =>
        Check.One(Runs, Prop.ForAll(Scenarios, s =>
        {
            using var built = new Built(s);
            built.Index.Repair();
            Assert.Equal(0, built.Index.CountUnreachableLiveNodes());
        }));

    [Fact]
    public void DeletedIdsAreNeverReturnedAndResultsAreScoredAndSorted() =>
        Check.One(Runs, Prop.ForAll(Scenarios, s =>
        {
            using var built = new Built(s);
            foreach (bool repaired in new[] { false, true })
            {
                if (repaired) built.Index.Repair();
                foreach (var query in built.Queries)
                {
                    var hits = built.Index.Search(query, s.Count, ef: s.Count + 1);
                    Assert.Equal(built.Live.Count > 0, hits.Length > 0);
                    Assert.Equal(hits.Length, hits.Select(h => h.Id).Distinct().Count());
                    for (int i = 0; i < hits.Length; i++)
                    {
                        Assert.False(built.Deleted.Contains(hits[i].Id), $"{s}: deleted id {hits[i].Id} returned");
                        Assert.True(built.Live.TryGetValue(hits[i].Id, out var vector), $"{s}: unknown id {hits[i].Id}");
                        Assert.Equal(VectorKernels.Dot(query, vector, KernelPath.Scalar), hits[i].Score, 1e-4);
                        if (i > 0) Assert.True(hits[i - 1].Score >= hits[i].Score);
                    }
                }
            }
        }));

    [Fact]
    public void SaveThenLoadGivesIdenticalSearchResults() =>
        Check.One(Runs, Prop.ForAll(Scenarios, s =>
        {
            using var built = new Built(s);
            string path = Path.Combine(Path.GetTempPath(), $"pv-hnsw-prop-{Guid.NewGuid():N}.bin");
            try
            {
                built.Index.Save(path);
                using var loaded = HnswIndex.Load(path);
                loaded.CheckIntegrity();
                Assert.Equal(built.Index.LiveCount, loaded.LiveCount);
                Assert.Equal(built.Index.Count, loaded.Count);
                foreach (var query in built.Queries)
                foreach (int ef in new[] { 1, 8, 64 })
                    Assert.Equal(built.Index.Search(query, 10, ef), loaded.Search(query, 10, ef));
                foreach (var id in built.Live.Keys) Assert.True(loaded.Contains(id));
                foreach (var id in built.Deleted) Assert.False(loaded.Contains(id));
            }
            finally { File.Delete(path); }
        }));
}
