using System.Security.Cryptography;

namespace PaperVec.NativeModels;

/// <summary>
/// Turns the unpacked weights package (config.json, tokenizer.json, a safetensors file) into the
/// model folder PaperVec runs: model.onnx, tokenizer.json and config.json. The ONNX file is written
/// to a temporary name and renamed, so a crash never leaves a half-written model behind.
/// </summary>
public static class MiniLmModelBuilder
{
    public const string BuilderVersion = "1";
    public const string ModelName = "all-MiniLM-L6-v2";

    public sealed record Result(string ModelPath, string ModelSha256, string WeightsSha256, int NodeCount, long Bytes);

    /// <param name="fusedAttention">
    /// Write each layer's attention as one com.microsoft.Attention node (the default): the same
    /// vectors (cosine >= 0.99999, tested) faster. The model id stays the same for both graphs: it
    /// names the weights and the builder, i.e. the vector space, not the node layout.
    /// </param>
    /// <param name="precision">Int8: every Linear layer holds int8 weights (<see cref="WeightPrecision.Int8"/>); the model id then ends in /int8, so its vectors are never searched with fp32 ones.</param>
    public static Result Build(string packageModelDir, string outputDir, bool fusedAttention = true, WeightPrecision precision = WeightPrecision.Fp32)
    {
        string configPath = Path.Combine(packageModelDir, "config.json");
        string tokenizerPath = Path.Combine(packageModelDir, "tokenizer.json");
        string weightsPath = new[] { "model.safetensors", "model.fp16.safetensors" }
            .Select(f => Path.Combine(packageModelDir, f)).FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"no model.safetensors or model.fp16.safetensors in {packageModelDir}");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"missing {configPath}");
        if (!File.Exists(tokenizerPath)) throw new FileNotFoundException($"missing {tokenizerPath}");

        var config = BertConfig.Load(configPath);
        var weights = Safetensors.Open(weightsPath);
        var graph = BertOnnxBuilder.Build(config, weights, fusedAttention, precision);
        var metadata = new List<KeyValuePair<string, string>>
        {
            new("papervec.model", ModelName),
            new("papervec.weights_file", Path.GetFileName(weightsPath)),
            new("papervec.weights_sha256", weights.Sha256),
            new("papervec.hidden_size", config.HiddenSize.ToString()),
            new("papervec.builder_version", BuilderVersion),
            new("papervec.graph", fusedAttention ? "fused-attention" : "plain"),
            new("papervec.precision", precision == WeightPrecision.Int8 ? "int8" : "fp32"),
        };
        byte[] model = graph.Serialize(BertOnnxBuilder.Opset, fusedAttention || precision == WeightPrecision.Int8 ? [("com.microsoft", BertOnnxBuilder.ContribOpset)] : [], metadata, BuilderVersion);

        Directory.CreateDirectory(outputDir);
        string modelPath = Path.Combine(outputDir, "model.onnx");
        WriteAtomically(Path.Combine(outputDir, "tokenizer.json"), File.ReadAllBytes(tokenizerPath));
        WriteAtomically(Path.Combine(outputDir, "config.json"), File.ReadAllBytes(configPath));
        WriteAtomically(modelPath, model);
        return new Result(modelPath, Convert.ToHexStringLower(SHA256.HashData(model)), weights.Sha256, graph.NodeOpTypes.Count(), model.Length);
    }

    static void WriteAtomically(string path, byte[] bytes)
    {
        string temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
