using System.Collections.Concurrent;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using PaperVec.Index;

namespace PaperVec.Storage;

/// <summary>Settings of a <see cref="PaperDatabase"/>.</summary>
public sealed record PaperDatabaseOptions
{
    public int Dimension { get; init; } = 384;
    public HnswOptions Index { get; init; } = new();
    /// <summary>Checkpoint once the write-ahead log holds this many bytes past the last checkpoint.</summary>
    public long CheckpointAfterWalBytes { get; init; } = 256L << 20;
    public long StoreMemoryBytes { get; init; } = 1L << 28;
    /// <summary>Recovery notes (what was replayed, rebuilt or found damaged).</summary>
    public Action<string>? Log { get; init; }
    /// <summary>Progress of an index rebuild: (done, total).</summary>
    public Action<long, long>? RebuildProgress { get; init; }
    /// <summary>Test hook: die abruptly at a named point of a checkpoint ("after-store-checkpoint", "during-index-snapshot").</summary>
    public string? CrashAt { get; init; }
}

/// <summary>What opening the database found and did.</summary>
public sealed record RecoveryReport(bool FromCheckpoint, int ReplayedBatches, bool IndexRebuilt, string? IndexRebuildReason,
    IReadOnlyList<string> Damage, int Papers, TimeSpan Elapsed);

/// <summary>
/// Papers, their vectors and digests, durable on local disk, with the HNSW index kept in step.
///
/// Durability design: FASTER checkpoints alone lose everything since the last checkpoint, and a
/// checkpoint per commit would rewrite the hash index each time; so every write is first a
/// <see cref="WriteAheadLog"/> entry (one <see cref="WriteBatch"/>), and a write is acknowledged
/// only when that entry is committed (group commit: concurrent writers share one flush). The batch
/// is applied to the FASTER store and the index under the write lock. A checkpoint (every
/// <see cref="PaperDatabaseOptions.CheckpointAfterWalBytes"/>, and on close) takes a FASTER
/// fold-over checkpoint and an index snapshot at the same log address, names both in
/// checkpoint.json, then truncates the log before that address.
///
/// Recovery: recover the store to the manifest's checkpoint, load the matching index snapshot,
/// replay the log from the manifest's address (sequence numbers catch holes; a damaged tail is
/// reported and cut), then check that the store's papers and the index's live ids are the same
/// set. A missing, corrupt or mismatched snapshot means a rebuild from the stored vectors.
/// </summary>
public sealed class PaperDatabase : IDisposable
{
    public const byte PaperPrefix = (byte)'P', AliasPrefix = (byte)'S', DigestPrefix = (byte)'D', MetaPrefix = (byte)'M';
    static readonly byte[] ModelIdKey = [MetaPrefix, .. Encoding.ASCII.GetBytes("model")];

    readonly DataDirectory _directory;
    readonly RecordStore _store;
    // What the query path needs, in memory (see PaperSummary for why): a summary per paper and the
    // source-id aliases. Kept in step by ApplyToStore; rebuilt from the store on open.
    readonly ConcurrentDictionary<long, PaperSummary> _summaries = new();
    readonly ConcurrentDictionary<string, long> _aliases = new(StringComparer.Ordinal);
    WriteAheadLog _wal;
    HnswIndex _index;
    readonly PaperDatabaseOptions _options;
    readonly Lock _writeLock = new();
    CheckpointManifest? _manifest;
    bool _disposed;

    public RecoveryReport Recovery { get; }
    public string Root => _directory.Root;
    /// <summary>Papers stored: the index's live count, which recovery verifies equals the store's.</summary>
    public int PaperCount => _index.LiveCount;
    public HnswIndex Index => _index;
    public int Dimension => _options.Dimension;

