using System.Collections.Concurrent;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using FASTER.core;
using PaperVec.Index;
using PaperVec.Lexical;

namespace PaperVec.Storage;

/// <summary>How a data directory is opened.</summary>
public enum OpenMode
{
    /// <summary>Recover, refuse a directory that would lose acknowledged data, checkpoint what was replayed.</summary>
    Normal,
    /// <summary>Recover in memory and report every problem instead of refusing; write nothing (papervec verify).</summary>
    Verify,
    /// <summary>Keep what is readable before damage in the log, set the damaged log aside, checkpoint (papervec repair).</summary>
    AcceptLoss,
}

/// <summary>Settings of a <see cref="PaperDatabase"/>.</summary>
public sealed record PaperDatabaseOptions
{
    public int Dimension { get; init; } = 384;
    public HnswOptions Index { get; init; } = new();
    /// <summary>Where searches turn from exact to the graph: <see cref="VectorSearchPolicy.ExactSearchBelow"/>; tests lower it.</summary>
    internal int ExactSearchBelow { get; init; } = VectorSearchPolicy.ExactSearchBelow;
    /// <summary>Checkpoint once the write-ahead log holds this many bytes past the last checkpoint.</summary>
    public long CheckpointAfterWalBytes { get; init; } = 256L << 20;
    /// <summary>After a checkpoint failed (disk full, say), the next one is tried no sooner than this.</summary>
    public TimeSpan CheckpointRetryAfter { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>A store checkpoint that has not finished by then is given up and the store refuses writes until restart.</summary>
    public TimeSpan CheckpointTimeout { get; init; } = TimeSpan.FromMinutes(2);
    public long StoreMemoryBytes { get; init; } = 1L << 28;
    /// <summary>Byte budget of the warm library models (<see cref="Recommend.LibraryModelCache"/>), least recently used out first.</summary>
    public long LibraryModelCacheBytes { get; init; } = Recommend.LibraryModelCache.DefaultMaxBytes;
    public OpenMode Mode { get; init; } = OpenMode.Normal;
    /// <summary>Recovery notes (what was replayed, rebuilt or found damaged).</summary>
    public Action<string>? Log { get; init; }
    /// <summary>Progress of an index rebuild: (done, total).</summary>
    public Action<long, long>? RebuildProgress { get; init; }
    /// <summary>Makes the FASTER devices from their file paths: tests wrap them to fail on demand.</summary>
    public Func<string, IDevice>? DeviceFactory { get; init; }
    /// <summary>
    /// Called at each <see cref="CheckpointStep"/> with the path that step wrote: the crash tests' host
    /// (tests/PaperVec.CrashHost) ends the process there to prove recovery. Null in every shipped host.
    /// </summary>
    internal Action<CheckpointStep, string>? AtCheckpointStep { get; init; }
    /// <summary>
    /// Rebuild a damaged or stale lexical index in the background (the server: it serves meanwhile, lexical
    /// answers degraded) instead of before open returns (tools, which answer once and exit).
    /// </summary>
    public bool RebuildLexicalInBackground { get; init; }
    /// <summary>After a failed background rebuild of the lexical index, the next try waits this long (doubling up to a minute).</summary>
    public TimeSpan LexicalRetryAfter { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>A write-ahead log device write pending this long fails the write as an I/O error (<see cref="WriteAheadLogOptions.CommitTimeout"/>); tests shorten it.</summary>
    internal TimeSpan WalCommitTimeout { get; init; } = new WriteAheadLogOptions().CommitTimeout;
    /// <summary>After an I/O error, the first background retry of the write-ahead log (doubling up to 30 s); tests shorten it.</summary>
    internal TimeSpan WalRetryAfter { get; init; } = new WriteAheadLogOptions().RetryAfter;
    /// <summary>Makes the lexical index's Lucene directory from its path: tests wrap it to fail on demand.</summary>
    internal Func<string, Lucene.Net.Store.Directory>? LexicalDirectoryFactory { get; init; }
}

/// <summary>What opening the database found and did.</summary>
public sealed record RecoveryReport(bool FromCheckpoint, int ReplayedBatches, bool IndexRebuilt, string? IndexRebuildReason,
    IReadOnlyList<string> Damage, int Papers, TimeSpan Elapsed)
{
    /// <summary>Log changes that could not be applied (records too large for the store, from before the limits) and were skipped.</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];
    /// <summary>papervec repair: what it kept, what it found unreadable or lost, and what it moved aside (paths), one line each.</summary>
    public IReadOnlyList<string> Repaired { get; init; } = [];
}

/// <summary>
/// Papers, their vectors and digests, durable on local disk, with the HNSW index kept in step.
///
/// Durability design: FASTER checkpoints alone lose everything since the last checkpoint, and a
/// checkpoint per commit would rewrite the hash index each time; so every write is first a
/// <see cref="WriteAheadLog"/> entry (one <see cref="WriteBatch"/>, checksummed), and a write is
/// acknowledged only when that entry is committed (group commit: concurrent writers share one
/// flush). Only then is the batch applied to the FASTER store, the index and the in-memory tables,
/// in log order: nothing is visible before it is durable, and a failed commit leaves no trace.
/// A checkpoint (in the background every <see cref="PaperDatabaseOptions.CheckpointAfterWalBytes"/>,
/// and on close) takes a FASTER fold-over checkpoint and an index snapshot at one log position,
/// names both and the store files they need in checkpoint.json, then truncates the log before it.
///
/// Recovery verifies before it changes anything: the manifest, the files it names, the log's commit
/// record and segments, every entry's checksum and sequence number. A directory that would lose
/// acknowledged data refuses to open with one line naming the problem (papervec verify lists them,
/// papervec repair accepts the loss explicitly). A missing or mismatched index snapshot is rebuilt
/// from the stored vectors: it is derived data.
/// </summary>
public sealed partial class PaperDatabase : IAsyncDisposable
{
    public const byte PaperPrefix = (byte)'P', AliasPrefix = (byte)'S', DigestPrefix = (byte)'D', MetaPrefix = (byte)'M', TitleAliasPrefix = (byte)'T',
        LibraryPrefix = (byte)'L';
    static readonly byte[] ModelIdKey = [MetaPrefix, .. Encoding.ASCII.GetBytes("model")];

    readonly DataDirectory _directory;
    RecordStore _store = null!; // made by RecoverAsync
    // The in-memory catalog and the vector-search policy, each its own job (see their types).
    readonly PaperCatalog _catalog = new();
    VectorSearchPolicy _vectors = null!; // made at open, over the recovered index
    WriteAheadLog _wal = null!; // opened at open; by papervec repair only once it has read the old log
    HnswIndex _index;
    LexicalIndex _lexical;
    readonly PaperDatabaseOptions _options;
    CheckpointManifest? _manifest;
    volatile bool _disposed;

    public RecoveryReport Recovery { get; private set; } = null!;
    public string Root => _directory.Root;
    /// <summary>Papers stored: the index's live count, which recovery verifies equals the store's.</summary>
    public int PaperCount => _index.LiveCount;
    /// <summary>Summaries, ids, digests, libraries and sampling, in memory, kept in step with every applied write.</summary>
    public PaperCatalog Catalog => _catalog;
    /// <summary>Vector searches: exact below the crossover, the graph above it.</summary>
    public VectorSearchPolicy Vectors => _vectors;
    /// <summary>The graph itself, for the storage code and tests; searches go through <see cref="Vectors"/>.</summary>
    internal HnswIndex Index => _index;
    /// <summary>The write-ahead log's end, where the next write is appended (tests: a refused write appends nothing).</summary>
    internal long LogTailAddress => _wal.TailAddress;
    public int Dimension => _options.Dimension;

    /// <summary>
    /// Opens (and recovers) the data directory at <paramref name="path"/>: store recovery, log replay and
    /// the checkpoint of what was replayed are awaited, no thread blocked on them. Refuses, with one
    /// line naming the problem, a directory that would lose acknowledged data (<see cref="OpenMode"/>).
    /// </summary>
    public static async Task<PaperDatabase> OpenAsync(string? path, PaperDatabaseOptions? options = null)
    {
        options ??= new PaperDatabaseOptions();
        // verify changes nothing on disk, not even the lock file or the folders a new directory gets.
        var directory = options.Mode == OpenMode.Verify ? DataDirectory.OpenReadOnly(path) : DataDirectory.Open(path);
        try
        {
            var database = new PaperDatabase(directory, options);
            await database.RecoverAsync().ConfigureAwait(false);
            return database;
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    // ---- reads ------------------------------------------------------------------------------

    /// <summary>A stored paper, read without blocking a thread when it is on disk (the server's path).</summary>
    public async ValueTask<PaperRecord?> GetPaperAsync(long key)
    {
        var k = new byte[9];
        PaperKeyBytes(key, k);
        if (await _store.ReadAsync(k).ConfigureAwait(false) is not { } value) return null;
        using (value) return RecordCodec.ReadPaper(value.Span);
    }

    /// <summary><see cref="FindPaper"/> without blocking a thread on disk.</summary>
    public ValueTask<PaperRecord?> FindPaperAsync(string id) =>
        _catalog.ResolveId(id) is long key ? GetPaperAsync(key) : ValueTask.FromResult<PaperRecord?>(null);

    public PaperRecord? GetPaper(long key)
    {
        Span<byte> k = stackalloc byte[9];
        PaperKeyBytes(key, k);
        if (!_store.TryRead(k, out var value)) return null;
        using (value) return RecordCodec.ReadPaper(value.Span);
    }

    /// <summary>By PaperVec id (16 hex digits) or by a record's own source id (an arXiv id, say).</summary>
    public PaperRecord? FindPaper(string id)
    {
        if (PaperIdentity.TryParse(id, out long key) && GetPaper(key) is { } paper) return paper;
        return _catalog.KeyOfSourceId(id) is long aliased ? GetPaper(aliased) : null;
    }

    /// <summary>The paper's vector: from the index when it is there (no store read), else from the store.</summary>
    public bool TryReadVector(long key, Span<float> destination)
    {
        if (_index is { } index && index.TryCopyVector(key, destination)) return true;
        Span<byte> k = stackalloc byte[9];
        PaperKeyBytes(key, k);
        if (!_store.TryRead(k, out var value)) return false;
        using (value) RecordCodec.ReadPaperVector(value.Span, destination);
        return true;
    }

    /// <summary>The paper's vector from the store, never the index (tests of the store's read path).</summary>
    internal bool TryReadVectorFromStoreForTests(long key, Span<float> destination)
    {
        Span<byte> k = stackalloc byte[9];
        PaperKeyBytes(key, k);
        if (!_store.TryRead(k, out var value)) return false;
        using (value) RecordCodec.ReadPaperVector(value.Span, destination);
        return true;
    }

    /// <summary>Stores a paper without its record checksum, as an older PaperVec did (tests of opening older stores).</summary>
    internal void StorePaperUnframedForTests(PaperRecord paper)
    {
        var k = new byte[9];
        PaperKeyBytes(paper.Key, k);
        _store.UpsertUnframedForTests(k, RecordCodec.EncodePaper(paper));
    }

    /// <summary>The model whose vectors this database holds (null until something was embedded).</summary>
    public string? ModelId
    {
        get
        {
            if (!_store.TryRead(ModelIdKey, out var value)) return null;
            using (value) return Encoding.UTF8.GetString(value.Span);
        }
    }

    /// <summary>Every stored paper, in log order (a full scan: for exports, stats and duplicate checks).</summary>
    public List<PaperRecord> Papers()
    {
        var papers = new List<PaperRecord>();
        _store.ScanLatest(PaperPrefix, (_, value) => papers.Add(RecordCodec.ReadPaper(value)));
        return papers;
    }

    /// <summary>
    /// Papers best matching <paramref name="text"/> by BM25 (title and abstract), best first.
    /// Throws <see cref="LexicalUnavailableException"/> while the lexical index is being rebuilt.
    /// </summary>
    public List<(long Key, float Score)> SearchLexical(string text, int k, Func<long, bool>? filter = null) =>
        ReadLexically(lexical => lexical.Search(text, k, filter));

    /// <summary>Papers best matching weighted analyzed terms by BM25 (a library's profile), best first; optionally only among <paramref name="restrictTo"/>.</summary>
    public List<(long Key, float Score)> SearchLexicalTerms(IReadOnlyList<(string Term, float Weight)> terms, int k, Func<long, bool>? filter = null, IReadOnlyCollection<long>? restrictTo = null) =>
        ReadLexically(lexical => lexical.SearchTerms(terms, k, filter, restrictTo));

    /// <summary>Each key's analyzed tokens from its stored term vector (null for one without: not indexed, or indexed before they were kept).</summary>
    public List<IReadOnlyList<string>?> LexicalTokens(IReadOnlyList<long> keys) => ReadLexically(lexical => lexical.StoredTokens(keys));

    /// <summary>Papers holding an analyzed term, and papers indexed (for term weights).</summary>
    public (int DocFreq, int Docs) LexicalDocFreq(string term) => ReadLexically(lexical => lexical.DocFreq(term));

    /// <summary>The analyzed terms of a query (what lexical search matches): for highlighting. Analysis only: it reads no index.</summary>
    public IReadOnlyList<string> LexicalTerms(string text) => _lexical.Terms(text);

    
}

public sealed record DatabaseStats(int Papers, int Digests, long BytesOnDisk, double BytesOnDiskPerPaper, long StoreLogBytes, long WalBytes,
    int IndexLiveCount, double IndexBytesPerVector);
