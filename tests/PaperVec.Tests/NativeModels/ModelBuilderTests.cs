using System.Security.Cryptography;
using PaperVec.Embedding;
using PaperVec.NativeModels;

namespace PaperVec.Tests.NativeModels;

public class ModelBuilderTests
{
    [Fact]
    public void BuildIsByteReproducibleAndRecordsTheWeightsHash()
    {
        string a = Directory.CreateTempSubdirectory("pv-model-a").FullName, b = Directory.CreateTempSubdirectory("pv-model-b").FullName;
        try
        {
            var first = MiniLmModelBuilder.Build(RepoPaths.WeightsPackageDir, a);
            var second = MiniLmModelBuilder.Build(RepoPaths.WeightsPackageDir, b);
            Assert.Equal(first.ModelSha256, second.ModelSha256);
            Assert.Equal(File.ReadAllBytes(first.ModelPath), File.ReadAllBytes(second.ModelPath));

            string weights = Path.Combine(RepoPaths.WeightsPackageDir, "model.fp16.safetensors");
            string expectedWeightsSha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(weights)));
            var summary = OnnxModelSummary.Read(first.ModelPath);
            Assert.Equal(expectedWeightsSha, summary.Metadata["papervec.weights_sha256"]);
            Assert.True(summary.Opsets[""] >= 17);
            Assert.False(File.Exists(first.ModelPath + ".tmp"));
        }
        finally
        {
            Directory.Delete(a, true);
            Directory.Delete(b, true);
        }
    }

    /// <summary>An honest encoder: 6 layers of attention (Softmax), erf GELU, 13 LayerNorms, no contrib ops.</summary>
    [Fact]
    public void GraphIsAPlainBertForwardPass()
    {
        var summary = OnnxModelSummary.Read(Path.Combine(RepoPaths.ModelDir, "model.onnx"));
        Assert.Equal(6, summary.Count("Softmax"));
        Assert.Equal(6, summary.Count("Erf"));
        Assert.Equal(13, summary.Count("LayerNormalization"));
        Assert.Equal(6 * 6, summary.Count("MatMul") - 6 * 2); // 6 projections per layer, plus QK and PV
        Assert.DoesNotContain(summary.OpCounts.Keys, op => op.Contains('.'));
    }

    /// <summary>What ONNX Runtime's optimizer fuses at opset 17 (see native-models/README.md).</summary>
    [Fact]
    public void OnnxRuntimeFusesLayerNormsGeluAndAttentionScale()
    {
        string optimized = Path.Combine(Path.GetTempPath(), $"pv-opt-{Guid.NewGuid():N}.onnx");
        try
        {
            using (Embedder.Load(new EmbedderOptions { ModelDirectory = RepoPaths.ModelDir, OptimizedModelPath = optimized })) { }
            var summary = OnnxModelSummary.Read(optimized);
            Assert.Equal(13, summary.Count("com.microsoft.SkipLayerNormalization"));
            Assert.Equal(6, summary.Count("com.microsoft.BiasGelu"));
            Assert.Equal(6, summary.Count("com.microsoft.FusedMatMul"));
            Assert.Equal(0, summary.Count("LayerNormalization"));
            Assert.Equal(0, summary.Count("Erf"));
        }
        finally { File.Delete(optimized); }
    }

    [Fact]
    public void SafetensorsRejectsATruncatedFile()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [0x10, 0, 0, 0, 0, 0, 0, 0, (byte)'{']);
            var error = Assert.Throws<InvalidDataException>(() => Safetensors.Open(path));
            Assert.Contains("header length", error.Message);
        }
        finally { File.Delete(path); }
    }
}
