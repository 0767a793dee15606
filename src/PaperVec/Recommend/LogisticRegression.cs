using System.Numerics;
using PaperVec.Index;

namespace PaperVec.Recommend;

/// <summary>
/// A weighted, L2-regularised logistic regression on dense vectors, trained by Nesterov-accelerated
/// gradient descent: a reader's library is tens to a thousand examples of 384 floats, so a full
/// pass is cheap and a fixed number of passes makes training time predictable (about 200 passes
/// over 600 examples: tens of milliseconds). Rows are unit vectors, so the loss is smooth with a
/// known constant (0.25 x (|x|^2 + 1) + lambda) and the step needs no line search.
/// </summary>
public sealed class LogisticRegression
{
    public float[] Weights { get; }
    public double Bias { get; private set; }

    LogisticRegression(int dimension) => Weights = new float[dimension];

    /// <summary>A trained model from its parameters (a cluster client sends its model to the shards).</summary>
    public static LogisticRegression Of(float[] weights, double bias)
    {
        var model = new LogisticRegression(weights.Length) { Bias = bias };
        weights.CopyTo(model.Weights, 0);
        return model;
    }

    /// <summary>The modelled probability that <paramref name="x"/> is a positive.</summary>
    public double Probability(ReadOnlySpan<float> x) => Sigmoid(VectorKernels.Dot(Weights, x) + Bias);

    /// <summary>
    /// Trains on <paramref name="rows"/> (row-major, <paramref name="dimension"/> floats each) with labels
    /// (true = positive) and per-example weights (normalised to sum 1 here).
    /// </summary>
    public static LogisticRegression Train(float[] rows, int dimension, bool[] labels, double[] weights, double lambda, int passes = 200)
    {
        int n = labels.Length;
        if (rows.Length != n * dimension || weights.Length != n) throw new ArgumentException("rows, labels and weights disagree in length");
        double total = weights.Sum();
        var model = new LogisticRegression(dimension);
        if (n == 0 || total <= 0) return model;
        var w = model.Weights;
        var previous = new float[dimension];
        var look = new float[dimension];
        var gradient = new float[dimension];
        double b = 0, previousB = 0;
        double step = 1.0 / (0.25 * 2 + lambda); // |x|^2 = 1 for unit rows, +1 for the bias
        for (int pass = 1; pass <= passes; pass++)
        {
            // Nesterov: the gradient at the look-ahead point w + (t-1)/(t+2) (w - w_prev).
            double momentum = (pass - 1.0) / (pass + 2.0);
            for (int j = 0; j < dimension; j++) look[j] = w[j] + (float)(momentum * (w[j] - previous[j]));
            double lookB = b + momentum * (b - previousB);
            Array.Clear(gradient);
            double gradientB = 0;
            for (int i = 0; i < n; i++)
            {
                var x = rows.AsSpan(i * dimension, dimension);
                double p = Sigmoid(VectorKernels.Dot(look, x) + lookB);
                double g = weights[i] / total * (p - (labels[i] ? 1 : 0));
                AddScaled(gradient, x, (float)g);
                gradientB += g;
            }
            Array.Copy(w, previous, dimension);
            previousB = b;
            for (int j = 0; j < dimension; j++) w[j] = (float)(look[j] - step * (gradient[j] + lambda * look[j]));
            b = lookB - step * gradientB;
        }
        model.Bias = b;
        return model;
    }

    static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));

    /// <summary>destination += scale x source (Vector&lt;float&gt; lanes, scalar tail).</summary>
    static void AddScaled(Span<float> destination, ReadOnlySpan<float> source, float scale)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var s = new Vector<float>(scale);
            for (; i <= source.Length - Vector<float>.Count; i += Vector<float>.Count)
                (new Vector<float>(destination[i..]) + s * new Vector<float>(source[i..])).CopyTo(destination[i..]);
        }
        for (; i < source.Length; i++) destination[i] += scale * source[i];
    }
}
