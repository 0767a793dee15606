using PaperVec.Storage;

namespace PaperVec.Tests.Storage;

/// <summary>Synthetic papers with random unit vectors, and throwaway data directories.</summary>
static class StoreTestData
{
    public static float[] UnitVector(Random random, int dim = 384)
    {
        var v = new float[dim];
        double norm = 0;
        for (int i = 0; i < dim; i++) { v[i] = (float)(random.NextDouble() * 2 - 1); norm += v[i] * v[i]; }
        float scale = (float)(1 / Math.Sqrt(norm));
        for (int i = 0; i < dim; i++) v[i] *= scale;
        return v;
    }

    public static PaperRecord Paper(int n, Random random, string? digest = null) => new()
    {
        Key = PaperIdentity.KeyOfTitle($"Synthetic paper number {n}"),
        Title = $"Synthetic paper number {n}",
        Abstract = $"Abstract of paper {n}: " + string.Join(" ", Enumerable.Repeat("words about methods and results", 20)),
        SourceId = $"2503.{n:00000}",
        FirstSeen = new DateOnly(2025, 3, 11),
        Digests = digest == null ? [] : [digest],
        ModelId = "test-model",
        Vector = UnitVector(random),
    };

    public static string TempDir() => Directory.CreateTempSubdirectory("pv-store-").FullName;
}
