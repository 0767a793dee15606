namespace PaperVec.Tests.Embedding;

// xunit 2 looks for collection definitions only in the test assembly, so each lane declares this one
// over the shared fixture (PaperVec.Testing/Embedding/EmbedderFixture.cs).
[CollectionDefinition("embedder")]
public sealed class EmbedderCollection : ICollectionFixture<EmbedderFixture>;
