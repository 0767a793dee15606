namespace PaperVec.Api.Hosting;

/// <summary>What `papervec serve` is told: where the data is, where to listen, and the limits it enforces.</summary>
public sealed record ServerOptions
{
    public const string DefaultUrl = "http://127.0.0.1:5080";
    public const string ApiKeyVariable = "PAPERVEC_API_KEY";
    /// <summary>The configuration key of the API key (appsettings.json, or the variable PaperVec__ApiKey).</summary>
    public const string ApiKeyConfigKey = "PaperVec:ApiKey";

    /// <summary>Data directory (null: $PAPERVEC_DATA, else ./papervec-data).</summary>
    public string? DataPath { get; init; }
    public IReadOnlyList<string> Urls { get; init; } = [DefaultUrl];
    /// <summary>Required on write endpoints when set; null means $PAPERVEC_API_KEY, else configuration.</summary>
    public string? ApiKey { get; init; }
    /// <summary>Where the model lives (null: the checkout's native-models/out, or $PAPERVEC_MODEL_DIR).</summary>
    public string? ModelDirectory { get; init; }
    /// <summary>Which built model serves when <see cref="ModelDirectory"/> names none (a change of precision re-embeds the store first).</summary>
    public PaperVec.Embedding.EmbeddingPrecision Precision { get; init; } = new PaperVec.Embedding.EmbedderOptions().Precision;
    public long MaxBodyBytes { get; init; } = 10L << 20;
    /// <summary>Longest search text, in characters: a whole abstract fits (the record reader's own limit).</summary>
    public int MaxQueryChars { get; init; } = PaperVec.Ingest.PaperRecordReader.MaxAbstractChars;
    /// <summary>Most papers one POST /papers or POST /digests may carry: one durable write, embedded in one go.</summary>
    public int MaxPapersPerRequest { get; init; } = 1000;
    /// <summary>
    /// Query embeddings wait at most this long for others to share their forward pass. Zero by
    /// default: a batch takes the queries that queued while the previous one ran, which under load
    /// fills batches without delaying a lone query (at 20 searches/s a 2 ms window was 2 ms on
    /// every search and joined nothing).
    /// </summary>
    public TimeSpan QueryBatchWindow { get; init; } = TimeSpan.Zero;
    /// <summary>Queries embedded together at most (1 turns batching off, for comparison).</summary>
    public int MaxQueryBatch { get; init; } = 32;
    public int CheckpointAfterWalMegabytes { get; init; } = 256;
    /// <summary>Memory of the store's log (older records are read from disk); tests lower it to read records from disk.</summary>
    public long StoreMemoryBytes { get; init; } = new PaperVec.Storage.PaperDatabaseOptions().StoreMemoryBytes;
    /// <summary>The database's other settings (the fields above override theirs): the fault tests give it a device that fails on demand.</summary>
    public PaperVec.Storage.PaperDatabaseOptions Storage { get; init; } = new();
    /// <summary>Where e-mail digests go (null: PaperVec:Smtp in configuration, else none are sent).</summary>
    public Libraries.SmtpOptions? Smtp { get; init; }
    /// <summary>Start-up and shutdown notes (the command line prints them).</summary>
    public Action<string>? Log { get; init; }
    /// <summary>Progress of index rebuilds (done, total): tests hold a background lexical rebuild with it.</summary>
    internal Action<long, long>? RebuildProgress { get; init; }
}
