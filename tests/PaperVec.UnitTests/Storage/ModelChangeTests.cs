using PaperVec.Ingest;
using PaperVec.Storage;
using PaperVec.Tests.Embedding;

namespace PaperVec.Tests.Storage;

[Collection("embedder")]
public class ModelChangeTests(EmbedderFixture fixture)
{
    [Fact]
    public async Task PapersFromAnotherModelAreReembeddedNotMixed()
    {
        string dir = StoreTestData.TempDir();
        try
        {
            await using var db = await PaperDatabase.OpenAsync(dir);
            var embedder = fixture.Embedder;
            var ingestor = new PaperIngestor(db, embedder);
            ingestor.Ingest([new IncomingPaper("Graph neural networks for molecules", "We embed molecular graphs with message passing.")]);
            Assert.Equal(embedder.ModelId, db.ModelId);

            // Pretend an older model made this paper's vector.
            var random = new Random(9);
            var old = StoreTestData.Paper(1, random) with { ModelId = "old-model/000000000000/b0" };
            db.Commit(new WriteBatch().PutPaper(old).PutModelId("old-model/000000000000/b0"));
            Assert.Single(ModelChangeReembedder.Stale(db, embedder.ModelId));

            Assert.Equal(1, await ModelChangeReembedder.ReembedAsync(db, embedder));
            var updated = db.GetPaper(old.Key)!;
            Assert.Equal(embedder.ModelId, updated.ModelId);
            Assert.True(System.Numerics.Tensors.TensorPrimitives.Dot(updated.Vector, embedder.Embed(PaperVec.Embedding.PaperText.ForEmbedding(old.Title, old.Abstract))) > 0.9999f);
            Assert.Empty(ModelChangeReembedder.Stale(db, embedder.ModelId));
            Assert.Equal(0, await ModelChangeReembedder.ReembedAsync(db, embedder));
        }
        finally { Directory.Delete(dir, true); }
    }
}
