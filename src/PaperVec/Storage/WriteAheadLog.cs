using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using FASTER.core;

namespace PaperVec.Storage;

/// <summary>
/// The write-ahead log in front of the record store, on a FasterLog. Each entry is a sequence
/// number (a skipped hole is detected on replay), PaperVec's own checksum over the sequence number
/// and the whole batch (FasterLog checks its per-entry checksum only on some read paths), and one
/// <see cref="WriteBatch"/>. Group commit: <see cref="AppendAsync"/> returns once a commit covers the
/// entry; one committer flushes whatever has accumulated, so concurrent writers share a flush.
///
/// A failed commit (disk full, EIO) fails every entry it did not cover, and the log is reopened at
/// its last commit before the next append: FasterLog refuses every append after a device error, and
/// an entry that was refused must never be committed later by someone else's flush.
/// </summary>
public sealed class WriteAheadLog : IDisposable
{
    /// <summary>Entry layout: i64 sequence, u64 XxHash3 of (sequence bytes, payload), payload.</summary>
    public const int HeaderBytes = 16;

    readonly string _directory;
    readonly Func<string, IDevice> _deviceFactory;
    readonly bool _readOnly;
    readonly Lock _lock = new();
    readonly List<Waiter> _waiters = [];
    // Entries appended but not yet covered by a commit: where the sequence restarts after a failed one.
    readonly Queue<(long Sequence, long End)> _uncommitted = new();
    readonly SemaphoreSlim _commitRequested = new(0);
    readonly CancellationTokenSource _stopping = new();
    readonly Task _committer;
    IDevice _device;
    FasterLog _log;
    long _nextSequence;
    long _verifiedUntil; // what the last commit record checked on disk covers
    Exception? _failure;
    bool _disposed;

    sealed record Waiter(long Address, long Sequence, TaskCompletionSource<DurableEntry> Done);

    /// <summary>A durable entry: its sequence number and the log address just after it.</summary>
    public readonly record struct DurableEntry(long Sequence, long End);

    /// <param name="deviceFactory">Makes the log's device from its file path (tests wrap it to fail on demand).</param>
    /// <param name="readOnly">Open for papervec verify and repair's reading: segments and commit records through
    /// <see cref="ReadOnlyDevice"/>s, so nothing on disk is created or changed (appending is then not allowed).</param>
    public WriteAheadLog(string directory, Func<string, IDevice>? deviceFactory = null, bool readOnly = false)
    {
        _directory = directory;
        _readOnly = readOnly;
        _deviceFactory = readOnly ? (path => new ReadOnlyDevice(path)) : deviceFactory ?? (path => Devices.CreateLogDevice(path));
        (_device, _log) = OpenLog();
        _verifiedUntil = _log.CommittedUntilAddress;
        _committer = Task.Run(CommitLoopAsync);
    }

