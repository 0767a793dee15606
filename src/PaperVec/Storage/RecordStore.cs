using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Hashing;
using FASTER.core;

namespace PaperVec.Storage;

/// <summary>
/// Byte-keyed, byte-valued records in a FasterKV on local disk (SpanByte keys and values, values in
/// PaperVec's own layout from <see cref="RecordCodec"/>). Durability comes from checkpoints; the
/// write-ahead log in front of it (see <see cref="PaperDatabase"/>) covers what came after the last one.
/// FASTER sessions are not thread-safe, so each operation rents one from a pool.
/// Listing uses a scan of the log keeping the newest record per key: FASTER 2.6.5's Iterate()
/// returns stale records with mangled keys once older versions reach disk (upstream #885, #962).
///
/// Every value is stored framed: byte 0xFE, u64 XxHash3 of the value seeded with the XxHash3 of its
/// key, then the value. Every read (<see cref="TryRead"/>, <see cref="ReadAsync"/>, <see cref="ScanLatest(byte[], ScanAction, Action{RecordDamagedException}?)"/>)
/// checks it before handing the value out, so a flipped byte in a value or in its key is refused
/// (<see cref="RecordDamagedException"/>), never served. Records from before framing (0xFE never
/// starts a UTF-8 string or a P/D/L record, and an 8-byte alias value is too short for a frame)
/// are read as before until <see cref="RequireChecksums"/> is set, after the open rewrote them all.
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

    /// <summary>First byte of a framed value; then the u64 checksum, then the value.</summary>
    public const byte FrameMarker = 0xFE;
    public const int FrameBytes = 9;

    /// <summary>When set, a value without a frame is damage (every record of the store was written framed).</summary>
    public bool RequireChecksums { get; set; }

    /// <summary>Scans skip a damaged record instead of throwing (papervec verify, which reports each once).</summary>
    public bool SkipDamagedInScans { get; set; }

    /// <summary>Names a record by its key in messages ("paper 0123...", "digest 2025-03-11").</summary>
    public KeyNamer NameKey { get; set; } = key => $"record {Convert.ToHexString(key)}";

    public delegate string KeyNamer(ReadOnlySpan<byte> key);

    /// <summary>The checksum a framed value carries: over the value, seeded by the key's hash, so a changed key fails it too.</summary>
    public static ulong RecordChecksum(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) =>
        XxHash3.HashToUInt64(value, unchecked((long)XxHash3.HashToUInt64(key)));

    /// <summary>The value inside a stored (framed) value, its checksum verified; throws <see cref="RecordDamagedException"/>.</summary>
    internal (int Offset, int Length) Unframe(ReadOnlySpan<byte> key, ReadOnlySpan<byte> stored, long address = -1)
    {
        if (stored.Length >= FrameBytes && stored[0] == FrameMarker)
        {
            var value = stored[FrameBytes..];
            if (BinaryPrimitives.ReadUInt64LittleEndian(stored[1..]) == RecordChecksum(key, value)) return (FrameBytes, value.Length);
            throw Damaged(key, address, "its checksum does not match its key and value");
        }
        if (RequireChecksums) throw Damaged(key, address, "it carries no checksum (its frame is damaged)");
        return (0, stored.Length); // written before records carried a checksum
    }

    RecordDamagedException Damaged(ReadOnlySpan<byte> key, long address, string why)
    {
        string where = address >= 0 ? $"{SegmentPath(address)} at offset {address % SegmentBytes}" : $"the store log {Path.Combine(_directory, "hlog.log.*")}";
        return new RecordDamagedException($"stored {NameKey(key)} in {where} is damaged: {why}; it is not served. 'papervec verify' lists the damage");
    }

    /// <summary>The log segment file holding log address <paramref name="address"/>.</summary>
    public string SegmentPath(long address) => Path.Combine(_directory, $"hlog.log.{address / SegmentBytes}");

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
    public void Recover(Guid token) => RecoverAsync(token).GetAwaiter().GetResult();

    /// <summary><see cref="Recover"/> through FASTER's async recovery: no thread blocked on the checkpoint's reads.</summary>
    public async Task RecoverAsync(Guid token)
    {
        // FASTER's own message for a missing checkpoint is "Value cannot be null. (Parameter 's')".
        foreach (var folder in new[] { "index-checkpoints", "cpr-checkpoints" })
        {
            string dir = Path.Combine(_directory, "checkpoints", folder, token.ToString());
            if (!Directory.Exists(dir) || Directory.GetFiles(dir, "info.dat*").Length == 0)
                throw new DataDirectoryDamagedException($"{Path.Combine(dir, "info.dat.0")} is missing: checkpoint.json names store checkpoint {token}, which is not in {Path.Combine(_directory, "checkpoints", folder)} (a wrong token, or the checkpoint was removed)");
        }
        try { await _store.RecoverAsync(token).ConfigureAwait(false); }
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

    /// <summary>Store log bytes per checksummed chunk in checkpoint.json: a page, so a segment holds 16.</summary>
    public const long LogChunkBytes = PageBytes;

    /// <summary>
    /// Checksums of the store log from its begin address to what is flushed (after a fold-over
    /// checkpoint: all of it), in chunks ending on <see cref="LogChunkBytes"/> boundaries. Whole chunks
    /// of <paramref name="previous"/> still in the log are kept, not read again: flushed log bytes never change.
    /// </summary>
    public List<CheckpointManifest.LogChunk> LogChunks(IReadOnlyList<CheckpointManifest.LogChunk> previous)
    {
        // Called under the database's apply gate right after a fold-over checkpoint, which returns once
        // the log is flushed up to the read-only address it moved to the tail. The last partial sector
        // is left out: FASTER writes whole sectors, and its next flush rewrites that sector from memory,
        // where the headers of the records in it may have changed bits (seen: one bit of each record's
        // RecordInfo) although their keys and values did not. Those records are still checked by their own checksums.
        long sector = Math.Max(1, (long)_device.SectorSize);
        long begin = _store.Log.BeginAddress, end = _store.Log.SafeReadOnlyAddress / sector * sector;
        var chunks = new List<CheckpointManifest.LogChunk>();
        long cursor = begin;
        foreach (var chunk in previous)
        {
            if (chunk.Start < cursor) continue; // before the begin address (compacted away)
            if (chunk.Start != cursor || chunk.End % LogChunkBytes != 0 || chunk.End > end) break;
            chunks.Add(chunk);
            cursor = chunk.End;
        }
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)LogChunkBytes);
        try
        {
            while (cursor < end)
            {
                long chunkEnd = Math.Min(end, (cursor / LogChunkBytes + 1) * LogChunkBytes);
                chunks.Add(new(cursor, chunkEnd, HashLogBytes(_directory, cursor, chunkEnd, buffer) ?? throw new IOException($"{SegmentPath(cursor)} is shorter than the flushed log")));
                cursor = chunkEnd;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
        return chunks;
    }

    /// <summary>XxHash3 of log addresses [start, end) (within one segment) as on disk; null when the file is missing or shorter.</summary>
    static ulong? HashLogBytes(string directory, long start, long end, byte[] buffer)
    {
        string file = Path.Combine(directory, $"hlog.log.{start / SegmentBytes}");
        if (!File.Exists(file)) return null;
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        if (stream.Length < start % SegmentBytes + (end - start)) return null;
        stream.Position = start % SegmentBytes;
        var span = buffer.AsSpan(0, (int)(end - start));
        stream.ReadExactly(span);
        return XxHash3.HashToUInt64(span);
    }

    /// <summary>
    /// Checks the store log in <paramref name="directory"/> against the chunk checksums of its
    /// checkpoint, before FASTER reads a byte of it (FASTER trusts the lengths and addresses in its
    /// log: damaged ones have crashed the process). The first damaged chunk, named, or null.
    /// </summary>
    public static string? CheckLogChunks(string directory, IReadOnlyList<CheckpointManifest.LogChunk> chunks)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)LogChunkBytes);
        try
        {
            foreach (var chunk in chunks)
            {
                string file = Path.Combine(directory, $"hlog.log.{chunk.Start / SegmentBytes}");
                // End is exclusive: a chunk ending on a segment boundary ([60 MB, 64 MB)) lies within its segment.
                if (chunk.End <= chunk.Start || chunk.End - chunk.Start > LogChunkBytes || chunk.Start / SegmentBytes != (chunk.End - 1) / SegmentBytes)
                    return $"checkpoint.json lists a store log chunk [{chunk.Start}, {chunk.End}) that is not within one segment: the manifest is damaged";
                ulong? hash = HashLogBytes(directory, chunk.Start, chunk.End, buffer);
                if (hash == null)
                    return $"{file} is missing or shorter than offset {(chunk.End - 1) % SegmentBytes + 1}: the store checkpoint in checkpoint.json needs those bytes";
                if (hash != chunk.Hash)
                    return $"{file} is damaged: its bytes from offset {chunk.Start % SegmentBytes} to {(chunk.End - 1) % SegmentBytes + 1} do not match the checksum the checkpoint recorded for them (stored records in that range cannot be trusted)";
            }
            return null;
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>Where the log ends right after a fold-over checkpoint (under the database's apply gate): the checkpoint's final address.</summary>
    public long CheckpointTailAddress => _store.Log.SafeReadOnlyAddress;

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
        byte[] framed = ArrayPool<byte>.Shared.Rent(FrameBytes + value.Length);
        try
        {
            framed[0] = FrameMarker;
            BinaryPrimitives.WriteUInt64LittleEndian(framed.AsSpan(1), RecordChecksum(key, value));
            value.CopyTo(framed.AsSpan(FrameBytes));
            fixed (byte* k = key, v = framed)
            {
                var keyBytes = SpanByte.FromPointer(k, key.Length);
                var valueBytes = SpanByte.FromPointer(v, FrameBytes + value.Length);
                session.Upsert(ref keyBytes, ref valueBytes);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(framed);
            Return(session);
        }
    }

    /// <summary>Stores a value without its checksum frame, as PaperVec did before records carried one (tests of reading older stores).</summary>
    internal unsafe void UpsertUnframedForTests(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
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
                var (offset, length) = Unframe(key, buffer.AsSpan(0, output.Length));
                value = new PooledBytes(buffer, length, offset);
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
                try
                {
                    var (offset, length) = Unframe(key, buffer.AsSpan(0, output.Length));
                    return new PooledBytes(buffer, length, offset);
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    throw;
                }
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
    /// order. Two passes over the log: find each key's newest address, then verify and decode those records.
    /// </summary>
    public void ScanLatest(byte prefix, ScanAction action) => ScanLatest([prefix], action);

    /// <summary>
    /// The same for keys starting with any of <paramref name="prefixes"/> (null: every key): one scan
    /// instead of one per prefix. A record whose checksum fails is passed to <paramref name="damaged"/>
    /// and skipped, or, without one, thrown. A log FASTER cannot scan is a <see cref="DataDirectoryDamagedException"/> naming the segment.
    /// </summary>
    public void ScanLatest(byte[]? prefixes, ScanAction action, Action<RecordDamagedException>? damaged = null)
    {
        damaged ??= SkipDamagedInScans ? _ => { } : null;
        ScanLive(prefixes, (key, stored, address) =>
        {
            int offset, length;
            try { (offset, length) = Unframe(key, stored, address); }
            catch (RecordDamagedException e) when (damaged != null)
            {
                damaged(e);
                return;
            }
            action(key, stored.Slice(offset, length));
        });
    }

    delegate void StoredAction(ReadOnlySpan<byte> key, ReadOnlySpan<byte> stored, long address);

    /// <summary>The newest stored (framed) value of every live key, unchecked: two passes over the log.</summary>
    void ScanLive(byte[]? prefixes, StoredAction action)
    {
        var newest = new Dictionary<string, (long Address, bool Deleted)>(StringComparer.Ordinal);
        long at = _store.Log.BeginAddress;
        bool inAction = false; // what the caller's action throws (a full disk while rebuilding, say) is not the log's damage
        try
        {
            using (var it = _store.Log.Scan(_store.Log.BeginAddress, _store.Log.TailAddress))
                while (it.GetNext(out RecordInfo info))
                {
                    at = it.CurrentAddress;
                    var key = it.GetKey().AsReadOnlySpan();
                    if (key.Length == 0 || (prefixes != null && Array.IndexOf(prefixes, key[0]) < 0)) continue;
                    newest[Convert.ToBase64String(key)] = (it.CurrentAddress, info.Tombstone);
                }
            var live = new HashSet<long>(newest.Values.Where(v => !v.Deleted).Select(v => v.Address));
            using (var it = _store.Log.Scan(_store.Log.BeginAddress, _store.Log.TailAddress))
                while (it.GetNext(out RecordInfo _))
                {
                    at = it.CurrentAddress;
                    if (!live.Contains(it.CurrentAddress)) continue;
                    inAction = true;
                    action(it.GetKey().AsReadOnlySpan(), it.GetValue().AsReadOnlySpan(), it.CurrentAddress);
                    inAction = false;
                }
        }
        catch (Exception e) when (!inAction && e is not (OutOfMemoryException or DataDirectoryDamagedException))
        {
            // FASTER's iterator trusts the lengths it reads; what it throws on a damaged page is damage, named here.
            throw new DataDirectoryDamagedException($"{SegmentPath(at)} cannot be read near offset {at % SegmentBytes}: the store log is damaged ({e.GetType().Name}: {e.Message.Split('\n')[0].Trim()})", e);
        }
    }

    /// <summary>
    /// Rewrites every live record stored before records carried a checksum with one (an older data
    /// directory, once, at open); returns how many. After it, and a checkpoint, <see cref="RequireChecksums"/> can be set.
    /// </summary>
    public int AddChecksumsToOlderRecords()
    {
        var unframed = new List<(byte[] Key, byte[] Value)>();
        ScanLive(null, (key, stored, _) =>
        {
            if (!(stored.Length >= FrameBytes && stored[0] == FrameMarker)) unframed.Add((key.ToArray(), stored.ToArray()));
        });
        foreach (var (key, value) in unframed) Upsert(key, value);
        return unframed.Count;
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
public readonly struct PooledBytes(byte[] buffer, int length, int offset = 0) : IDisposable
{
    public ReadOnlySpan<byte> Span => buffer.AsSpan(offset, length);

    public void Dispose()
    {
        if (buffer != null) ArrayPool<byte>.Shared.Return(buffer);
    }
}
