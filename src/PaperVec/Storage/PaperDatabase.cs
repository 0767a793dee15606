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
    /// <summary>Where searches turn from exact to the graph: <see cref="PaperDatabase.ExactSearchBelow"/>; tests lower it.</summary>
    internal int ExactSearchBelow { get; init; } = PaperDatabase.ExactSearchBelow;
    /// <summary>Checkpoint once the write-ahead log holds this many bytes past the last checkpoint.</summary>
    public long CheckpointAfterWalBytes { get; init; } = 256L << 20;
    /// <summary>After a checkpoint failed (disk full, say), the next one is tried no sooner than this.</summary>
    public TimeSpan CheckpointRetryAfter { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>A store checkpoint that has not finished by then is given up and the store refuses writes until restart.</summary>
    public TimeSpan CheckpointTimeout { get; init; } = TimeSpan.FromMinutes(2);
    public long StoreMemoryBytes { get; init; } = 1L << 28;
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
public sealed partial class PaperDatabase : IDisposable
{
    public const byte PaperPrefix = (byte)'P', AliasPrefix = (byte)'S', DigestPrefix = (byte)'D', MetaPrefix = (byte)'M', TitleAliasPrefix = (byte)'T',
        LibraryPrefix = (byte)'L';
    static readonly byte[] ModelIdKey = [MetaPrefix, .. Encoding.ASCII.GetBytes("model")];

    readonly DataDirectory _directory;
    readonly RecordStore _store;
    // What the query path needs, in memory (see PaperSummary for why): a summary per paper, the
    // source-id aliases and the title aliases of retitled papers. Kept in step by ApplyToStore;
    // rebuilt from the store on open.
    readonly ConcurrentDictionary<long, PaperSummary> _summaries = new();
    readonly ConcurrentDictionary<string, long> _aliases = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<long, long> _titleAliases = new();
    readonly ConcurrentDictionary<string, DigestRecord> _digests = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, Recommend.ReaderLibrary> _libraries = new(StringComparer.Ordinal);
    WriteAheadLog _wal = null!; // opened at open; by papervec repair only once it has read the old log
    HnswIndex _index;
    LexicalIndex _lexical;
    readonly PaperDatabaseOptions _options;
    CheckpointManifest? _manifest;
    volatile bool _disposed;

    public RecoveryReport Recovery { get; }
    public string Root => _directory.Root;
    /// <summary>Papers stored: the index's live count, which recovery verifies equals the store's.</summary>
    public int PaperCount => _index.LiveCount;
    /// <summary>The graph itself, for the storage code and tests; searches go through <see cref="Search"/> and <see cref="SearchSimilar"/>.</summary>
    internal HnswIndex Index => _index;
    /// <summary>The write-ahead log's end, where the next write is appended (tests: a refused write appends nothing).</summary>
    internal long LogTailAddress => _wal.TailAddress;
    public int Dimension => _options.Dimension;

    public static PaperDatabase Open(string? path, PaperDatabaseOptions? options = null)
    {
        options ??= new PaperDatabaseOptions();
        // verify changes nothing on disk, not even the lock file or the folders a new directory gets.
        var directory = options.Mode == OpenMode.Verify ? DataDirectory.OpenReadOnly(path) : DataDirectory.Open(path);
        try { return new PaperDatabase(directory, options); }
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
        ResolveId(id) is long key ? GetPaperAsync(key) : ValueTask.FromResult<PaperRecord?>(null);

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
        return KeyOfSourceId(id) is long aliased ? GetPaper(aliased) : null;
    }

    public long? KeyOfSourceId(string sourceId) => _aliases.TryGetValue(sourceId, out long key) ? key : null;

    /// <summary>
    /// The stored paper a title names: the paper keyed by it, else the paper that was retitled to
    /// it (a title alias), else null.
    /// </summary>
    public long? KeyOfTitle(long titleKey) =>
        _summaries.ContainsKey(titleKey) ? titleKey : _titleAliases.TryGetValue(titleKey, out long key) && _summaries.ContainsKey(key) ? key : null;

    /// <summary>Every source id that names <paramref name="key"/>.</summary>
    public List<string> SourceIdsOf(long key) => _aliases.Where(a => a.Value == key).Select(a => a.Key).ToList();

    /// <summary>Every (source id, paper key) alias, for checks.</summary>
    public IReadOnlyDictionary<string, long> SourceIdAliases => _aliases;

    /// <summary>The paper's key by PaperVec id or source id (an arXiv id also in its prefixed, versioned or URL forms), from memory (null when no such paper is stored).</summary>
    public long? ResolveId(string id)
    {
        if (PaperIdentity.TryParse(id, out long key) && _summaries.ContainsKey(key)) return key;
        if (KeyOfSourceId(id) is long aliased && _summaries.ContainsKey(aliased)) return aliased;
        // arXiv:2503.11677, 2503.11677v2, https://arxiv.org/abs/2503.11677: the same paper as the record id 2503.11677.
        foreach (var form in ArxivIdForms.Candidates(id))
            if (KeyOfSourceId(form) is long byForm && _summaries.ContainsKey(byForm)) return byForm;
        return null;
    }

    /// <summary>Title, first-seen date and snippet of a stored paper, from memory: what search results show.</summary>
    public PaperSummary? Summary(long key) => _summaries.TryGetValue(key, out var summary) ? summary : null;

    /// <summary>When a paper was first seen (for date filters on the search path), from memory.</summary>
    public DateOnly? FirstSeen(long key) => _summaries.TryGetValue(key, out var summary) ? summary.FirstSeen : null;

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

    /// <summary>An ingested digest, from memory (digests are few: one a day per source).</summary>
    public DigestRecord? GetDigest(string id) => _digests.TryGetValue(id, out var digest) ? digest : null;

    /// <summary>Every ingested digest, oldest first, from memory.</summary>
    public List<DigestRecord> Digests() =>
        _digests.Values.OrderBy(d => d.Date).ThenBy(d => d.Id, StringComparer.Ordinal).ToList();

    /// <summary>A reader's library by name, from memory (null when there is none).</summary>
    public Recommend.ReaderLibrary? GetLibrary(string name) => _libraries.TryGetValue(name, out var library) ? library : null;

    /// <summary>Every reader's library, by name.</summary>
    public List<Recommend.ReaderLibrary> Libraries() => _libraries.Values.OrderBy(l => l.Name, StringComparer.Ordinal).ToList();

    /// <summary>
    /// Up to <paramref name="count"/> stored paper keys drawn at random, none of <paramref name="excluded"/>:
    /// the keys with the smallest seeded hash (a bottom-k sample), so the same seed and papers give the
    /// same sample whatever order memory holds them in, in one pass without sorting.
    /// </summary>
    public List<long> SampleKeys(int count, int seed, IReadOnlySet<long>? excluded = null)
    {
        var largest = new PriorityQueue<long, ulong>(count + 1, Comparer<ulong>.Create((a, b) => b.CompareTo(a)));
        foreach (long key in _summaries.Keys)
        {
            if (excluded?.Contains(key) == true) continue;
            ulong hash = SampleHash(key, seed);
            if (largest.Count < count) largest.Enqueue(key, hash);
            else if (largest.TryPeek(out _, out ulong top) && hash < top) largest.EnqueueDequeue(key, hash);
        }
        var sample = new List<long>(largest.Count);
        while (largest.TryDequeue(out long key, out _)) sample.Add(key);
        sample.Reverse();
        return sample;
    }

    /// <summary>
    /// The seeded hash <see cref="SampleKeys"/> orders papers by (smallest first): a cluster merges its
    /// shards' samples by it into the sample one node would draw.
    /// </summary>
    public static ulong SampleHash(long key, int seed)
    {
        ulong z = (ulong)key ^ (ulong)(uint)seed * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL; // SplitMix64's finaliser
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Every stored paper, in log order (a full scan: for exports, stats and duplicate checks).</summary>
    public List<PaperRecord> Papers()
    {
        var papers = new List<PaperRecord>();
        _store.ScanLatest(PaperPrefix, (_, value) => papers.Add(RecordCodec.ReadPaper(value)));
        return papers;
    }

    /// <summary>
    /// Below this many papers every search is exact: an exact scan of the index's rows
    /// (<see cref="HnswIndex.SearchExact(ReadOnlySpan{float}, int, Func{long, bool}?)"/>) is as fast as the
    /// graph search at the default ef up to about this size and misses nothing: on 384-d clustered
    /// vectors, k=10, ef=64, it took 0.85x the graph's time at 2,500 rows, 1.04-1.12x at 3,000 and 1.6x
    /// at 5,000, where the graph's recall@10 was 0.90-0.93 (src/PaperVec/Index/README.md, "Crossover").
    /// Above it the graph search.
    /// </summary>
    public const int ExactSearchBelow = 3000;

    /// <summary>Whether a search now scans exactly: the one place the exact-or-graph rule is made.</summary>
    internal bool SearchesExactly => _index.LiveCount < _options.ExactSearchBelow;

    /// <summary>
    /// Nearest papers to a unit vector, best first; <paramref name="filter"/> narrows by paper key.
    /// Exact below <see cref="ExactSearchBelow"/> papers, whatever <paramref name="ef"/> says; above it
    /// the graph search at <paramref name="ef"/> (default: the index's, at least k). Callers that
    /// want a fixed width of their own (duplicate checks) pass it as <paramref name="ef"/>.
    /// </summary>
    public SearchHit[] Search(ReadOnlySpan<float> query, int k, int? ef = null, Func<long, bool>? filter = null) =>
        SearchesExactly ? _index.SearchExact(query, k, filter) : _index.Search(query, k, ef ?? Math.Max(k, _index.Options.DefaultEfSearch), filter);

    /// <summary>
    /// Papers best matching <paramref name="text"/> by BM25 (title and abstract), best first.
    /// Throws <see cref="LexicalUnavailableException"/> while the lexical index is being rebuilt.
    /// </summary>
    public List<(long Key, float Score)> SearchLexical(string text, int k, Func<long, bool>? filter = null) =>
        ReadLexically(lexical => lexical.Search(text, k, filter));

    /// <summary>Papers best matching weighted analyzed terms by BM25 (a library's profile), best first; optionally only among <paramref name="restrictTo"/>.</summary>
    public List<(long Key, float Score)> SearchLexicalTerms(IReadOnlyList<(string Term, float Weight)> terms, int k, Func<long, bool>? filter = null, IReadOnlyCollection<long>? restrictTo = null) =>
        ReadLexically(lexical => lexical.SearchTerms(terms, k, filter, restrictTo));

    /// <summary>Papers holding an analyzed term, and papers indexed (for term weights).</summary>
    public (int DocFreq, int Docs) LexicalDocFreq(string term) => ReadLexically(lexical => lexical.DocFreq(term));

    /// <summary>The analyzed terms of a query (what lexical search matches): for highlighting. Analysis only: it reads no index.</summary>
    public IReadOnlyList<string> LexicalTerms(string text) => _lexical.Terms(text);

    /// <summary>
    /// Search width of "papers like this" when none is given. Started at the paper's own node, the
    /// search needs less width than a free query for the same recall: on 200k clustered vectors
    /// (3,000 papers, k=10, each excluding itself) recall@10 was 0.9817 at ef=32 and 0.9820 at
    /// ef=64, at 2.1x the QPS; by vector from the top, ef=64 gave 0.9820.
    /// </summary>
    public const int SimilarEf = 32;

    /// <summary>
    /// Nearest papers to the stored paper <paramref name="key"/> (itself included unless the filter
    /// drops it), best first, or null when there is no such paper. Searches from the paper's own
    /// graph node, which scores fewer rows than a search by its vector.
    /// </summary>
    public SearchHit[]? SearchSimilar(long key, int k, int? ef = null, Func<long, bool>? filter = null)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be positive");
        var vector = new float[Dimension];
        if (SearchesExactly) return TryReadVector(key, vector) ? _index.SearchExact(vector, k, filter) : null;
        int width = ef ?? Math.Max(k, SimilarEf);
        var hits = new SearchHit[k];
        int found = _index.SearchSimilar(key, hits, width, filter);
        if (found >= 0) return found == k ? hits : hits[..found];
        // Not in the index (it never lacks a stored paper, but a delete may have just run): by vector.
        return TryReadVector(key, vector) ? _index.Search(vector, k, width, filter) : null;
    }

    
}

public sealed record DatabaseStats(int Papers, int Digests, long BytesOnDisk, double BytesOnDiskPerPaper, long StoreLogBytes, long WalBytes,
    int IndexLiveCount, double IndexBytesPerVector);
