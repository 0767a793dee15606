using PaperVec.Api.Embedding;
using PaperVec.Tests.Embedding;

namespace PaperVec.Tests.Api;

[Collection("embedder")]
public class QueryEmbeddingBatcherTests(EmbedderFixture fixture)
{
    [Fact]
    public async Task ConcurrentQueriesShareOneBatchAndGetTheirOwnVectors()
    {
        string[] queries = ["robot grasping", "sparse attention", "diffusion models for images", "speech recognition", "graph networks", "video", "quantization", "explanations"];
        var sizes = new List<int>();
        // A long window, so all eight arrive before the first batch closes: it closes because it is full.
        using (var batcher = new QueryEmbeddingBatcher(fixture.Embedder, maxBatch: 8, window: TimeSpan.FromSeconds(30), (size, waits) => { lock (sizes) sizes.Add(size); }))
        {
            var vectors = await Task.WhenAll(queries.Select(q => batcher.EmbedAsync(q)));
            Assert.Equal([8], sizes);
            for (int i = 0; i < queries.Length; i++)
            {
                var alone = fixture.Embedder.Embed(queries[i]);
                Assert.True(System.Numerics.Tensors.TensorPrimitives.Dot(alone, vectors[i]) > 0.9999f, $"query {i} got another query's vector");
            }
        }

        // A lone query does not wait for company longer than the window.
        sizes.Clear();
        using (var batcher = new QueryEmbeddingBatcher(fixture.Embedder, maxBatch: 8, window: TimeSpan.FromMilliseconds(2), (size, _) => { lock (sizes) sizes.Add(size); }))
            Assert.Equal(fixture.Embedder.Dimension, (await batcher.EmbedAsync("one query")).Length);
        Assert.Equal([1], sizes);
    }
}
