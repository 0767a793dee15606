using PaperVec.Index;

namespace PaperVec.Bench.Datasets;

/// <summary>
/// The synthetic benchmark data of `papervec bench index`: cluster centres drawn from the standard
/// normal in R^dim (not normalised); every point, base or query, picks a centre uniformly, adds 0.5
/// times standard normal noise per coordinate and is normalised to unit length. Centres, then base
/// rows, then query rows come from one seeded generator, so a seed fixes the data.
/// </summary>
public sealed class ClusteredDataset
{
    public required int Dimension { get; init; }
    /// <summary>Base rows, <see cref="Dimension"/> floats each, back to back.</summary>
    public required float[] Base { get; init; }
    public required float[] Queries { get; init; }

    public int BaseCount => Base.Length / Dimension;
    public int QueryCount => Queries.Length / Dimension;

    public ReadOnlySpan<float> BaseRow(int i) => Base.AsSpan(i * Dimension, Dimension);
    public ReadOnlySpan<float> QueryRow(int i) => Queries.AsSpan(i * Dimension, Dimension);

    public static ClusteredDataset Generate(int count, int queryCount, int dimension, int clusters, int seed)
    {
        if (count < 0 || queryCount < 0 || dimension <= 0 || clusters <= 0) throw new ArgumentOutOfRangeException(nameof(count));
        var normal = new NormalSource(seed);
        var centers = new float[(long)clusters * dimension];
        for (int i = 0; i < centers.Length; i++) centers[i] = (float)normal.Next();
        return new ClusteredDataset
        {
            Dimension = dimension,
            Base = Points(count, dimension, clusters, centers, normal),
            Queries = Points(queryCount, dimension, clusters, centers, normal),
        };
    }

    static float[] Points(int count, int dimension, int clusters, float[] centers, NormalSource normal)
    {
        var points = new float[(long)count * dimension];
        for (int p = 0; p < count; p++)
        {
            int center = normal.NextInt(clusters);
            var row = points.AsSpan(p * dimension, dimension);
            var c = centers.AsSpan(center * dimension, dimension);
            for (int d = 0; d < dimension; d++) row[d] = c[d] + 0.5f * (float)normal.Next();
            VectorKernels.Normalize(row);
        }
        return points;
    }

    /// <summary>Standard normal draws by Box-Muller from <see cref="Random"/>, whose seeded sequence is fixed.</summary>
    sealed class NormalSource(int seed)
    {
        readonly Random _random = new(seed);
        double _spare;
        bool _hasSpare;

        public int NextInt(int exclusiveMax) => _random.Next(exclusiveMax);

        public double Next()
        {
            if (_hasSpare) { _hasSpare = false; return _spare; }
            double u1 = 1.0 - _random.NextDouble(); // (0, 1], so the log is finite
            double u2 = _random.NextDouble();
            double radius = Math.Sqrt(-2.0 * Math.Log(u1));
            _spare = radius * Math.Sin(2 * Math.PI * u2);
            _hasSpare = true;
            return radius * Math.Cos(2 * Math.PI * u2);
        }
    }
}
