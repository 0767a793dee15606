using static PaperVec.NativeModels.OnnxGraph;

namespace PaperVec.NativeModels;

/// <summary>How the encoder's Linear layers hold their weights.</summary>
public enum WeightPrecision
{
    /// <summary>fp32 MatMul + bias (Attention for Q/K/V in the fused graph).</summary>
    Fp32,
    /// <summary>
    /// int8 weights with one symmetric scale per output column, activations quantised per tensor at
    /// run time (u8 x s8 GEMMs, VNNI where the CPU has it): com.microsoft.QAttention for Q/K/V in the
    /// fused graph, com.microsoft.DynamicQuantizeMatMul for every other Linear.
    /// </summary>
    Int8,
}

/// <summary>
/// Builds the ONNX graph of a Hugging Face BertModel encoder (no pooler) from its config and
/// safetensors weights: embeddings + LayerNorm, N layers of multi-head self-attention with the
/// additive mask, exact (erf) GELU feed-forward, residual LayerNorms. Output: last_hidden_state.
///
/// The node patterns are the ones PyTorch's exporter emits for BERT, because those are what
/// ONNX Runtime's graph optimizer recognizes and fuses (Attention, SkipLayerNormalization,
/// BiasGelu, EmbedLayerNormalization): see native-models/README.md for what fuses.
/// </summary>
public static class BertOnnxBuilder
{
    public const long Opset = 17;
    /// <summary>Version of the com.microsoft contrib-op domain the fused graph imports.</summary>
    public const long ContribOpset = 1;

