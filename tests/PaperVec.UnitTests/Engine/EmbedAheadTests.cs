using System.Numerics.Tensors;
using PaperVec.Ingest;
using PaperVec.Embedding;
using PaperVec.Engine;
using PaperVec.Storage;
using PaperVec.Tests.NativeModels;

namespace PaperVec.Tests.Engine;

/// <summary>Embedding before the write gate (PaperCollection.EmbedAhead) stores exactly what embedding inside it would.</summary>
[Collection("built-graphs")]
public class EmbedAheadTests(BuiltGraphs graphs)
{
    static List<IncomingPaper> Papers(params string[] titles) =>
        titles.Select(t => new IncomingPaper(t, $"We study {t.ToLowerInvariant()} with a new method and report results.")).ToList();

    [Fact]
    public async Task VectorsMadeAheadAreTheOnesStoredAndStoredPapersAreNotEmbeddedAgain()
    {
        string dir = Directory.CreateTempSubdirectory("pv-embed-ahead").FullName;
        try
        {
            using var embedder = Embedder.Load(new EmbedderOptions { ModelDirectory = graphs.Int8Dir });
            await using var collection = await PaperCollection.OpenAsync(dir);
            await collection.AttachModelAsync(embedder);
            await collection.IngestAsync(Papers("Sparse attention for long documents"));

            var batch = Papers("Sparse attention for long documents", "Diffusion models for protein design", "Federated learning under drift");
            var ahead = collection.EmbedAhead(batch);
            Assert.Equal(embedder.ModelId, ahead.ModelId);
            Assert.Equal(2, ahead.Vectors.Count); // the stored paper is not embedded again
            var result = await collection.IngestAsync(batch, embedded: ahead);
            Assert.Equal(2, result.New);
            Assert.Equal(1, result.SeenExact);
            foreach (var paper in batch.Skip(1))
            {
                var stored = collection.Database.GetPaper(PaperIdentity.KeyOfTitle(paper.Title))!;
                string text = PaperText.ForEmbedding(paper.Title, paper.Abstract);
                Assert.Equal(ahead.Vectors[text], stored.Vector);
                Assert.True(TensorPrimitives.Dot(stored.Vector, embedder.Embed(text)) > 0.99999f);
                Assert.Equal(embedder.ModelId, stored.ModelId);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task VectorsMadeAheadByAModelReplacedSinceAreNotUsed()
    {
        string dir = Directory.CreateTempSubdirectory("pv-embed-ahead-stale").FullName;
        try
        {
            using var fp32 = Embedder.Load(new EmbedderOptions { ModelDirectory = graphs.FusedDir });
            using var int8 = Embedder.Load(new EmbedderOptions { ModelDirectory = graphs.Int8Dir });
            await using var collection = await PaperCollection.OpenAsync(dir);
            await collection.AttachModelAsync(fp32);
            var batch = Papers("Graph transformers for molecules");
            var ahead = collection.EmbedAhead(batch);
            await collection.AttachModelAsync(int8);
            await collection.IngestAsync(batch, embedded: ahead);
            var stored = collection.Database.GetPaper(PaperIdentity.KeyOfTitle(batch[0].Title))!;
            Assert.Equal(int8.ModelId, stored.ModelId);
            Assert.True(TensorPrimitives.Dot(stored.Vector, int8.Embed(PaperText.ForEmbedding(batch[0].Title, batch[0].Abstract))) > 0.99999f);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task BadInputFailsBeforeAnythingIsEmbedded()
    {
        string dir = Directory.CreateTempSubdirectory("pv-embed-ahead-bad").FullName;
        try
        {
            await using var collection = await PaperCollection.OpenAsync(dir);
            using var embedder = Embedder.Load(new EmbedderOptions { ModelDirectory = graphs.Int8Dir });
            await collection.AttachModelAsync(embedder);
            var error = Assert.Throws<InvalidDataException>(() => collection.EmbedAhead([new IncomingPaper("", "an abstract")]));
            Assert.Contains("record 1", error.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