    (IDevice, FasterLog) OpenLog()
    {
        var device = _deviceFactory(Path.Combine(_directory, "wal.log"));
        FasterLog? log = null;
        try
        {
            log = new FasterLog(new FasterLogSettings
            {
                LogDevice = device,
                LogCommitDir = CommitDirectory(_directory),
                PageSize = 1L << 25,   // an entry must fit in one page: batches up to MaxEntryBytes
                MemorySize = 1L << 26,
                SegmentSize = SegmentBytes,
                LogChecksum = LogChecksumType.PerEntry,
                // PaperVec removes outdated commit records itself, after checking the new one reached the disk:
                // FasterLog ignores a failed write of its commit record and would already have removed the last good one.
                RemoveOutdatedCommits = false,
                // FasterLog's own attempt swallows every error and starts an empty log at address 0,
                // which would then overwrite acknowledged entries: recover explicitly instead.
                TryRecoverLatest = false,
                LogCommitManager = _readOnly ? ReadOnlyNamedDeviceFactory.Manager(CommitDirectory(_directory)) : null,
            });
            if (HasCommitRecord(_directory))
            {
                // FasterLog skips unreadable commit records silently and would start an empty log.
                if (!Directory.EnumerateFiles(CommitDirectory(_directory), "commit.*", SearchOption.AllDirectories).Any(f => new FileInfo(f).Length > 0))
                    throw new DataDirectoryDamagedException($"every commit record in {CommitDirectory(_directory)} is empty: the write-ahead log's acknowledged entries cannot be located");
                // An empty newest record is a commit that never completed (nothing it covered was acknowledged): the one before it is the last.
                try { log.Recover(); }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    throw new DataDirectoryDamagedException($"the write-ahead log's commit record in {CommitDirectory(_directory)} cannot be read ({e.Message.Split('\n')[0].Trim()})", e);
                }
            }
            return (device, log);
        }
        catch
        {
            log?.Dispose();
            device.Dispose();
            throw;
        }
    }

    /// <summary>Whether FasterLog has written a commit record in this log directory.</summary>
    public static bool HasCommitRecord(string walDirectory) =>
        Directory.Exists(CommitDirectory(walDirectory)) && Directory.EnumerateFiles(CommitDirectory(walDirectory), "commit.*", SearchOption.AllDirectories).Any();

    public const long SegmentBytes = 1L << 26;

    /// <summary>Free space below which the log is not (re)opened: FasterLog opened on a full disk can empty its commit record.</summary>
    public const long MinFreeBytesToOpen = 16L << 20;

    /// <summary>Where FasterLog keeps its commit records (commit.N.0 under log-commits/).</summary>
    public static string CommitDirectory(string walDirectory) => Path.Combine(walDirectory, "commits");

    /// <summary>The file of the log segment holding <paramref name="address"/>.</summary>
    public static string SegmentFile(string walDirectory, long address) => Path.Combine(walDirectory, $"wal.log.{address / SegmentBytes}");

    /// <summary>The largest batch one entry can hold (a FasterLog entry must fit in one page).</summary>
    public const int MaxEntryBytes = (1 << 25) - 4096;

    public long BeginAddress => _log.BeginAddress;
    public long CommittedUntilAddress => _log.CommittedUntilAddress;
    public long TailAddress => _log.TailAddress;
    public long NextSequence { get { lock (_lock) return _nextSequence; } }

    /// <summary>Why the last commit failed, until a later one succeeds (null when the log is healthy).</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>Sets the sequence number the next appended entry gets (after recovery).</summary>
    public void ResumeAt(long nextSequence)
    {
        lock (_lock) _nextSequence = nextSequence;
    }

    /// <summary>
    /// Appends one entry and returns its sequence number and end address once it is durable. Throws
    /// <see cref="StorageFaultException"/> when the commit that should cover it fails: the entry
    /// then never becomes durable, not even through a later commit.
    /// </summary>
    public Task<DurableEntry> AppendAsync(ReadOnlySpan<byte> payload)
    {
        if (_readOnly) throw new InvalidOperationException("the write-ahead log was opened read-only");
        if (payload.Length > MaxEntryBytes) throw new ArgumentException($"write-ahead log entry of {payload.Length} bytes; at most {MaxEntryBytes}");
        byte[] entry = ArrayPool<byte>.Shared.Rent(payload.Length + HeaderBytes);
        try
        {
            var done = new TaskCompletionSource<DurableEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_failure != null) Reopen();
                long sequence = _nextSequence;
                int length = Frame(sequence, payload, entry);
                // A full in-memory buffer drains as its pages reach disk; a device error makes TryEnqueue throw instead.
                var deadline = Environment.TickCount64 + 10_000;
                while (!_log.TryEnqueue(entry.AsSpan(0, length), out _))
                {
                    if (Environment.TickCount64 > deadline)
                        throw new StorageFaultException("the write-ahead log's memory stayed full of pages that could not be written", null, insufficientSpace: false);
                    Thread.Sleep(1);
                }
                long end = _log.TailAddress;
                _nextSequence++;
                _uncommitted.Enqueue((sequence, end));
                _waiters.Add(new Waiter(end, sequence, done));
            }
            _commitRequested.Release();
            return done.Task;
        }
        catch (Exception e) when (e is FasterException or IOException or CommitFailureException)
        {
            lock (_lock) _failure ??= e;
            throw StorageFaultException.From("write-ahead log append failed", e);
        }
        finally { ArrayPool<byte>.Shared.Return(entry); }
    }

    static int Frame(long sequence, ReadOnlySpan<byte> payload, Span<byte> entry)
    {
        BinaryPrimitives.WriteInt64LittleEndian(entry, sequence);
        payload.CopyTo(entry[HeaderBytes..]);
        BinaryPrimitives.WriteUInt64LittleEndian(entry[8..], Checksum(entry[..8], payload));
        return payload.Length + HeaderBytes;
    }

    static ulong Checksum(ReadOnlySpan<byte> sequence, ReadOnlySpan<byte> payload)
    {
        var hash = new XxHash3();
        hash.Append(sequence);
        hash.Append(payload);
        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>Returns once everything appended so far is committed (also persists a truncation).</summary>
    public Task FlushAsync()
    {
        var done = new TaskCompletionSource<DurableEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_failure != null) Reopen();
            _waiters.Add(new Waiter(long.MaxValue, -1, done)); // completed by the next successful commit, whatever it covers
        }
        _commitRequested.Release();
        return done.Task;
    }

    async Task CommitLoopAsync()
    {
        var token = _stopping.Token;
        while (true)
        {
            try { await _commitRequested.WaitAsync(token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            while (_commitRequested.CurrentCount > 0) _commitRequested.Wait(0); // one flush serves every waiter so far
            FasterLog log;
            lock (_lock)
            {
                if (_waiters.Count == 0 || _failure != null) continue;
                log = _log;
            }
            Exception? failure = null;
            try
            {
                await log.CommitAsync(token).ConfigureAwait(false);
                CheckCommitRecord();
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested) { failure = new ObjectDisposedException(nameof(WriteAheadLog)); }
            catch (Exception e) { failure = e; }
            Settle(log, failure);
            if (failure is ObjectDisposedException) return;
        }
    }

    /// <summary>
    /// The newest commit record must be on disk whole before anything it covers is acknowledged;
    /// then the older ones are removed (FasterLog's own removal does not wait for that).
    /// </summary>
    void CheckCommitRecord()
    {
        var records = Directory.GetFiles(CommitDirectory(_directory), "commit.*", SearchOption.AllDirectories)
            .Select(f => (File: f, Number: long.TryParse(Path.GetFileName(f).Split('.')[1], out long n) ? n : -1)).OrderBy(r => r.Number).ToList();
        if (records.Count == 0) throw new IOException("FasterLog wrote no commit record");
        long length = new FileInfo(records[^1].File).Length;
        if (length == 0 || length % 512 != 0)
            throw new IOException($"the commit record {Path.GetFileName(records[^1].File)} did not reach the disk whole ({length} bytes)");
        foreach (var (file, _) in records.Take(records.Count - 1))
            try { File.Delete(file); } catch (IOException) { }
    }

    /// <summary>After a commit: completes the waiters it covered; on failure fails the rest and marks the log for reopening.</summary>
    void Settle(FasterLog log, Exception? failure)
    {
        var done = new List<(Waiter, Exception?)>();
        lock (_lock)
        {
            if (log != _log) return; // reopened meanwhile: its waiters were settled then
            if (failure == null) _verifiedUntil = _log.CommittedUntilAddress;
            long committed = _verifiedUntil; // FasterLog advances its own even when its commit record failed to write
            while (_uncommitted.TryPeek(out var e) && e.End <= committed) _uncommitted.Dequeue();
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                var w = _waiters[i];
                if (failure == null && (w.Address <= committed || w.Sequence < 0)) { done.Add((w, null)); _waiters.RemoveAt(i); }
                else if (failure != null && w.Address > committed) { done.Add((w, failure)); _waiters.RemoveAt(i); }
                else if (failure != null) { done.Add((w, null)); _waiters.RemoveAt(i); }
            }
            if (failure != null) _failure = failure;
            else if (_waiters.Count > 0) _commitRequested.Release(); // appended while this commit ran
        }
        foreach (var (w, e) in done)
            if (e == null) w.Done.TrySetResult(new DurableEntry(w.Sequence, w.Address));
            else w.Done.TrySetException(StorageFaultException.From("write-ahead log commit failed", e));
    }

    /// <summary>
    /// Reopens the log at its last commit after a failed one (caller holds the lock): whatever the
    /// failed commit did not cover is dropped, and sequence numbers continue from the first dropped entry.
    /// </summary>
    void Reopen()
    {
        long next = _uncommitted.TryPeek(out var first) ? first.Sequence : _nextSequence;
        long committed = _verifiedUntil;
        // Every writer still waiting on the old log learns its fate now: covered by the last verified commit, or failed.
        var failure = _failure;
        foreach (var w in _waiters)
            if (w.Sequence >= 0 && w.Address <= committed) w.Done.TrySetResult(new DurableEntry(w.Sequence, w.Address));
            else w.Done.TrySetException(StorageFaultException.From("write-ahead log commit failed", failure ?? new IOException("the log was reopened")));
        _waiters.Clear();
        // FasterLog opened on a full disk can leave its commit record empty: wait for space before reopening.
        if (DiskSpace.Available(_directory) is long free && free < MinFreeBytesToOpen)
            throw new StorageFaultException($"write-ahead log commit failed: no space left on device ({free >> 20} MB free); writes resume once {MinFreeBytesToOpen >> 20} MB are free", _failure, insufficientSpace: true);
        // A log after a device error may fail to close cleanly, and after a failed reopen these are closed already.
        try { _log.Dispose(); } catch (Exception) { }
        try { _device.Dispose(); } catch (Exception) { }
        try
        {
            var (device, log) = OpenLog();
            if (log.CommittedUntilAddress != committed)
            {
                // Before: acknowledged entries are gone. After: entries already failed to their writers were committed
                // after all, and reusing their sequence numbers would break replay. Either way, stop rather than guess.
                log.Dispose();
                device.Dispose();
                throw new IOException($"the reopened log recovered to address {log.CommittedUntilAddress}, not its last verified commit at {committed}");
            }
            (_device, _log) = (device, log);
            _verifiedUntil = log.CommittedUntilAddress;
        }
        catch (Exception e)
        {
            // Keep refusing appends (the next one tries again): never write into a log that lost its place.
            _failure = e;
            throw StorageFaultException.From("write-ahead log could not be reopened after a failed commit", e);
        }
        _uncommitted.Clear();
        _nextSequence = next;
        _failure = null;
    }

    /// <summary>One replayed entry: its sequence number, its batch and the address after it.</summary>
    public readonly record struct Entry(long Sequence, byte[] Payload, long Address, long NextAddress);

    /// <summary>
    /// Committed entries from <paramref name="fromAddress"/> on. Stops at the first unreadable entry
    /// or one whose checksum does not match (when <paramref name="checksummed"/>: logs written before
    /// PaperVec's own checksum have none) and reports it through <paramref name="damage"/>.
    /// </summary>
    public IEnumerable<Entry> Replay(long fromAddress, bool checksummed, Action<string> damage)
    {
        long start = Math.Max(fromAddress, _log.BeginAddress);
        using var it = _log.Scan(start, _log.CommittedUntilAddress);
        int header = checksummed ? HeaderBytes : 8;
        while (true)
        {
            byte[] entry; int length; long next, at;
            try
            {
                if (!it.GetNext(out entry, out length, out at, out next)) yield break;
            }
            catch (Exception e) when (e is FasterException or IOException or InvalidOperationException)
            {
                damage($"write-ahead log unreadable after address {it.NextAddress}: {e.Message}");
                yield break;
            }
            if (length < header)
            {
                damage($"write-ahead log entry at address {at} is too short ({length} bytes)");
                yield break;
            }
            var payload = entry.AsSpan(header, length - header);
            if (checksummed && BinaryPrimitives.ReadUInt64LittleEndian(entry.AsSpan(8)) != Checksum(entry.AsSpan(0, 8), payload))
            {
                damage($"write-ahead log entry at address {at} fails its checksum (damaged bytes)");
                yield break;
            }
            yield return new Entry(BinaryPrimitives.ReadInt64LittleEndian(entry), payload.ToArray(), at, next);
        }
    }

    /// <summary>Drops entries before <paramref name="address"/> (covered by a checkpoint); durable once the returned task completes.</summary>
    public Task TruncateUntilAsync(long address)
    {
        lock (_lock) _log.TruncateUntil(address);
        return FlushAsync();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _stopping.Cancel();
        try { _committer.Wait(TimeSpan.FromSeconds(10)); } catch (AggregateException) { }
        lock (_lock)
        {
            foreach (var w in _waiters) w.Done.TrySetException(new ObjectDisposedException(nameof(WriteAheadLog)));
            _waiters.Clear();
        }
        try { _log.Dispose(); } catch (Exception) when (_failure != null) { }
        try { _device.Dispose(); } catch (Exception) when (_failure != null) { }
        _stopping.Dispose();
        _commitRequested.Dispose();
    }
}
