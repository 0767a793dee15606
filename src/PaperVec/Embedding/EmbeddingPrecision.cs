namespace PaperVec.Embedding;

/// <summary>
/// The model's weight precision. Each is its own built model (native-models/out/all-MiniLM-L6-v2
/// and ...-int8) with its own model id, so stored vectors of one are never searched with the other's:
/// attaching a model of the other precision re-embeds them first, as any model change does.
/// </summary>
public enum EmbeddingPrecision
{
    Fp32,
    /// <summary>int8 weights, one scale per output column, in every Linear layer (com.microsoft.QAttention and DynamicQuantizeMatMul).</summary>
    Int8,
}