    PaperDatabase(DataDirectory directory, PaperDatabaseOptions options)
    {
        var clock = Stopwatch.StartNew();
        _directory = directory;
        _options = options;
        var damage = new List<string>();
        _manifest = CheckpointManifest.TryLoad(directory.ManifestPath);
        _store = new RecordStore(directory.StorePath, options.StoreMemoryBytes);
        if (_manifest != null) _store.Recover(_manifest.StoreToken);
        _wal = new WriteAheadLog(directory.WalPath);

        // The index snapshot that belongs to the checkpoint, if it is there and sound.
        HnswIndex? index = null;
        string? rebuildReason = _manifest == null ? null : "no index snapshot";
        if (_manifest != null)
        {
            string snapshot = Path.Combine(directory.IndexPath, _manifest.IndexFile);
            try
            {
                if (File.Exists(snapshot)) index = HnswIndex.Load(snapshot);
                if (index != null && index.Dimension != options.Dimension) { index.Dispose(); index = null; rebuildReason = "index snapshot has another dimension"; }
            }
            catch (Exception e) when (e is InvalidDataException or IOException or EndOfStreamException)
            {
                rebuildReason = $"index snapshot unusable ({e.Message})";
                damage.Add(rebuildReason);
            }
        }

        // Replay what was acknowledged after the checkpoint.
        long expected = _manifest?.NextSequence ?? 0;
        int replayed = 0;
        bool walDamaged = false;
        foreach (var entry in _wal.Replay(_manifest?.WalAddress ?? 0, d => { damage.Add(d); walDamaged = true; }))
        {
            if (entry.Sequence < expected) continue; // before the checkpoint: already in the store
            if (entry.Sequence > expected)
            {
                damage.Add($"write-ahead log skips entries {expected}..{entry.Sequence - 1}; replay stopped there");
                walDamaged = true;
                break;
            }
            WriteBatch batch;
            try { batch = WriteBatch.Decode(entry.Payload); }
            catch (InvalidDataException e) { damage.Add($"write-ahead log entry {entry.Sequence}: {e.Message}"); walDamaged = true; break; }
            if (batch.Changes.FirstOrDefault(c => c.Paper is { } p && (p.Vector.Length != options.Dimension || p.Key <= 0)) is { Paper: { } bad })
            {
                // Damaged bytes can pass the log's checks and still decode; never apply nonsense.
                damage.Add($"write-ahead log entry {entry.Sequence} holds an invalid paper ({bad.Vector.Length}-d vector); replay stopped there");
                walDamaged = true;
                break;
            }
            if (index != null) ApplyToIndex(index, batch);
            ApplyToStore(batch);
            expected++;
            replayed++;
        }
        _wal.ResumeAt(expected);

        // The store is the truth: the index must hold exactly its papers.
        var storeKeys = LoadMemoryTables();
        if (index != null && !SameLiveIds(index, storeKeys))
        {
            rebuildReason = $"index snapshot does not match the store ({index.LiveCount} vs {storeKeys.Count} papers)";
            damage.Add(rebuildReason);
            index.Dispose();
            index = null;
        }
        _index = index ?? Rebuild(storeKeys.Count);
        Recovery = new RecoveryReport(_manifest != null, replayed, index == null && storeKeys.Count > 0, index == null ? rebuildReason : null,
            damage, storeKeys.Count, clock.Elapsed);
        foreach (var d in damage) options.Log?.Invoke(d);

        if (walDamaged)
        {
            // Everything readable is applied; checkpoint it and start a fresh log past the damage.
            Checkpoint();
            ResetWal();
        }
        else if (replayed > 0 || Recovery.IndexRebuilt) Checkpoint();
    }

