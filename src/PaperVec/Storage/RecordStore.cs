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
    readonly ConcurrentBag<ClientSession<SpanByte, SpanByte, SpanByte, SpanByteAndMemory, Empty, Functions>> _sessions = [];

    public RecordStore(string directory, long memoryBytes = 1L << 28)
    {
        _device = Devices.CreateLogDevice(Path.Combine(directory, "hlog.log"));
        _store = new FasterKV<SpanByte, SpanByte>(new FasterKVSettings<SpanByte, SpanByte>
        {
            LogDevice = _device,
            CheckpointDir = Path.Combine(directory, "checkpoints"),
            IndexSize = 1L << 23,   // 128k hash buckets of 7 entries: about a million keys before overflow buckets
            MemorySize = memoryBytes,
            PageSize = 1L << 22,    // a record must fit in one page: papers are capped far below 4 MB
            SegmentSize = 1L << 26, // compaction frees disk in whole segments
            // Old checkpoints are purged by PaperVec only after checkpoint.json names the new one, so a
            // crash between the two still finds the checkpoint the manifest points at.
            RemoveOutdatedCheckpoints = false,
        });
    }

    /// <summary>Restores the store to checkpoint <paramref name="token"/>.</summary>
    public void Recover(Guid token) => _store.Recover(token);

    /// <summary>Deletes every checkpoint but <paramref name="keep"/>.</summary>
    public void PurgeCheckpointsExcept(Guid keep)
    {
        var manager = _store.CheckpointManager;
        foreach (var token in manager.GetLogCheckpointTokens().Concat(manager.GetIndexCheckpointTokens()).Distinct().ToList())
            if (token != keep) manager.Purge(token);
    }

    /// <summary>A full fold-over checkpoint: everything written so far is on disk when this returns.</summary>
    public Guid Checkpoint()
    {
        var (ok, token) = _store.TakeFullCheckpointAsync(CheckpointType.FoldOver).AsTask().GetAwaiter().GetResult();
        if (!ok) throw new IOException("FASTER checkpoint failed");
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
    public long Compact()
    {
        var session = Rent();
        try
        {
            _store.TakeHybridLogCheckpointAsync(CheckpointType.FoldOver).AsTask().GetAwaiter().GetResult();
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
