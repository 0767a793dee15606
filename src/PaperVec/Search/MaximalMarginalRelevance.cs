using PaperVec.Index;
using PaperVec.Storage;

namespace PaperVec.Search;

/// <summary>
/// Diversity by maximal marginal relevance (Carbonell and Goldstein, 1998): from a ranked pool, pick
/// k one at a time, each maximising (1 - d) x relevance - d x (its highest cosine to a paper already
/// picked), with relevance min-max normalised over the pool so that scores of any mode (cosine, BM25,
/// fused, probability) weigh alike. d = 0 keeps the ranking; near-copies of a picked paper sink as
/// d grows. Results keep their own relevance score.
/// </summary>
public static class MaximalMarginalRelevance
{
    /// <summary>How deep a ranking is read for k results: with diversity, a deeper pool for the selection to pick from.</summary>
    public static int PoolDepth(int k, double diversity) => diversity > 0 ? Math.Max(4 * k, 50) : k;

    public static List<(long Key, double Score)> Select(PaperDatabase db, List<(long Key, double Score)> pool, int k, double diversity)
    {
        if (diversity <= 0 || pool.Count <= 1) return pool.Count > k ? pool[..k] : pool;
        var vectors = new Dictionary<long, float[]>(pool.Count);
        foreach (var hit in pool)
        {
            var v = new float[db.Dimension];
            if (db.TryReadVector(hit.Key, v)) vectors[hit.Key] = v; // else deleted since
        }
        return Select(vectors, pool, k, diversity);
    }

    /// <summary>The same with the pool's vectors given (a cluster reads them from the shards); papers without one are left out.</summary>
    public static List<(long Key, double Score)> Select(IReadOnlyDictionary<long, float[]> vectorOf, List<(long Key, double Score)> pool, int k, double diversity)
    {
        if (diversity <= 0 || pool.Count <= 1) return pool.Count > k ? pool[..k] : pool;
        var keys = new List<(long Key, double Score)>(pool.Count);
        var vectors = new List<float[]>(pool.Count);
        foreach (var hit in pool)
        {
            if (!vectorOf.TryGetValue(hit.Key, out var v)) continue;
            keys.Add(hit);
            vectors.Add(v);
        }
        double max = keys.Count > 0 ? keys.Max(h => h.Score) : 0, min = keys.Count > 0 ? keys.Min(h => h.Score) : 0, range = max - min;
        var closest = new double[keys.Count]; // highest cosine to a picked paper
        var picked = new bool[keys.Count];
        var result = new List<(long Key, double Score)>(Math.Min(k, keys.Count));
        while (result.Count < k && result.Count < keys.Count)
        {
            int best = -1;
            double bestValue = double.NegativeInfinity;
            for (int i = 0; i < keys.Count; i++)
            {
                if (picked[i]) continue;
                double relevance = range > 0 ? (keys[i].Score - min) / range : 1;
                double value = (1 - diversity) * relevance - diversity * (result.Count == 0 ? 0 : closest[i]);
                if (value > bestValue) (best, bestValue) = (i, value);
            }
            picked[best] = true;
            result.Add(keys[best]);
            for (int i = 0; i < keys.Count; i++)
                if (!picked[i]) closest[i] = result.Count == 1 ? VectorKernels.Dot(vectors[best], vectors[i]) : Math.Max(closest[i], VectorKernels.Dot(vectors[best], vectors[i]));
        }
        return result;
    }
}