    public static PaperDatabase Open(string? path, PaperDatabaseOptions? options = null)
    {
        var directory = DataDirectory.Open(path);
        try { return new PaperDatabase(directory, options ?? new PaperDatabaseOptions()); }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    // ---- reads ------------------------------------------------------------------------------

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

    /// <summary>The paper's key by PaperVec id or source id, from memory (null when no such paper is stored).</summary>
    public long? ResolveId(string id)
    {
        if (PaperIdentity.TryParse(id, out long key) && _summaries.ContainsKey(key)) return key;
        return KeyOfSourceId(id) is long aliased && _summaries.ContainsKey(aliased) ? aliased : null;
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

    /// <summary>The model whose vectors this database holds (null until something was embedded).</summary>
    public string? ModelId
    {
        get
        {
            if (!_store.TryRead(ModelIdKey, out var value)) return null;
            using (value) return Encoding.UTF8.GetString(value.Span);
        }
    }

    public DigestRecord? GetDigest(string id)
    {
        var k = DigestKeyBytes(id);
        if (!_store.TryRead(k, out var value)) return null;
        using (value) return RecordCodec.ReadDigest(value.Span);
    }

    public List<DigestRecord> Digests()
    {
        var digests = new List<DigestRecord>();
        _store.ScanLatest(DigestPrefix, (_, value) => digests.Add(RecordCodec.ReadDigest(value)));
        return digests.OrderBy(d => d.Date).ThenBy(d => d.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>Every stored paper, in log order (a full scan: for exports, stats and duplicate checks).</summary>
    public List<PaperRecord> Papers()
    {
        var papers = new List<PaperRecord>();
        _store.ScanLatest(PaperPrefix, (_, value) => papers.Add(RecordCodec.ReadPaper(value)));
        return papers;
    }

    /// <summary>
    /// Below this many papers every search is exact: exact search is as fast as HNSW up to about
    /// 5,000 vectors (measured, src/PaperVec/Index/README.md), so the graph search is widened to
    /// ef >= n, which visits every node (Repair keeps them all reachable).
    /// </summary>
    public const int ExactSearchBelow = 5000;

    /// <summary>Nearest papers to a unit vector, best first; <paramref name="filter"/> narrows by paper key.</summary>
    public SearchHit[] Search(ReadOnlySpan<float> query, int k, int? ef = null, Func<long, bool>? filter = null) =>
        _index.Search(query, k, SearchWidth(k, ef, _index.Options.DefaultEfSearch), filter);

    /// <summary>The ef of a search: the given one, else the default (at least k), and every node below <see cref="ExactSearchBelow"/>.</summary>
    int SearchWidth(int k, int? ef, int defaultEf)
    {
        int width = ef ?? Math.Max(k, defaultEf);
        int live = _index.LiveCount;
        return live <= ExactSearchBelow ? Math.Max(width, live) : width;
    }

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
    public SearchHit[]? SearchLike(long key, int k, int? ef = null, Func<long, bool>? filter = null)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be positive");
        int width = SearchWidth(k, ef, SimilarEf);
        var hits = new SearchHit[k];
        int found = _index.SearchLike(key, hits, width, filter);
        if (found >= 0) return found == k ? hits : hits[..found];
        // Not in the index (it never lacks a stored paper, but a delete may have just run): by vector.
        var vector = new float[Dimension];
        return TryReadVector(key, vector) ? _index.Search(vector, k, width, filter) : null;
    }

    // ---- writes -----------------------------------------------------------------------------

    /// <summary>
    /// Applies a batch and returns once it is durable: after this returns, the batch survives any
    /// crash. Concurrent callers share log flushes.
    /// </summary>
    public void Commit(WriteBatch batch) => CommitAsync(batch).AsTask().GetAwaiter().GetResult();

    public async ValueTask CommitAsync(WriteBatch batch)
    {
        if (batch.IsEmpty) return;
        foreach (var change in batch.Changes)
            if (change.Paper is { } p && p.Vector.Length != _options.Dimension)
                throw new ArgumentException($"paper {p.Id} has a {p.Vector.Length}-d vector; this database holds {_options.Dimension}-d vectors");
        byte[] encoded = batch.Encode();
        if (encoded.Length > WriteAheadLog.MaxEntryBytes)
            throw new ArgumentException($"write batch is {encoded.Length / 1e6:0.0} MB; one durable write holds at most {WriteAheadLog.MaxEntryBytes / 1e6:0} MB, so commit it in parts");
        long durableAt;
        bool checkpointDue;
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            durableAt = _wal.Append(encoded);
            ApplyToIndex(_index, batch);
            ApplyToStore(batch);
            checkpointDue = _wal.TailAddress - (_manifest?.WalAddress ?? 0) > _options.CheckpointAfterWalBytes;
        }
        await _wal.WaitDurableAsync(durableAt).ConfigureAwait(false);
        if (checkpointDue) Checkpoint();
    }

    /// <summary>
    /// Removes a paper and its source-id alias in one durable write (logged like every write, so
    /// recovery replays it); returns the removed paper, or null when there was none. Digests keep
    /// listing the key as history; readers skip keys with no paper. Callers that also write the
    /// same paper concurrently must order those writes themselves (the server runs one write at a time).
    /// </summary>
    public async ValueTask<PaperRecord?> DeletePaperAsync(long key)
    {
        if (GetPaper(key) is not { } paper) return null;
        var batch = new WriteBatch().DeletePaper(key);
        // Every source id that names it, not only the latest: a paper met again under a new id (a
        // revised record, an arXiv version) keeps its earlier ids as aliases too.
        foreach (var (alias, target) in _aliases)
            if (target == key) batch.DeleteAlias(alias);
        await CommitAsync(batch).ConfigureAwait(false);
        return paper;
    }

    /// <summary>
    /// Makes the store and the index durable at one log position and drops the log before it.
    /// Writers wait while it runs; searches do not.
    /// </summary>
    public void Checkpoint()
    {
        lock (_writeLock)
        {
            long walAddress = _wal.TailAddress;
            long nextSequence = _wal.NextSequence;
            _wal.WaitDurable(walAddress); // the manifest must never point past what the log holds
            Guid token = _store.Checkpoint();
            MaybeCrash("after-store-checkpoint");
            string indexFile = $"hnsw-{token:N}.bin";
            string indexPath = Path.Combine(_directory.IndexPath, indexFile);
            _index.Repair(); // the snapshot keeps no deleted or stranded nodes
            _index.Save(indexPath);
            if (_options.CrashAt == "during-index-snapshot")
            {
                // Simulates dying halfway through writing the snapshot: a torn file that no manifest names yet.
                using (var torn = new FileStream(indexPath, FileMode.Open)) torn.SetLength(torn.Length / 2);
                Environment.FailFast("papervec test hook: crash during index snapshot");
            }
            AtomicFile.FlushDirectory(_directory.IndexPath);
            var manifest = CheckpointManifest.Create(token, walAddress, nextSequence, indexFile, _index.LiveCount);
            manifest.Save(_directory.ManifestPath);
            _manifest = manifest;
            _wal.TruncateUntil(walAddress);
            _store.PurgeCheckpointsExcept(token);
            foreach (var old in Directory.GetFiles(_directory.IndexPath))
                if (Path.GetFileName(old) != indexFile) File.Delete(old);
        }
    }

    /// <summary>Reclaims disk from overwritten and deleted records, then checkpoints.</summary>
    public long Compact()
    {
        lock (_writeLock)
        {
            long before = _store.LogBytes;
            _store.Compact();
            Checkpoint();
            return before - _store.LogBytes;
        }
    }

    /// <summary>Bytes of every file in the data directory (cheap next to <see cref="Stats"/>, which also scans the digests).</summary>
    public long BytesOnDisk() => _directory.BytesOnDisk();

    public DatabaseStats Stats()
    {
        long bytes = _directory.BytesOnDisk();
        int papers = PaperCount;
        return new DatabaseStats(papers, Digests().Count, bytes, papers == 0 ? 0 : (double)bytes / papers, _store.LogBytes,
            _wal.TailAddress - _wal.BeginAddress, _index.LiveCount, _index.MemoryUsage().BytesPerVector);
    }

    /// <summary>Store papers and index live ids are one set (each store key is in the index, counts agree).</summary>
    public bool IndexMatchesStore(out string problem)
    {
        var keys = PaperKeys();
        problem = SameLiveIds(_index, keys) ? "" : $"index holds {_index.LiveCount} live ids, store {keys.Count} papers";
        return problem.Length == 0;
    }

    // ---- internals --------------------------------------------------------------------------

    void ApplyToStore(WriteBatch batch)
    {
        Span<byte> paperKey = stackalloc byte[9];
        foreach (var change in batch.Changes)
        {
            switch (change.Kind)
            {
                case WriteBatch.Kind.PutPaper:
                    PaperKeyBytes(change.Key, paperKey);
                    _store.Upsert(paperKey, RecordCodec.EncodePaper(change.Paper!));
                    _summaries[change.Key] = PaperSummary.Of(change.Paper!);
                    break;
                case WriteBatch.Kind.DeletePaper:
                    PaperKeyBytes(change.Key, paperKey);
                    _store.Delete(paperKey);
                    _summaries.TryRemove(change.Key, out _);
                    break;
                case WriteBatch.Kind.PutAlias:
                    _store.Upsert(AliasKeyBytes(change.Alias!), BitConverter.GetBytes(change.Key));
                    _aliases[change.Alias!] = change.Key;
                    break;
                case WriteBatch.Kind.DeleteAlias:
                    _store.Delete(AliasKeyBytes(change.Alias!));
                    _aliases.TryRemove(change.Alias!, out _);
                    break;
                case WriteBatch.Kind.PutDigest:
                    _store.Upsert(DigestKeyBytes(change.Digest!.Id), RecordCodec.EncodeDigest(change.Digest));
                    break;
                case WriteBatch.Kind.PutModelId:
                    _store.Upsert(ModelIdKey, Encoding.UTF8.GetBytes(change.Alias!));
                    break;
            }
        }
    }

    // Runs before ApplyToStore, so the store still has the previous vector to compare with.
    // New papers of a large batch are inserted in parallel: the graph takes concurrent inserts.
    void ApplyToIndex(HnswIndex index, WriteBatch batch)
    {
        var previous = new float[_options.Dimension];
        var added = new List<PaperRecord>();
        foreach (var change in batch.Changes)
        {
            if (change.Kind == WriteBatch.Kind.DeletePaper) index.Remove(change.Key);
            if (change.Kind != WriteBatch.Kind.PutPaper) continue;
            var paper = change.Paper!;
            if (!index.Contains(paper.Key)) added.Add(paper);
            else if (!TryReadVector(paper.Key, previous) || !previous.AsSpan().SequenceEqual(paper.Vector)) index.Update(paper.Key, paper.Vector);
        }
        if (added.Count < 64) { foreach (var p in added) AddOrUpdate(index, p); return; }
        // A batch may list one key twice; the last version wins, as in the store.
        var latest = added.GroupBy(p => p.Key).Select(g => g.Last()).ToList();
        Parallel.ForEach(latest, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, p => index.Add(p.Key, p.Vector));
        // Concurrent inserts can leave a node whose in-links were all pruned; relink such nodes now
        // so every stored paper stays findable (a level-0 walk: cheap next to the inserts).
        index.Repair();
    }

    static void AddOrUpdate(HnswIndex index, PaperRecord paper)
    {
        if (index.Contains(paper.Key)) index.Update(paper.Key, paper.Vector);
        else index.Add(paper.Key, paper.Vector);
    }

    /// <summary>Fills the in-memory summaries and aliases from the store in one scan; returns the paper keys.</summary>
    HashSet<long> LoadMemoryTables()
    {
        _summaries.Clear();
        _aliases.Clear();
        _store.ScanLatest([PaperPrefix, AliasPrefix], (key, value) =>
        {
            if (key[0] == AliasPrefix) _aliases[Encoding.UTF8.GetString(key[1..])] = BinaryPrimitives.ReadInt64LittleEndian(value);
            else
            {
                var summary = RecordCodec.ReadPaperSummary(value);
                _summaries[summary.Key] = summary;
            }
        });
        return [.. _summaries.Keys];
    }

    HashSet<long> PaperKeys()
    {
        var keys = new HashSet<long>();
        _store.ScanLatest(PaperPrefix, (key, _) => keys.Add(BinaryPrimitives.ReadInt64LittleEndian(key[1..])));
        return keys;
    }

    static bool SameLiveIds(HnswIndex index, HashSet<long> keys) => index.LiveCount == keys.Count && keys.All(index.Contains);

    HnswIndex Rebuild(int papers)
    {
        var index = new HnswIndex(_options.Dimension, _options.Index with { InitialCapacity = Math.Max(1024, papers + papers / 4) });
        if (papers == 0) return index;
        var vector = new float[_options.Dimension];
        long done = 0;
        var work = new List<(long Key, float[] Vector)>(papers);
        _store.ScanLatest(PaperPrefix, (key, value) =>
        {
            RecordCodec.ReadPaperVector(value, vector);
            work.Add((BinaryPrimitives.ReadInt64LittleEndian(key[1..]), vector.ToArray()));
        });
        Parallel.ForEach(work, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, item =>
        {
            index.Add(item.Key, item.Vector);
            long n = Interlocked.Increment(ref done);
            if (n % 1000 == 0 || n == papers) _options.RebuildProgress?.Invoke(n, papers);
        });
        index.Repair();
        return index;
    }

    void ResetWal()
    {
        lock (_writeLock)
        {
            long next = _wal.NextSequence;
            _wal.Dispose();
            foreach (var file in Directory.GetFiles(_directory.WalPath, "*", SearchOption.AllDirectories)) File.Delete(file);
            _wal = new WriteAheadLog(_directory.WalPath);
            _wal.ResumeAt(next);
            // The fresh log starts at its own begin address: point the manifest there.
            var manifest = _manifest! with { WalAddress = _wal.TailAddress, NextSequence = next };
            manifest.Save(_directory.ManifestPath);
            _manifest = manifest;
        }
    }

    void MaybeCrash(string point)
    {
        if (_options.CrashAt == point) Environment.FailFast($"papervec test hook: crash at {point}");
    }

    static void PaperKeyBytes(long key, Span<byte> destination)
    {
        destination[0] = PaperPrefix;
        BinaryPrimitives.WriteInt64LittleEndian(destination[1..], key);
    }

    static byte[] AliasKeyBytes(string sourceId) => [AliasPrefix, .. Encoding.UTF8.GetBytes(sourceId)];

    static byte[] DigestKeyBytes(string digestId) => [DigestPrefix, .. Encoding.UTF8.GetBytes(digestId)];

    /// <summary>Closes everything without the final checkpoint, as if the process had died (tests only).</summary>
    internal void AbandonForTests()
    {
        lock (_writeLock) _disposed = true;
        _wal.Dispose();
        _store.Dispose();
        _index.Dispose();
        _directory.Dispose();
    }

    /// <summary>Checkpoints (so the next start is quick), then closes the store, the log and the directory lock.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        try { Checkpoint(); }
        finally
        {
            lock (_writeLock) _disposed = true;
            _wal.Dispose();
            _store.Dispose();
            _index.Dispose();
            _directory.Dispose();
        }
    }
}

public sealed record DatabaseStats(int Papers, int Digests, long BytesOnDisk, double BytesOnDiskPerPaper, long StoreLogBytes, long WalBytes,
    int IndexLiveCount, double IndexBytesPerVector);
