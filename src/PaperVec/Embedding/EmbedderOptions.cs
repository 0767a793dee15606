namespace PaperVec.Embedding;

/// <summary>Settings of an <see cref="Embedder"/>. Defaults come from `papervec bench embed` on a 2-core machine (see README).</summary>
public sealed record EmbedderOptions
{
    public EmbeddingDevice Device { get; init; } = EmbeddingDevice.Cpu;
    /// <summary>ONNX Runtime intra-op threads; 0 means one per core.</summary>
    public int Threads { get; init; }
    /// <summary>Texts per forward pass. Texts are sorted by length first, so padding stays small.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Tokens per text, [CLS] and [SEP] included (the model was trained with 256).</summary>
    public int MaxTokens { get; init; } = BertTokenizer.DefaultMaxTokens;
    /// <summary>ONNX Runtime writes the optimized graph here when set (to inspect what fused).</summary>
    public string? OptimizedModelPath { get; init; }
    public string? ModelDirectory { get; init; }
}
