using System.Buffers;
using System.Collections.Concurrent;
using FASTER.core;

namespace PaperVec.Storage;

/// <summary>
/// Byte-keyed, byte-valued records in a FasterKV on local disk (SpanByte keys and values, values in
/// PaperVec's own layout from <see cref="RecordCodec"/>). Durability comes from checkpoints; the
/// write-ahead log in front of it (see <see cref="PaperDatabase"/>) covers what came after the last one.
/// FASTER sessions are not thread-safe, so each operation rents one from a pool.
/// Listing uses a scan of the log keeping the newest record per key: FASTER 2.6.5's Iterate()
/// returns stale records with mangled keys once older versions reach disk (upstream #885, #962).
/// </summary>
public sealed class RecordStore : IDisposable
{
    sealed class Functions() : SpanByteFunctions<Empty>(MemoryPool<byte>.Shared);

    readonly FasterKV<SpanByte, SpanByte> _store;
    readonly IDevice _device;
    readonly string _directory;
    readonly ConcurrentBag<ClientSession<SpanByte, SpanByte, SpanByte, SpanByteAndMemory, Empty, Functions>> _sessions = [];

    /// <summary>Page size of the store's log: a record (key, value and FASTER's header) must fit in one.</summary>
    public const int PageBytes = 1 << 22;

    /// <summary>The largest value PaperVec writes: well inside a page, so no record can fail to fit after it was logged.</summary>
    public const int MaxValueBytes = 2 << 20;

    public const long SegmentBytes = 1L << 26;

    /// <param name="deviceFactory">Makes the log's device from its file path (tests wrap it to fail on demand).</param>
    /// <param name="readOnly">Open for papervec verify: every file through a <see cref="ReadOnlyDevice"/>, so nothing on disk is created or changed.</param>
    public RecordStore(string directory, long memoryBytes = 1L << 28, Func<string, IDevice>? deviceFactory = null, bool readOnly = false)
    {
        _directory = directory;
        _device = readOnly ? new ReadOnlyDevice(Path.Combine(directory, "hlog.log"))
            : (deviceFactory ?? (path => Devices.CreateLogDevice(path)))(Path.Combine(directory, "hlog.log"));
        _store = new FasterKV<SpanByte, SpanByte>(new FasterKVSettings<SpanByte, SpanByte>
        {
            LogDevice = _device,
            CheckpointDir = Path.Combine(directory, "checkpoints"),
            IndexSize = 1L << 23,   // 128k hash buckets of 7 entries: about a million keys before overflow buckets
            MemorySize = memoryBytes,
            PageSize = PageBytes,       // a record must fit in one page: values are capped at MaxValueBytes
            SegmentSize = SegmentBytes, // compaction frees disk in whole segments
            // Old checkpoints are purged by PaperVec only after checkpoint.json names the new one, so a
            // crash between the two still finds the checkpoint the manifest points at.
            RemoveOutdatedCheckpoints = false,
            CheckpointManager = readOnly ? ReadOnlyNamedDeviceFactory.Manager(Path.Combine(directory, "checkpoints")) : null,
        });
    }

    /// <summary>Restores the store to checkpoint <paramref name="token"/>; a damaged checkpoint is named in the error.</summary>
    public void Recover(Guid token)
    {
        try { _store.Recover(token); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new DataDirectoryDamagedException($"store checkpoint {token} in {Path.Combine(_directory, "checkpoints")} cannot be recovered ({e.GetType().Name}: {e.Message.Split('\n')[0].Trim()})", e);
        }
    }

