using System.Security.Cryptography;
using PaperVec.Embedding;
using PaperVec.NativeModels;

namespace PaperVec.Tests.NativeModels;

/// <summary>Both graphs built once for this class (a build takes a few seconds).</summary>
public sealed class BuiltGraphs : IDisposable
{
    public string PlainDir { get; } = Directory.CreateTempSubdirectory("pv-model-plain").FullName;
    public string FusedDir { get; } = Directory.CreateTempSubdirectory("pv-model-fused").FullName;
    public string Int8Dir { get; } = Directory.CreateTempSubdirectory("pv-model-int8").FullName;
    public string PlainModel => Path.Combine(PlainDir, "model.onnx");
    public string FusedModel => Path.Combine(FusedDir, "model.onnx");

    public BuiltGraphs()
    {
        MiniLmModelBuilder.Build(RepoPaths.WeightsPackageDir, PlainDir, fusedAttention: false);
        MiniLmModelBuilder.Build(RepoPaths.WeightsPackageDir, FusedDir);
        MiniLmModelBuilder.Build(RepoPaths.WeightsPackageDir, Int8Dir, precision: WeightPrecision.Int8);
    }

    public void Dispose()
    {
        Directory.Delete(PlainDir, true);
        Directory.Delete(FusedDir, true);
        Directory.Delete(Int8Dir, true);
    }
}

[CollectionDefinition("built-graphs")]
public sealed class BuiltGraphsCollection : ICollectionFixture<BuiltGraphs>;

[Collection("built-graphs")]
public class ModelBuilderTests(BuiltGraphs graphs)
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
    public void Int8BuildIsByteReproducibleAndQuantisesEveryLinearLayer()
    {
        string again = Directory.CreateTempSubdirectory("pv-model-int8-again").FullName;
        try
        {
            var second = MiniLmModelBuilder.Build(RepoPaths.WeightsPackageDir, again, precision: WeightPrecision.Int8);
            Assert.Equal(File.ReadAllBytes(Path.Combine(graphs.Int8Dir, "model.onnx")), File.ReadAllBytes(second.ModelPath));
        }
        finally { Directory.Delete(again, true); }
        var summary = OnnxModelSummary.Read(Path.Combine(graphs.Int8Dir, "model.onnx"));
        Assert.Equal(6 * 3, summary.Count("com.microsoft.DynamicQuantizeMatMul"));
        Assert.Equal(6, summary.Count("com.microsoft.QAttention"));
        Assert.Equal(0, summary.Count("MatMul"));
        Assert.Equal("int8", summary.Metadata["papervec.precision"]);
    }

    [Fact]
    public void PerColumnQuantisationKeepsEachColumnWithinHalfAStep()
    {
        var random = new Random(3);
        var w = Enumerable.Range(0, 16 * 5).Select(_ => (float)(random.NextDouble() * 2 - 1) * (1 + random.Next(4))).ToArray();
        w[7] = 0; // a zero stays zero
        var (q, scales) = BertOnnxBuilder.QuantizePerColumn(w, 16, 5);
        for (int c = 0; c < 5; c++)
        {
            float max = Enumerable.Range(0, 16).Max(r => MathF.Abs(w[r * 5 + c]));
            Assert.Equal(max / 127f, scales[c], 6);
            for (int r = 0; r < 16; r++)
                Assert.InRange(MathF.Abs(q[r * 5 + c] * scales[c] - w[r * 5 + c]), 0f, scales[c] / 2 + 1e-6f);
        }
        Assert.Equal(0, q[7]);
        Assert.Contains(q, v => v == 127 || v == -127);
    }

    /// <summary>int8 vectors stay close to fp32's (the floor: mean cosine >= 0.99) but are another model: another id.</summary>
    [Fact]
    public void Int8VectorsAreCloseToFp32ButCarryTheirOwnModelId()
    {
        var texts = PaperVec.Tests.Embedding.EmbedderTests.ReferenceCases().Select(c => (string)c[1]).ToList();
        using var fp32 = Embedder.Load(new EmbedderOptions { ModelDirectory = graphs.FusedDir });
        using var int8 = Embedder.Load(new EmbedderOptions { ModelDirectory = graphs.Int8Dir });
        Assert.Equal(EmbeddingPrecision.Int8, int8.Precision);
        Assert.Equal(fp32.ModelId + "/int8", int8.ModelId);
        var a = fp32.Embed(texts);
        var b = int8.Embed(texts);
        var cosines = a.Zip(b, (x, y) => (double)System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(x, y)).ToList();
        Assert.True(cosines.Average() >= 0.99, $"mean cosine {cosines.Average():0.0000}");
        Assert.True(cosines.Min() >= 0.97, $"min cosine {cosines.Min():0.0000}");
        // One text per forward pass by default, so a text's int8 vector does not depend on its batch mates.
        Assert.Equal(1, int8.Options.BatchSize);
        for (int i = 0; i < texts.Count; i += 7)
            Assert.True(System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(b[i], int8.Embed(texts[i])) >= 0.999999f, $"text {i} alone differs from the batch");
    }

    /// <summary>Switching a store to the int8 model re-embeds every paper before anything searches: no mixed vectors.</summary>
    [Fact]
    public async Task AStoreSwitchedToInt8IsReembeddedBeforeItIsSearched()
    {
        string dir = Directory.CreateTempSubdirectory("pv-precision-store").FullName;
        try
        {
            using var fp32 = Embedder.Load(new EmbedderOptions { ModelDirectory = graphs.FusedDir });
            using var int8 = Embedder.Load(new EmbedderOptions { ModelDirectory = graphs.Int8Dir });
            string[] titles = ["Graph neural networks for molecules", "Contrastive learning of visual representations", "Retrieval-augmented language models"];
            await using (var collection = await PaperVec.Engine.PaperCollection.OpenAsync(dir))
            {
                await collection.AttachModelAsync(fp32);
                await collection.IngestAsync(titles.Select(t => new PaperVec.Ingest.IncomingPaper(t, $"We study {t.ToLowerInvariant()} at scale.")).ToList());
                Assert.Equal(fp32.ModelId, collection.Database.ModelId);
            }
            await using (var collection = await PaperVec.Engine.PaperCollection.OpenAsync(dir))
            {
                Assert.Equal(3, await collection.AttachModelAsync(int8));
                Assert.Equal(int8.ModelId, collection.Database.ModelId);
                foreach (var title in titles)
                {
                    long key = PaperVec.Storage.PaperIdentity.KeyOfTitle(title);
                    var stored = collection.Database.GetPaper(key)!;
                    Assert.Equal(int8.ModelId, stored.ModelId);
                    Assert.True(System.Numerics.Tensors.TensorPrimitives.Dot(stored.Vector, int8.Embed(PaperVec.Embedding.PaperText.ForEmbedding(stored.Title, stored.Abstract))) > 0.99999f);
                }
            }
        }
        finally { Directory.Delete(dir, true); }
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
