using System.Security.Cryptography;
using System.Text;
using PaperVec.Storage;

namespace PaperVec.Bench.Evaluation;

/// <summary>
/// Stand-in embeddings for generated digests when the real model is not wanted (scale benchmarks):
/// each work gets a random unit vector near one of a few thousand topic centres, and each listed text
/// of it a small deterministic perturbation, so copies are close (cosine about 0.97) and papers of
/// one topic are near each other, the way real embeddings behave.
/// </summary>
public sealed class SyntheticListingVectors(int dimension = 384, int topics = 2000, int seed = 1)
{
    public float[] VectorOf(GeneratedListing listing)
    {
        var vector = new float[dimension];
        Add(vector, Seed("topic", (uint)Seed("work", listing.WorkId) % (uint)topics), 1.0f);
        Add(vector, Seed("work", listing.WorkId), 0.6f);
        Add(vector, Seed("text", PaperIdentity.TextHash(listing.Title, listing.Abstract).ToString()), 0.12f);
        float norm = MathF.Sqrt(vector.Sum(v => v * v));
        for (int i = 0; i < vector.Length; i++) vector[i] /= norm;
        return vector;
    }

    int Seed(string kind, object value) =>
        BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}/{kind}/{value}")));

    void Add(float[] vector, int randomSeed, float scale)
    {
        // Gaussian-ish coordinates scaled so that the part has norm ~scale.
        var random = new Random(randomSeed);
        float perCoordinate = scale / MathF.Sqrt(dimension);
        for (int i = 0; i < vector.Length; i++)
            vector[i] += perCoordinate * (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
    }
}