    /// <summary>
    /// The files checkpoint <paramref name="token"/> needs (relative to the store folder): its hash
    /// table and log metadata, exactly as written, and every log segment from the begin address to
    /// the flushed tail, at least as long as now.
    /// </summary>
    public List<CheckpointManifest.StoreFile> CheckpointFiles(Guid token)
    {
        var files = new List<CheckpointManifest.StoreFile>();
        foreach (var folder in new[] { "index-checkpoints", "cpr-checkpoints" })
        {
            string dir = Path.Combine(_directory, "checkpoints", folder, token.ToString());
            if (!Directory.Exists(dir)) continue;
            foreach (var file in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
                files.Add(new(Path.GetRelativePath(_directory, file), new FileInfo(file).Length, Exact: true));
        }
        // After a fold-over checkpoint the whole log up to its tail is on disk.
        for (long segment = _store.Log.BeginAddress / SegmentBytes; segment <= Math.Max(0, _store.Log.TailAddress - 1) / SegmentBytes; segment++)
        {
            string file = Path.Combine(_directory, $"hlog.log.{segment}");
            if (File.Exists(file)) files.Add(new(Path.GetFileName(file), new FileInfo(file).Length, Exact: false));
            else if (_store.Log.TailAddress > _store.Log.BeginAddress) files.Add(new(Path.GetFileName(file), 0, Exact: false));
        }
        return files;
    }

    /// <summary>Bytes of log still only in memory: about what a fold-over checkpoint writes besides the hash table.</summary>
    public long UnflushedBytes => _store.Log.TailAddress - _store.Log.SafeReadOnlyAddress;

    /// <summary>Bytes of the hash table a checkpoint writes (ht.dat), with its overflow buckets.</summary>
    public long HashTableBytes => _store.IndexSize * 64 + _store.OverflowBucketCount * 64;

    /// <summary>Deletes every checkpoint but <paramref name="keep"/>.</summary>
    public void PurgeCheckpointsExcept(Guid keep)
    {
        var manager = _store.CheckpointManager;
        foreach (var token in manager.GetLogCheckpointTokens().Concat(manager.GetIndexCheckpointTokens()).Distinct().ToList())
            if (token != keep) manager.Purge(token);
    }

    /// <summary>A full fold-over checkpoint: everything written so far is on disk when the task completes.</summary>
    public async Task<Guid> CheckpointAsync()
    {
        var (ok, token) = await _store.TakeFullCheckpointAsync(CheckpointType.FoldOver).ConfigureAwait(false);
        if (!ok) throw new IOException("FASTER could not start a checkpoint (another one is still running)");
        return token;
    }

    public unsafe void Upsert(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var session = Rent();
        try
        {
            fixed (byte* k = key, v = value)
            {
                var keyBytes = SpanByte.FromPointer(k, key.Length);
                var valueBytes = SpanByte.FromPointer(v, value.Length);
                session.Upsert(ref keyBytes, ref valueBytes);
            }
        }
        finally { Return(session); }
    }

    public unsafe void Delete(ReadOnlySpan<byte> key)
    {
        var session = Rent();
        try
        {
            fixed (byte* k = key)
            {
                var keyBytes = SpanByte.FromPointer(k, key.Length);
                session.Delete(ref keyBytes);
            }
        }
        finally { Return(session); }
    }

    /// <summary>
    /// Reads the value of <paramref name="key"/> into a pooled buffer (dispose it to return the buffer);
    /// false when there is no such record. Allocates nothing when the value fits 8 KB.
    /// </summary>
    public unsafe bool TryRead(ReadOnlySpan<byte> key, out PooledBytes value)
    {
        var session = Rent();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(8192);
        bool returnBuffer = true;
        try
        {
            fixed (byte* k = key, b = buffer)
            {
                var keyBytes = SpanByte.FromPointer(k, key.Length);
                var output = SpanByteAndMemory.FromFixedSpan(buffer);
                var status = session.Read(ref keyBytes, ref output);
                if (status.IsPending)
                {
                    session.CompletePendingWithOutputs(out var completed, wait: true);
                    using (completed)
                    {
                        completed.Next();
                        status = completed.Current.Status;
                        output = completed.Current.Output;
                    }
                }
                if (!status.Found)
                {
                    if (!output.IsSpanByte) output.Memory?.Dispose();
                    value = default;
                    return false;
                }
                if (!output.IsSpanByte)
                {
                    // Larger than the pooled buffer: FASTER put it in pooled memory; copy it into a bigger rented array.
                    using (output.Memory)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = ArrayPool<byte>.Shared.Rent(output.Length);
                        output.Memory.Memory.Span[..output.Length].CopyTo(buffer);
                    }
                }
                value = new PooledBytes(buffer, output.Length);
                returnBuffer = false;
                return true;
            }
        }
        finally
        {
            if (returnBuffer) ArrayPool<byte>.Shared.Return(buffer);
            Return(session);
        }
    }

