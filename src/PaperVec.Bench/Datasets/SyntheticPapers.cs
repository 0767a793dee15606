using PaperVec.Index;

using PaperVec.Storage;

namespace PaperVec.Bench.Datasets;

/// <summary>
/// Papers for storage benchmarks: realistic text length (about 1,350 characters of abstract, the
/// shared arXiv corpus's mean) and a random unit vector, so no model is needed. Paper n is always the same.
/// </summary>
public static class SyntheticPapers
{
    public static PaperRecord Create(int n, int dimension = 384)
    {
        var random = new Random(n);
        var vector = new float[dimension];
        for (int i = 0; i < vector.Length; i++) vector[i] = (float)(random.NextDouble() * 2 - 1);
        VectorKernels.Normalize(vector);
        string title = $"Synthetic paper {n} on retrieval, storage and durable indexing";
        return new PaperRecord
        {
            Key = PaperIdentity.KeyOfTitle(title), Title = title,
            Abstract = string.Join(" ", Enumerable.Repeat($"Sentence of abstract {n} describing a method, its evaluation and results.", 19)),
            SourceId = $"synthetic.{n}", FirstSeen = new DateOnly(2025, 3, 11), ModelId = "supplied", Vector = vector,
        };
    }
}