    /// <summary>
    /// Builds the encoder. <paramref name="fusedAttention"/>: each layer's self-attention is one
    /// com.microsoft.Attention node (packed Q|K|V weights, the raw 0/1 mask) instead of the plain
    /// ops, because ONNX Runtime's AttentionFusion does not match opset-17 graphs (README).
    /// </summary>
    public static OnnxGraph Build(BertConfig config, Safetensors weights, bool fusedAttention = false, WeightPrecision precision = WeightPrecision.Fp32)
    {
        var g = new OnnxGraph("bert_encoder");
        string prefix = weights.Contains("bert.embeddings.word_embeddings.weight") ? "bert." : "";
        string W(string name) => prefix + name;
        float eps = (float)config.LayerNormEps;
        int hidden = config.HiddenSize, heads = config.Heads, headSize = config.HeadSize;

        g.AddInput("input_ids", OnnxType.Int64, "batch", "sequence");
        g.AddInput("attention_mask", OnnxType.Int64, "batch", "sequence");
        g.AddInput("token_type_ids", OnnxType.Int64, "batch", "sequence");

        // Shared constants.
        string zero = g.Scalar("const_zero_i64", 0L), one = g.Scalar("const_one_i64", 1L);
        string oneF = g.Scalar("const_one_f", 1.0f);
        string maskValue = g.Scalar("const_mask_value", -10000.0f);
        string headShape = g.Initializer("const_head_shape", [0L, 0L, heads, headSize], 4);
        string mergedShape = g.Initializer("const_merged_shape", [0L, 0L, hidden], 3);
        string sqrtHeadSize = g.Scalar("const_sqrt_head_size", MathF.Sqrt(headSize));
        string sqrt2 = g.Scalar("const_sqrt2", MathF.Sqrt(2f));
        string half = g.Scalar("const_half", 0.5f);
        string axes12 = g.Initializer("const_axes_1_2", [1L, 2L], 2);

        // Embeddings: word + position + token type, then LayerNorm.
        string wordTable = g.Initializer("word_embeddings", weights.ReadFloat32(W("embeddings.word_embeddings.weight")), config.VocabSize, hidden);
        string positionTable = g.Initializer("position_embeddings", weights.ReadFloat32(W("embeddings.position_embeddings.weight")), config.MaxPositions, hidden);
        string typeTable = g.Initializer("token_type_embeddings", weights.ReadFloat32(W("embeddings.token_type_embeddings.weight")), config.TypeVocabSize, hidden);

        string words = g.Op("Gather", [wordTable, "input_ids"], new OnnxAttribute("axis", Int: 0));
        // Position ids 0..S-1 per row, computed elementwise from input_ids (a running count of ones)
        // rather than Shape/Range/Expand: that keeps the symbolic [batch, sequence] shape visible to
        // ONNX Runtime's shape inference, which SkipLayerNormalization fusion needs.
        string ones = g.Op("Add", [g.Op("Mul", ["input_ids", zero]), one]);
        string positionIds = g.Op("Sub", [g.Op("CumSum", [ones, one]), one]);
        string positions = g.Op("Gather", [positionTable, positionIds], new OnnxAttribute("axis", Int: 0));
        string types = g.Op("Gather", [typeTable, "token_type_ids"], new OnnxAttribute("axis", Int: 0));
        string embedded = g.Op("Add", [g.Op("Add", [words, positions]), types]);
        string x = LayerNorm(g, embedded, weights, W("embeddings.LayerNorm"), "embeddings_ln", eps);

        // Additive mask [batch, 1, 1, sequence]: 0 where attended, -10000 where padded.
        // The Attention contrib op takes the raw [batch, sequence] mask as int32 and applies the same -10000.
        string? rawMask = fusedAttention ? g.Op("Cast", ["attention_mask"], new OnnxAttribute("to", Int: (long)OnnxType.Int32)) : null;
        string? additiveMask = fusedAttention ? null : g.Op("Mul", [g.Op("Sub", [oneF,
            g.Op("Cast", [g.Op("Unsqueeze", ["attention_mask", axes12])], new OnnxAttribute("to", Int: (long)OnnxType.Float))]), maskValue]);

        for (int layer = 0; layer < config.Layers; layer++)
        {
            string L = W($"encoder.layer.{layer}.");
            string n = $"layer{layer}_";

            string Heads(string input, string projection, int[] perm) =>
                g.Op("Transpose", [g.Op("Reshape", [Linear(g, precision, input, weights, L + projection, n + projection.Replace('.', '_'), hidden, hidden), headShape])],
                    new OnnxAttribute("perm", Ints: perm.Select(p => (long)p).ToArray()));

            string merged;
            if (rawMask != null)
            {
                var (packed, packedBias) = PackedQkv(weights, L + "attention.self.", hidden);
                string bias = g.Initializer(n + "qkv_bias", packedBias, 3 * hidden);
                if (precision == WeightPrecision.Int8)
                {
                    // QAttention: the input quantised per tensor at run time (u8), Q|K|V weights int8 per column.
                    var (quantized, scales) = QuantizePerColumn(packed, hidden, 3 * hidden);
                    string[] input = g.OpMulti("DynamicQuantizeLinear", [x], 3, "");
                    merged = g.OpMulti("QAttention", [input[0], g.Initializer(n + "qkv_weight_int8", quantized, hidden, 3 * hidden), bias, input[1],
                            g.Initializer(n + "qkv_weight_scale", scales, 3 * hidden), rawMask, input[2]], 1, "com.microsoft",
                        new OnnxAttribute("num_heads", Int: heads))[0];
                }
                else
                    merged = g.OpMulti("Attention", [x, g.Initializer(n + "qkv_weight", packed, hidden, 3 * hidden), bias, rawMask], 1, "com.microsoft",
                        new OnnxAttribute("num_heads", Int: heads), new OnnxAttribute("mask_filter_value", Float: -10000.0f))[0];
            }
            else
            {
                string q = Heads(x, "attention.self.query", [0, 2, 1, 3]);
                string kT = Heads(x, "attention.self.key", [0, 2, 3, 1]);
                string v = Heads(x, "attention.self.value", [0, 2, 1, 3]);

                string scores = g.Op("Div", [g.Op("MatMul", [q, kT]), sqrtHeadSize]);
                string probs = g.Op("Softmax", [g.Op("Add", [scores, additiveMask!])], new OnnxAttribute("axis", Int: -1));
                string context = g.Op("Transpose", [g.Op("MatMul", [probs, v])], new OnnxAttribute("perm", Ints: [0, 2, 1, 3]));
                merged = g.Op("Reshape", [context, mergedShape]);
            }

            string attentionOut = Linear(g, precision, merged, weights, L + "attention.output.dense", n + "attention_output", hidden, hidden);
            x = LayerNorm(g, g.Op("Add", [attentionOut, x]), weights, L + "attention.output.LayerNorm", n + "attention_ln", eps);

            string intermediate = Linear(g, precision, x, weights, L + "intermediate.dense", n + "intermediate", hidden, config.IntermediateSize);
            // Exact GELU: 0.5 * x * (1 + erf(x / sqrt(2))).
            string erf = g.Op("Erf", [g.Op("Div", [intermediate, sqrt2])]);
            string gelu = g.Op("Mul", [g.Op("Mul", [intermediate, g.Op("Add", [erf, oneF])]), half]);

            string output = Linear(g, precision, gelu, weights, L + "output.dense", n + "output", config.IntermediateSize, hidden);
            x = LayerNorm(g, g.Op("Add", [output, x]), weights, L + "output.LayerNorm", n + "output_ln", eps);
        }

        g.RenameOutput(x, "last_hidden_state");
        g.AddOutput("last_hidden_state", OnnxType.Float, "batch", "sequence", (long)hidden);
        return g;
    }