    /// <summary>
    /// Reads the value of <paramref name="key"/> without blocking a thread on disk: a record in
    /// memory is copied at once, one on disk completes asynchronously (FASTER copies the key when
    /// the read goes pending, so the caller's array need not stay pinned). Null when there is no such record.
    /// </summary>
    public async ValueTask<PooledBytes?> ReadAsync(byte[] key)
    {
        var session = Rent();
        try
        {
            var (status, output) = (await StartRead(session, key).ConfigureAwait(false)).Complete();
            using (output.Memory)
            {
                if (!status.Found) return null;
                byte[] buffer = ArrayPool<byte>.Shared.Rent(output.Length);
                if (output.IsSpanByte) output.SpanByte.AsReadOnlySpan().CopyTo(buffer);
                else output.Memory.Memory.Span[..output.Length].CopyTo(buffer);
                return new PooledBytes(buffer, output.Length);
            }
        }
        finally { Return(session); }
    }

    static unsafe ValueTask<FasterKV<SpanByte, SpanByte>.ReadAsyncResult<SpanByte, SpanByteAndMemory, Empty>> StartRead(
        ClientSession<SpanByte, SpanByte, SpanByte, SpanByteAndMemory, Empty, Functions> session, byte[] key)
    {
        fixed (byte* k = key)
        {
            var keyBytes = SpanByte.FromPointer(k, key.Length);
            return session.ReadAsync(ref keyBytes);
        }
    }

    /// <summary>
    /// Every live record whose key starts with <paramref name="prefix"/>, newest version only, in log
    /// order. Two passes over the log: find each key's newest address, then decode those records.
    /// </summary>
    public void ScanLatest(byte prefix, ScanAction action) => ScanLatest([prefix], action);

    /// <summary>The same for keys starting with any of <paramref name="prefixes"/>: one scan instead of one per prefix.</summary>
    public void ScanLatest(byte[] prefixes, ScanAction action)
    {
        var newest = new Dictionary<string, (long Address, bool Deleted)>(StringComparer.Ordinal);
        using (var it = _store.Log.Scan(_store.Log.BeginAddress, _store.Log.TailAddress))
            while (it.GetNext(out RecordInfo info))
            {
                var key = it.GetKey().AsReadOnlySpan();
                if (key.Length == 0 || Array.IndexOf(prefixes, key[0]) < 0) continue;
                newest[Convert.ToBase64String(key)] = (it.CurrentAddress, info.Tombstone);
            }
        var live = new HashSet<long>(newest.Values.Where(v => !v.Deleted).Select(v => v.Address));
        using (var it = _store.Log.Scan(_store.Log.BeginAddress, _store.Log.TailAddress))
            while (it.GetNext(out RecordInfo _))
                if (live.Contains(it.CurrentAddress))
                    action(it.GetKey().AsReadOnlySpan(), it.GetValue().AsReadOnlySpan());
    }

    public delegate void ScanAction(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

    /// <summary>
    /// Copies live records from the older part of the log to its tail so whole old segments can be
    /// deleted at the next checkpoint. Returns the new begin address.
    /// </summary>
    public async Task<long> CompactAsync()
    {
        var session = Rent();
        try
        {
            await _store.TakeHybridLogCheckpointAsync(CheckpointType.FoldOver).ConfigureAwait(false);
            long until = _store.Log.SafeReadOnlyAddress;
            return until <= _store.Log.BeginAddress ? _store.Log.BeginAddress : session.Compact(until, CompactionType.Lookup);
        }
        finally { Return(session); }
    }

    /// <summary>Bytes of log between its begin and tail: what compaction can shrink.</summary>
    public long LogBytes => _store.Log.TailAddress - _store.Log.BeginAddress;

    ClientSession<SpanByte, SpanByte, SpanByte, SpanByteAndMemory, Empty, Functions> Rent() =>
        _sessions.TryTake(out var session) ? session : _store.For(new Functions()).NewSession<Functions>();

    void Return(ClientSession<SpanByte, SpanByte, SpanByte, SpanByteAndMemory, Empty, Functions> session) => _sessions.Add(session);

    public void Dispose()
    {
        while (_sessions.TryTake(out var session)) session.Dispose();
        _store.Dispose();
        _device.Dispose();
    }
}

/// <summary>A value read from the store, in a rented array: use <see cref="Span"/>, then dispose.</summary>
public readonly struct PooledBytes(byte[] buffer, int length) : IDisposable
{
    public ReadOnlySpan<byte> Span => buffer.AsSpan(0, length);

    public void Dispose()
    {
        if (buffer != null) ArrayPool<byte>.Shared.Return(buffer);
    }
}
