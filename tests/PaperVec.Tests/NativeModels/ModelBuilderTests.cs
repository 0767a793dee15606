using System.Security.Cryptography;
using PaperVec.Embedding;
using PaperVec.NativeModels;

namespace PaperVec.Tests.NativeModels;

/// <summary>Both graphs built once for this class (a build takes a few seconds).</summary>
public sealed class BuiltGraphs : IDisposable
{
    public string PlainDir { get; } = Directory.CreateTempSubdirectory("pv-model-plain").FullName;
    public string FusedDir { get; } = Directory.CreateTempSubdirectory("pv-model-fused").FullName;
    public string PlainModel => Path.Combine(PlainDir, "model.onnx");
    public string FusedModel => Path.Combine(FusedDir, "model.onnx");

    public BuiltGraphs()
    {
        MiniLmModelBuilder.Build(RepoPaths.WeightsPackageDir, PlainDir, fusedAttention: false);
        MiniLmModelBuilder.Build(RepoPaths.WeightsPackageDir, FusedDir);
    }

    public void Dispose()
    {
        Directory.Delete(PlainDir, true);
        Directory.Delete(FusedDir, true);
    }
}

public class ModelBuilderTests(BuiltGraphs graphs) : IClassFixture<BuiltGraphs>
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

    /// <summary>The plain graph: an honest encoder, 6 layers of attention (Softmax), erf GELU, 13 LayerNorms, no contrib ops.</summary>
    [Fact]
    public void PlainGraphIsABertForwardPassOfStandardOps()
    {
        var summary = OnnxModelSummary.Read(graphs.PlainModel);
        Assert.Equal(6, summary.Count("Softmax"));
        Assert.Equal(6, summary.Count("Erf"));
        Assert.Equal(13, summary.Count("LayerNormalization"));
        Assert.Equal(6 * 6, summary.Count("MatMul") - 6 * 2); // 6 projections per layer, plus QK and PV
        Assert.DoesNotContain(summary.OpCounts.Keys, op => op.Contains('.'));
        Assert.Equal("plain", summary.Metadata["papervec.graph"]);
    }

    /// <summary>The default graph writes each layer's attention as one com.microsoft.Attention (ORT does not fuse it at opset 17).</summary>
    [Fact]
    public void DefaultGraphHasOneAttentionNodePerLayer()
    {
        var summary = OnnxModelSummary.Read(graphs.FusedModel);
        Assert.Equal(6, summary.Count("com.microsoft.Attention"));
        Assert.Equal(0, summary.Count("Softmax"));
        Assert.Equal(0, summary.Count("Transpose"));
        Assert.Equal(6 * 3, summary.Count("MatMul")); // the output projection and the two feed-forward layers; Q, K and V are packed into Attention
        Assert.Equal(1, summary.Opsets["com.microsoft"]);
        Assert.Equal("fused-attention", summary.Metadata["papervec.graph"]);
    }

    /// <summary>What ONNX Runtime's optimizer fuses on top, in both graphs (see native-models/README.md).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OnnxRuntimeFusesLayerNormsAndGelu(bool fused)
    {
        string optimized = Path.Combine(Path.GetTempPath(), $"pv-opt-{Guid.NewGuid():N}.onnx");
        try
        {
            using (Embedder.Load(new EmbedderOptions { ModelDirectory = fused ? graphs.FusedDir : graphs.PlainDir, OptimizedModelPath = optimized })) { }
            var summary = OnnxModelSummary.Read(optimized);
            Assert.Equal(13, summary.Count("com.microsoft.SkipLayerNormalization"));
            Assert.Equal(6, summary.Count("com.microsoft.BiasGelu"));
            Assert.Equal(fused ? 0 : 6, summary.Count("com.microsoft.FusedMatMul"));
            Assert.Equal(fused ? 6 : 0, summary.Count("com.microsoft.Attention"));
            Assert.Equal(0, summary.Count("LayerNormalization"));
            Assert.Equal(0, summary.Count("Erf"));
        }
        finally { File.Delete(optimized); }
    }

    /// <summary>The fused graph is the same function: equal vectors on the golden texts, alone and in a padded batch, and the same model id.</summary>
    [Fact]
    public void FusedAndPlainGraphsGiveTheSameVectors()
    {
        var texts = PaperVec.Tests.Embedding.EmbedderTests.ReferenceCases().Select(c => (string)c[1]).ToList();
        using var plain = Embedder.Load(new EmbedderOptions { ModelDirectory = graphs.PlainDir });
        using var fused = Embedder.Load(new EmbedderOptions { ModelDirectory = graphs.FusedDir });
        Assert.Equal(plain.ModelId, fused.ModelId);
        var expected = plain.Embed(texts);
        var batched = fused.Embed(texts);
        var failures = new List<string>();
        for (int i = 0; i < texts.Count; i++)
        {
            double inBatch = System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(expected[i], batched[i]);
            double alone = System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(expected[i], fused.Embed(texts[i]));
            if (inBatch < 0.99999 || alone < 0.99999) failures.Add($"text {i}: cosine {inBatch:0.0000000} in a batch, {alone:0.0000000} alone");
        }
        Assert.Empty(failures);
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
