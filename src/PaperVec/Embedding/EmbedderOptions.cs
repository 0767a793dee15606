namespace PaperVec.Embedding;

/// <summary>Settings of an <see cref="Embedder"/>. Defaults come from `papervec bench embed` on a 2-core machine (see README).</summary>
public sealed record EmbedderOptions
{
    public EmbeddingDevice Device { get; init; } = EmbeddingDevice.Cpu;
    /// <summary>
    /// Batches run at once, each on its own thread; 0 means one per core. On 2 cores, two
    /// single-threaded forward passes beat one pass on two threads (measured: see README).
    /// </summary>
    public int Workers { get; init; }
    /// <summary>ONNX Runtime intra-op threads per forward pass; 0 means cores / workers.</summary>
    public int Threads { get; init; }
    /// <summary>Texts per forward pass (sorted by length first, so padding stays small); 0: <see cref="DefaultBatchSize"/> of the loaded model's precision.</summary>
    public int BatchSize { get; init; }

    /// <summary>
    /// fp32: 8. int8: 1, because int8 activations are quantised per tensor at run time, so a text's
    /// vector would depend on the texts and padding sharing its batch (cosine ~0.999 apart); alone
    /// it is always the same. Abstracts embed as fast one at a time (measured: int8 80.6 abstracts/s
    /// at batch 1, 69.7 at batch 8, 200 abstracts of the shared corpus).
    /// </summary>
    public static int DefaultBatchSize(EmbeddingPrecision precision) => precision == EmbeddingPrecision.Int8 ? 1 : 8;

    public int EffectiveWorkers => Workers > 0 ? Workers : Environment.ProcessorCount;
    public int EffectiveThreads => Threads > 0 ? Threads : Math.Max(1, Environment.ProcessorCount / EffectiveWorkers);
    /// <summary>
    /// Runs every call that makes a single batch (a lone query, a few queries) on the session with
    /// intra-op threads on all cores, built at load rather than on first use, with its threads not
    /// spinning between runs so they leave the cores to other requests. For servers: one short
    /// query (18 tokens) took 6.8 ms on two threads vs 11.3 ms on one (p50, this 2-core VM). Off
    /// by default, because building the second session costs a one-off command more than it saves.
    /// </summary>
    public bool AllCoresForSingleBatches { get; init; }
    /// <summary>
    /// Whether ONNX Runtime's intra-op threads spin between runs (null: ONNX Runtime's default, spinning).
    /// Matters only with more than one thread per forward pass; the default of one single-threaded
    /// worker per core has none to spin.
    /// </summary>
    public bool? Spinning { get; init; }
    /// <summary>Tokens per text, [CLS] and [SEP] included (the model was trained with 256).</summary>
    public int MaxTokens { get; init; } = BertTokenizer.DefaultMaxTokens;
    /// <summary>ONNX Runtime writes the optimized graph here when set (to inspect what fused).</summary>
    public string? OptimizedModelPath { get; init; }
    /// <summary>The model folder; null: $PAPERVEC_MODEL_DIR, else the checkout's built model of <see cref="Precision"/>.</summary>
    public string? ModelDirectory { get; init; }
    /// <summary>
    /// Which built model to load when <see cref="ModelDirectory"/> does not name one. int8 by default:
    /// 1.88x fp32's abstracts/s, SciFact nDCG@10 64.18 (fp32 64.51), mean cosine to fp32 0.995
    /// (README, Embedding).
    /// </summary>
    public EmbeddingPrecision Precision { get; init; } = EmbeddingPrecision.Int8;
}