    /// <summary>x @ W^T + b for a torch Linear whose weight is [out, in].</summary>
    static string Linear(OnnxGraph g, WeightPrecision precision, string input, Safetensors weights, string name, string nodeName, int inFeatures, int outFeatures)
    {
        var transposed = new float[inFeatures * outFeatures];
        TransposeInto(weights, name + ".weight", inFeatures, outFeatures, transposed, 0, outFeatures);
        string bias = g.Initializer(nodeName + "_bias", weights.ReadFloat32(name + ".bias"), outFeatures);
        if (precision == WeightPrecision.Int8)
        {
            var (quantized, scales) = QuantizePerColumn(transposed, inFeatures, outFeatures);
            string q = g.Initializer(nodeName + "_weight_int8", quantized, inFeatures, outFeatures);
            string scale = g.Initializer(nodeName + "_weight_scale", scales, outFeatures);
            // Inputs: A, B, b_scale, b_zero_point (omitted: symmetric), bias.
            return g.OpMulti("DynamicQuantizeMatMul", [input, q, scale, "", bias], 1, "com.microsoft")[0];
        }
        string weight = g.Initializer(nodeName + "_weight", transposed, inFeatures, outFeatures);
        return g.Op("Add", [g.Op("MatMul", [input, weight]), bias]);
    }

    /// <summary>
    /// Symmetric int8 per output column of a row-major [in, out] matrix: scale = max |w| / 127 over
    /// the column, q = round-half-even(w / scale) (deterministic, so builds stay byte-reproducible).
    /// </summary>
    public static (sbyte[] Quantized, float[] Scales) QuantizePerColumn(float[] w, int rows, int columns)
    {
        var scales = new float[columns];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                scales[c] = MathF.Max(scales[c], MathF.Abs(w[r * columns + c]));
        for (int c = 0; c < columns; c++) scales[c] = scales[c] > 0 ? scales[c] / 127f : 1f;
        var quantized = new sbyte[w.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                quantized[r * columns + c] = (sbyte)Math.Clamp(MathF.Round(w[r * columns + c] / scales[c]), -127f, 127f);
        return (quantized, scales);
    }

    /// <summary>The query, key and value Linears packed as Attention wants them: weights [in, 3 x out] (x @ W form), bias [3 x out].</summary>
    static (float[] Weights, float[] Bias) PackedQkv(Safetensors weights, string prefix, int hidden)
    {
        var packed = new float[hidden * 3 * hidden];
        var bias = new float[3 * hidden];
        string[] parts = ["query", "key", "value"];
        for (int p = 0; p < 3; p++)
        {
            TransposeInto(weights, prefix + parts[p] + ".weight", hidden, hidden, packed, p * hidden, 3 * hidden);
            weights.ReadFloat32(prefix + parts[p] + ".bias").CopyTo(bias, p * hidden);
        }
        return (packed, bias);
    }

    /// <summary>
    /// A torch Linear weight [out, in] written transposed (x @ W form) into row-major <paramref name="destination"/>
    /// of <paramref name="destinationColumns"/> columns, starting at column <paramref name="firstColumn"/>.
    /// </summary>
    static void TransposeInto(Safetensors weights, string name, int inFeatures, int outFeatures, float[] destination, int firstColumn, int destinationColumns)
    {
        var w = weights.ReadFloat32(name);
        if (w.Length != inFeatures * outFeatures) throw new InvalidDataException($"{name} has {w.Length} values, expected {outFeatures}x{inFeatures}");
        for (int o = 0; o < outFeatures; o++)
            for (int i = 0; i < inFeatures; i++)
                destination[i * destinationColumns + firstColumn + o] = w[o * inFeatures + i];
    }

    static string LayerNorm(OnnxGraph g, string input, Safetensors weights, string name, string nodeName, float eps)
    {
        string gamma = g.Initializer(nodeName + "_gamma", weights.ReadFloat32(name + ".weight"), weights.Shape(name + ".weight"));
        string beta = g.Initializer(nodeName + "_beta", weights.ReadFloat32(name + ".bias"), weights.Shape(name + ".bias"));
        return g.Op("LayerNormalization", [input, gamma, beta], new OnnxAttribute("axis", Int: -1), new OnnxAttribute("epsilon", Float: eps));
    }
}
