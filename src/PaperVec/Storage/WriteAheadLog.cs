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
///
/// Nothing here waits on the disk without a bound, and the bound measures the disk, not the process:
/// the committer runs on a thread of its own and fails a commit when one of the log's device writes
/// stays unfinished for <see cref="WriteAheadLogOptions.CommitTimeout"/> (<see cref="WatchedDevice"/>;
/// the default device, <see cref="WalFileDevice"/>, does its I/O on its own thread too). A commit whose
/// writes are done but which has not finished (FASTER's commit record and continuations wait for
/// thread-pool threads, all busy under load) is only slow: it fails only if a write beside the log also
/// fails or does not finish within the bound. The reopen runs on its own thread after a probe write
/// through the log's kind of device shows the disk takes writes again (FASTER's device disposal and
/// recovery can block for good on a dead disk), and a writer waits for it at most <see cref="ReopenWait"/>
/// before it is refused. After a failure the log also retries that reopen by itself, backing off
/// (<see cref="WriteAheadLogOptions.RetryAfter"/>), so the server is ready again once the disk is back,
/// without waiting for a client's write.
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
    readonly Thread _committer;
    readonly WriteAheadLogOptions _options;
    WatchedDevice _device;
    FasterLog _log;
    long _nextSequence;
    long _verifiedUntil; // what the last commit record checked on disk covers
    Exception? _failure;
    Task? _reopening; // the reopen attempt running on its own thread, if any (under _lock)
    Task? _healing; // the background retry of the reopen after a failure, if running (under _lock)
    Thread? _diskProbe; // a probe write beside the log that has not returned (a disk that stopped answering)
    // The log a reopen is replacing: a commit of it that finishes meanwhile must not acknowledge anything, as its
    // waiters were already failed (the reopen then finds the log past its last verified commit and refuses).
    FasterLog? _retiring;
    bool _disposed;

    /// <summary>How long a writer waits for the log to be reopened after a failed commit before it is refused.</summary>
    public static readonly TimeSpan ReopenWait = TimeSpan.FromSeconds(5);
    /// <summary>How long closing waits for FASTER to let go of a device that failed.</summary>
    static readonly TimeSpan DisposeWait = TimeSpan.FromSeconds(5);

    sealed record Waiter(long Address, long Sequence, TaskCompletionSource<DurableEntry> Done);

    /// <summary>A durable entry: its sequence number and the log address just after it.</summary>
    public readonly record struct DurableEntry(long Sequence, long End);

    /// <param name="deviceFactory">Makes the log's device from its file path (tests wrap it to fail on demand).</param>
    /// <param name="readOnly">Open for papervec verify and repair's reading: segments and commit records through
    /// <see cref="ReadOnlyDevice"/>s, so nothing on disk is created or changed (appending is then not allowed).</param>
    public WriteAheadLog(string directory, Func<string, IDevice>? deviceFactory = null, bool readOnly = false, WriteAheadLogOptions? options = null)
    {
        _directory = directory;
        _readOnly = readOnly;
        _options = options ?? new WriteAheadLogOptions();
        _deviceFactory = readOnly ? (path => new ReadOnlyDevice(path)) : deviceFactory ?? (path => new WalFileDevice(path));
        (_device, _log) = OpenLog();
        _verifiedUntil = _log.CommittedUntilAddress;
        // Its own thread: the commit bound must keep time while every thread-pool thread is busy.
        _committer = new Thread(CommitLoop) { IsBackground = true, Name = "papervec wal commit" };
        _committer.Start();
    }

    (WatchedDevice, FasterLog) OpenLog()
    {
        var device = new WatchedDevice(_deviceFactory(Path.Combine(_directory, "wal.log")));
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
    public async Task<DurableEntry> AppendAsync(ReadOnlyMemory<byte> payload)
    {
        if (_readOnly) throw new InvalidOperationException("the write-ahead log was opened read-only");
        if (payload.Length > MaxEntryBytes) throw new ArgumentException($"write-ahead log entry of {payload.Length} bytes; at most {MaxEntryBytes}");
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Volatile.Read(ref _failure) != null) await RecoverAsync().ConfigureAwait(false);
        return await Append(payload).ConfigureAwait(false);
    }

    async Task<DurableEntry> Append(ReadOnlyMemory<byte> payload)
    {
        var done = new TaskCompletionSource<DurableEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
        byte[] entry = ArrayPool<byte>.Shared.Rent(payload.Length + HeaderBytes);
        try
        {
            long framedFor = -1;
            int length = 0;
            // A full in-memory buffer drains as its pages reach disk (an entry fits in one page, and the committer
            // flushes what is waiting); a device error makes TryEnqueue throw instead. Waited for without holding the
            // lock or a thread, and bounded: a disk that stops answering leaves the buffer full for good.
            var deadline = Environment.TickCount64 + 10_000;
            while (true)
            {
                lock (_lock)
                {
                    ObjectDisposedException.ThrowIf(_disposed, this);
                    // Failed again since the caller's check: refused now, the next append reopens.
                    if (_failure is { } failed) throw StorageFaultException.From("write-ahead log commit failed", failed);
                    long sequence = _nextSequence;
                    if (framedFor != sequence) { length = Frame(sequence, payload.Span, entry); framedFor = sequence; }
                    if (_log.TryEnqueue(entry.AsSpan(0, length), out _))
                    {
                        long end = _log.TailAddress;
                        _nextSequence++;
                        _uncommitted.Enqueue((sequence, end));
                        _waiters.Add(new Waiter(end, sequence, done));
                        break;
                    }
                }
                if (Environment.TickCount64 > deadline)
                    throw new IOException("the write-ahead log's memory stayed full of pages the disk did not take");
                await Task.Delay(1).ConfigureAwait(false);
            }
            _commitRequested.Release();
        }
        catch (Exception e) when (e is FasterException or IOException or CommitFailureException)
        {
            lock (_lock)
            {
                _failure ??= e;
                StartHealing();
            }
            throw StorageFaultException.From("write-ahead log append failed", e);
        }
        finally { ArrayPool<byte>.Shared.Return(entry); }
        return await done.Task.ConfigureAwait(false);
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
    public async Task FlushAsync()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Volatile.Read(ref _failure) != null) await RecoverAsync().ConfigureAwait(false);
        var done = new TaskCompletionSource<DurableEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_failure is { } failed) throw StorageFaultException.From("write-ahead log commit failed", failed);
            _waiters.Add(new Waiter(long.MaxValue, -1, done)); // completed by the next successful commit, whatever it covers
        }
        _commitRequested.Release();
        await done.Task.ConfigureAwait(false);
    }

    void CommitLoop()
    {
        var token = _stopping.Token;
        while (true)
        {
            try { _commitRequested.Wait(token); }
            catch (OperationCanceledException) { return; }
            while (_commitRequested.CurrentCount > 0) _commitRequested.Wait(0); // one flush serves every waiter so far
            FasterLog log;
            WatchedDevice device;
            lock (_lock)
            {
                if (_waiters.Count == 0 || _failure != null) continue;
                (log, device) = (_log, _device);
            }
            Exception? failure;
            try
            {
                failure = AwaitCommit(log.CommitAsync(token).AsTask(), device, token);
                if (failure is OperationCanceledException && token.IsCancellationRequested) failure = new ObjectDisposedException(nameof(WriteAheadLog));
                else if (failure == null) CheckCommitRecord();
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested) { failure = new ObjectDisposedException(nameof(WriteAheadLog)); }
            catch (Exception e) { failure = e; }
            Settle(log, failure);
            if (failure is ObjectDisposedException) return;
        }
    }

    /// <summary>
    /// Waits for a commit on the committer's thread; returns why it failed, or null once it finished. A disk
    /// that stops answering never completes the commit: it fails once a device write has been pending for the
    /// bound, or once the commit has run that long with its writes done and a write beside the log fails or
    /// also does not finish. A commit whose writes are done waits on: it is late for want of a thread, not a disk.
    /// </summary>
    Exception? AwaitCommit(Task commit, WatchedDevice device, CancellationToken stopping)
    {
        long bound = (long)_options.CommitTimeout.TotalMilliseconds;
        int slice = (int)Math.Clamp(bound / 8, 1, 500);
        long clock = Environment.TickCount64; // restarted whenever a probe shows the disk takes writes
        while (true)
        {
            try
            {
                if (commit.Wait(slice)) return null;
            }
            catch (AggregateException e) { return e.InnerExceptions.Count == 1 ? e.InnerException! : e; }
            if (stopping.IsCancellationRequested) return new ObjectDisposedException(nameof(WriteAheadLog));
            long now = Environment.TickCount64;
            if (device.OldestOutstandingWrite is long issued && now - issued > bound)
                return new IOException($"the disk did not finish a write to the write-ahead log within {Seconds(_options.CommitTimeout)}");
            if (now - clock <= bound) continue;
            if (ProbeBesideLog() is { } probeFailed) return probeFailed;
            clock = Environment.TickCount64;
        }
    }

    static string Seconds(TimeSpan t) => t.TotalSeconds >= 1 ? $"{t.TotalSeconds:0} s" : $"{t.TotalMilliseconds:0} ms";

    /// <summary>
    /// A small durable write next to the log, on a thread of its own, waited for at most the commit bound:
    /// null when the disk took it, else why not (its error, or that it did not return). A probe that never
    /// returned is not started again: the disk still does not answer.
    /// </summary>
    Exception? ProbeBesideLog()
    {
        if (_diskProbe is { IsAlive: true }) return new IOException($"a write beside the write-ahead log has not finished for more than {Seconds(_options.CommitTimeout)}");
        Exception? failed = null;
        var probe = new Thread(() =>
        {
            try { ProbeDisk(_directory); }
            catch (Exception e) { failed = e; }
        }) { IsBackground = true, Name = "papervec wal disk probe" };
        probe.Start();
        if (!probe.Join(_options.CommitTimeout))
        {
            _diskProbe = probe;
            return new IOException($"the disk did not finish a write beside the write-ahead log within {Seconds(_options.CommitTimeout)}");
        }
        return failed;
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
            if (log != _log || log == _retiring) return; // reopened meanwhile: its waiters were settled then
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
            if (failure != null)
            {
                _failure = failure;
                StartHealing();
            }
            else if (_waiters.Count > 0) _commitRequested.Release(); // appended while this commit ran
        }
        foreach (var (w, e) in done)
            if (e == null) w.Done.TrySetResult(new DurableEntry(w.Sequence, w.Address));
            else w.Done.TrySetException(StorageFaultException.From("write-ahead log commit failed", e));
    }

    /// <summary>
    /// After a failed commit: waits (at most <see cref="ReopenWait"/>) for the log to be reopened at its
    /// last commit, on a thread of its own, starting that attempt unless one runs already; throws
    /// <see cref="StorageFaultException"/> when it fails or does not finish in time (the attempt goes on,
    /// and the next writer waits for it again).
    /// </summary>
    async Task RecoverAsync()
    {
        Task attempt;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_failure == null) return;
            attempt = _reopening ??= Task.Factory.StartNew(ReopenAttempt, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        if (await Task.WhenAny(attempt, Task.Delay(ReopenWait)).ConfigureAwait(false) != attempt)
            throw StorageFaultException.From("write-ahead log commit failed",
                new IOException($"the disk did not take a write within {ReopenWait.TotalSeconds:0} s after {Cause(Failure)}", Failure));
        await attempt.ConfigureAwait(false);
    }

    static string Cause(Exception? e) => e == null ? "an earlier failure" : $"an earlier failure ({e.Message.Split('\n')[0].Trim()})";

    void ReopenAttempt()
    {
        try { Reopen(); }
        finally { lock (_lock) _reopening = null; }
    }

    /// <summary>Starts the background retry of the reopen unless it runs already (under <see cref="_lock"/>).</summary>
    void StartHealing()
    {
        if (_healing != null || _disposed || _readOnly) return;
        _healing = Task.Run(HealAsync);
    }

    /// <summary>
    /// After a failure: tries the reopen (probe write first) again and again, waiting longer each time, until
    /// the log takes writes again or is closed. Waits without holding a thread; the attempt runs on its own.
    /// </summary>
    async Task HealAsync()
    {
        var wait = _options.RetryAfter;
        while (true)
        {
            try { await Task.Delay(wait, _stopping.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { return; } // closed
            Task attempt;
            lock (_lock)
            {
                if (_disposed) return;
                if (_failure == null) { _healing = null; return; } // a writer's reopen got there first
                attempt = _reopening ??= Task.Factory.StartNew(ReopenAttempt, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }
            try { await attempt.ConfigureAwait(false); }
            catch (Exception) { } // still failing: its error stays in Failure, for /ready
            lock (_lock)
            {
                if (_disposed) return;
                if (_failure == null) { _healing = null; return; }
            }
            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, Math.Max(_options.MaxRetryAfter.Ticks, _options.RetryAfter.Ticks)));
        }
    }

    /// <summary>
    /// Reopens the log at its last commit after a failed one (on the attempt's own thread, not under the
    /// lock: FASTER may block on a dead disk, and writers must still be refused meanwhile): whatever the
    /// failed commit did not cover is dropped, and sequence numbers continue from the first dropped entry.
    /// </summary>
    void Reopen()
    {
        long next, committed;
        FasterLog oldLog;
        WatchedDevice oldDevice;
        lock (_lock)
        {
            if (_failure == null || _disposed) return;
            next = _uncommitted.TryPeek(out var first) ? first.Sequence : _nextSequence;
            committed = _verifiedUntil;
            // Every writer still waiting on the old log learns its fate now: covered by the last verified commit, or failed.
            var failure = _failure;
            foreach (var w in _waiters)
                if (w.Sequence >= 0 && w.Address <= committed) w.Done.TrySetResult(new DurableEntry(w.Sequence, w.Address));
                else w.Done.TrySetException(StorageFaultException.From("write-ahead log commit failed", failure ?? new IOException("the log was reopened")));
            _waiters.Clear();
            (oldLog, oldDevice) = (_log, _device);
            _retiring = oldLog;
        }
        try
        {
            // FasterLog opened on a full disk can leave its commit record empty: wait for space before reopening.
            if (DiskSpace.Available(_directory) is long free && free < MinFreeBytesToOpen)
                throw new StorageFaultException($"write-ahead log commit failed: no space left on device ({free >> 20} MB free); writes resume once {MinFreeBytesToOpen >> 20} MB are free", Failure, insufficientSpace: true);
            // FASTER's recovery blocks for good when the disk fails its reads and opens (its device waits for a handle
            // that was never made): touch the disk first, and only reopen once it takes a durable write, through the
            // file system and through a device like the log's own.
            ProbeDisk(_directory);
            ProbeDevice();
            // A log after a device error may fail to close cleanly, or not return at all: closed on the side.
            DisposeBounded(oldLog, oldDevice);
            var (device, log) = OpenLog();
            if (log.CommittedUntilAddress != committed)
            {
                // Before: acknowledged entries are gone. After: entries already failed to their writers were committed
                // after all, and reusing their sequence numbers would break replay. Either way, stop rather than guess.
                long recovered = log.CommittedUntilAddress;
                log.Dispose();
                device.Dispose();
                throw new IOException($"the reopened log recovered to address {recovered}, not its last verified commit at {committed}");
            }
            lock (_lock)
            {
                if (_disposed) { log.Dispose(); device.Dispose(); return; }
                (_device, _log) = (device, log);
                _verifiedUntil = log.CommittedUntilAddress;
                _uncommitted.Clear();
                _nextSequence = next;
                _failure = null;
            }
            _options.Log?.Invoke($"the disk under {_directory} takes writes again: the write-ahead log was reopened at its last commit and writes resume");
            _options.Recovered?.Invoke();
        }
        catch (Exception e)
        {
            // Keep refusing appends (the background retry and the next writer try again): never write into a log that lost its place.
            lock (_lock)
            {
                _failure = e;
                StartHealing();
            }
            throw StorageFaultException.From("write-ahead log could not be reopened after a failed commit", e);
        }
    }

    /// <summary>
    /// One durable sector through a device made as the log's is (the log's own device may be the one that failed:
    /// a file-system probe alone can pass while it still refuses writes). Bounded by the commit bound; the device
    /// is closed on the side, as FASTER's device can wait for good on a dead disk.
    /// </summary>
    unsafe void ProbeDevice()
    {
        const int bytes = 4096;
        string path = Path.Combine(_directory, ".probe-device");
        var device = _deviceFactory(path);
        void* buffer = System.Runtime.InteropServices.NativeMemory.AlignedAlloc(bytes, bytes);
        bool finished = false;
        try
        {
            System.Runtime.InteropServices.NativeMemory.Clear(buffer, bytes);
            device.Initialize(1L << 20);
            uint error = 0;
            var done = new ManualResetEventSlim(); // not disposed: a late completion may still set it
            device.WriteAsync((IntPtr)buffer, 0, 0, bytes, (code, _, _) => { error = code; done.Set(); }, null!);
            if (!done.Wait(_options.CommitTimeout))
                throw new IOException($"the disk did not finish a probe write in {_directory} within {Seconds(_options.CommitTimeout)}");
            finished = true;
            if (error != 0)
                throw new IOException($"the disk refused a probe write in {_directory}{(error < 4096 ? $" (errno {error})" : "")}");
        }
        finally
        {
            if (finished) System.Runtime.InteropServices.NativeMemory.AlignedFree(buffer); // else the device may still write from it
            Task.Factory.StartNew(() =>
            {
                try { device.Dispose(); } catch (Exception) { }
                try { File.Delete(path + ".0"); } catch (Exception) { }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
    }

    /// <summary>A small durable write next to the log: throws the disk's own error (EIO, ENOSPC, read-only) if it takes none.</summary>
    static void ProbeDisk(string directory)
    {
        string probe = Path.Combine(directory, ".probe");
        using (var file = new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough))
        {
            file.Write(new byte[512]);
            file.Flush(flushToDisk: true);
        }
        File.Delete(probe);
    }

    /// <summary>Disposes a log and its device, waiting at most a few seconds (FASTER's device can wait for good on a dead disk).</summary>
    static void DisposeBounded(FasterLog log, WatchedDevice device)
    {
        var closing = Task.Factory.StartNew(() =>
        {
            try { log.Dispose(); } catch (Exception) { }
            try { device.Dispose(); } catch (Exception) { }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        closing.Wait(DisposeWait);
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
    public async Task TruncateUntilAsync(long address)
    {
        if (Volatile.Read(ref _failure) != null) await RecoverAsync().ConfigureAwait(false);
        lock (_lock)
        {
            // Never into a log being replaced after a failed commit (it may be closed already).
            if (_failure is { } failed) throw StorageFaultException.From("write-ahead log commit failed", failed);
            _log.TruncateUntil(address);
        }
        await FlushAsync().ConfigureAwait(false);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _stopping.Cancel();
        _committer.Join(TimeSpan.FromSeconds(10));
        Task? reopening;
        lock (_lock)
        {
            foreach (var w in _waiters) w.Done.TrySetException(new ObjectDisposedException(nameof(WriteAheadLog)));
            _waiters.Clear();
            reopening = _reopening;
        }
        try { reopening?.Wait(DisposeWait); } catch (AggregateException) { } // a reopen that finishes now sees _disposed and closes what it opened
        if (_failure != null || reopening is { IsCompleted: false }) DisposeBounded(_log, _device); // a dead disk: never hang the close
        else
        {
            _log.Dispose();
            _device.Dispose();
        }
        _stopping.Dispose();
    }
}

/// <summary>Bounds and retries of a <see cref="WriteAheadLog"/> (defaults for the server; tests shorten them).</summary>
public sealed record WriteAheadLogOptions
{
    /// <summary>A device write of the log pending this long (or a commit this long with a write beside the log failing too) fails the commit: a disk that stopped answering.</summary>
    public TimeSpan CommitTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>After a failure, the first background retry of the reopen; each further one waits twice as long, up to <see cref="MaxRetryAfter"/>.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>One line when the log takes writes again after a failure.</summary>
    public Action<string>? Log { get; init; }
    /// <summary>Called once the log takes writes again after a failure (the database clears its storage problem).</summary>
    public Action? Recovered { get; init; }
}
