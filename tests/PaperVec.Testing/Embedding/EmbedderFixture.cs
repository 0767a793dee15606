using PaperVec.Embedding;

namespace PaperVec.Tests.Embedding;

/// <summary>One CPU embedder shared by the embedding tests (loading the model takes a second).</summary>
public sealed class EmbedderFixture : IDisposable
{
    public Embedder Embedder { get; } = Embedder.Load(new EmbedderOptions { ModelDirectory = RepoPaths.ModelDir });

    public void Dispose() => Embedder.Dispose();
}
