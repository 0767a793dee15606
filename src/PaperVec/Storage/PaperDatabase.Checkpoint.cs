using System.Diagnostics;

namespace PaperVec.Storage;

// Checkpoints (in the background, retried after a failure), storage health, compaction, closing.
public sealed partial class PaperDatabase
{
    int _checkpointRunning;
    long _checkpointNotBeforeTicks;
    volatile string? _commitProblem, _checkpointProblem;
    volatile bool _problemIsSpace;
    volatile bool _storeWedged;

    /// <summary>
    /// Null while the disk takes every write; else what is wrong (a failed commit or checkpoint, a
    /// stuck store), for /ready. Cleared by the next commit or checkpoint that succeeds.
    /// </summary>
    public string? StorageProblem => _applyFailure ?? CommitProblem ?? _checkpointProblem;

    // A refused write's problem lasts while the log still refuses writes: the log retries in the background and may
    // take writes again before (or without) a client's next write.
    string? CommitProblem => _commitProblem is { } problem && _wal?.Failure != null ? problem : null;

    /// <summary>The log to append to, with the server's bounds; once it takes writes again after a failure, the problem clears.</summary>
    WriteAheadLog OpenWriteAheadLog(string walPath, PaperDatabaseOptions options) =>
        new(walPath, options.DeviceFactory, options: new WriteAheadLogOptions
        {
            CommitTimeout = options.WalCommitTimeout,
            RetryAfter = options.WalRetryAfter,
            Log = options.Log,
            Recovered = () => ClearStorageProblem(commit: true),
        });

    /// <summary>Whether <see cref="StorageProblem"/> is a full disk (HTTP 507) rather than another fault (503).</summary>
    public bool StorageProblemIsSpace => _problemIsSpace;

    /// <summary>A storage failure as a fault; FASTER's device errors often carry no errno, so a nearly full disk counts as full.</summary>
    StorageFaultException FaultOf(string what, Exception e)
    {
        var fault = StorageFaultException.From(what, e);
        if (fault.InsufficientSpace) return fault;
        if (DiskSpace.Available(Root) is long free && free < (64L << 20))
            return new StorageFaultException($"{what}: no space left on device ({free >> 20} MB free)", e, insufficientSpace: true);
        // FASTER's own words ("Commit of address range [..] failed with error code 4294967295") say neither where nor what.
        return StorageFaultException.IsDeviceError(e)
            ? new StorageFaultException($"{what}: the disk under {Root} reported an I/O error ({StorageFaultException.DeviceDetail(e)}); writes resume by themselves once it takes writes again", e, insufficientSpace: false)
            : fault;
    }

    StorageFaultException Classify(string what, Exception e)
    {
        var fault = FaultOf(what, e);
        _commitProblem = fault.Message;
        _problemIsSpace = fault.InsufficientSpace;
        return fault;
    }

    void ClearStorageProblem(bool commit)
    {
        if (commit) _commitProblem = null;
        else _checkpointProblem = null;
        if (_commitProblem == null && _checkpointProblem == null) _problemIsSpace = false;
    }

    /// <summary>Starts a checkpoint in the background once the log has grown past the threshold (never inside a write).</summary>
    void MaybeCheckpointInBackground()
    {
        if (_wal.TailAddress - (_manifest?.WalAddress ?? 0) <= _options.CheckpointAfterWalBytes || _applyFailure != null) return;
        if (DateTime.UtcNow.Ticks < Interlocked.Read(ref _checkpointNotBeforeTicks) || _storeWedged) return;
        if (Interlocked.CompareExchange(ref _checkpointRunning, 1, 0) != 0) return;
        _ = Task.Run(async () =>
        {
            try { await CheckpointAsync().ConfigureAwait(false); }
            catch (Exception e) when (!_disposed)
            {
                _options.Log?.Invoke($"checkpoint failed, retrying in {_options.CheckpointRetryAfter.TotalSeconds:0} s: {_checkpointProblem ?? e.Message}");
            }
            catch (Exception) { }
            finally { Volatile.Write(ref _checkpointRunning, 0); }
        });
    }

    /// <summary>
    /// A failed checkpoint is tried again by itself (at least a second apart), so a disk that comes back
    /// clears <see cref="StorageProblem"/> and /ready without waiting for a client's write to start one.
    /// </summary>
    void ScheduleCheckpointRetry()
    {
        if (_disposed) return;
        var delay = _options.CheckpointRetryAfter < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : _options.CheckpointRetryAfter;
        _ = Task.Delay(delay).ContinueWith(_ =>
        {
            // No log to checkpoint into (repair before it opens one), nothing to retry, or a store only a restart frees.
            if (_disposed || _wal == null || _checkpointProblem == null || _storeWedged) return;
            if (Interlocked.CompareExchange(ref _checkpointRunning, 1, 0) != 0) return;
            _ = Task.Run(async () =>
            {
                try { await CheckpointAsync().ConfigureAwait(false); }
                catch (Exception) { } // reported by StorageProblem, retried again from CheckpointAsync
                finally { Volatile.Write(ref _checkpointRunning, 0); }
            });
        }, TaskScheduler.Default);
    }

    /// <summary>Waits for a background checkpoint still running (tests, and closing).</summary>
    public async Task WaitForBackgroundCheckpointAsync()
    {
        while (Volatile.Read(ref _checkpointRunning) != 0) await Task.Delay(5).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes the store and the index durable at one log position and drops the log before it.
    /// Writers' applies wait while it runs (their log appends and commits go on); searches do not.
    /// A failure (disk full, say) leaves the previous checkpoint and the whole log in place, is
    /// reported by <see cref="StorageProblem"/> and is retried later.
    /// </summary>
    public async Task CheckpointAsync()
    {
        if (_options.Mode == OpenMode.Verify) return;
        await _applyGate.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_storeWedged) throw new StorageFaultException(_checkpointProblem ?? "the store is stuck", null, false);
            // A durable entry that was not applied must stay in the log for the restart to replay.
            if (_applyFailure is { } broken) throw new StorageFaultException($"no checkpoint while {broken}", null, false);
            await CheckpointLockedAsync().ConfigureAwait(false);
            ClearStorageProblem(commit: false);
        }
        catch (Exception e) when (e is not ObjectDisposedException)
        {
            var fault = FaultOf("checkpoint failed", e);
            _checkpointProblem = $"{fault.Message} (the write-ahead log still holds every write; retried later)";
            _problemIsSpace |= fault.InsufficientSpace;
            Interlocked.Exchange(ref _checkpointNotBeforeTicks, (DateTime.UtcNow + _options.CheckpointRetryAfter).Ticks);
            ScheduleCheckpointRetry();
            throw fault;
        }
        finally { _applyGate.Release(); }
    }

    async Task CheckpointLockedAsync()
    {
        long walAddress = _appliedEnd;
        long nextSequence = _nextToApply;
        // Refuse up front when the disk cannot hold what the checkpoint writes: FASTER's checkpoint
        // does not always return when its writes fail.
        long needed = _store.UnflushedBytes + _store.HashTableBytes + (long)_index.LiveCount * (_options.Dimension * 4 + 256) + (16L << 20);
        if (DiskSpace.Available(Root) is long free && free < needed)
            throw new StorageFaultException($"checkpoint needs about {needed >> 20} MB, the disk has {free >> 20} MB free", null, insufficientSpace: true);

        var storeCheckpoint = _store.CheckpointAsync();
        if (await Task.WhenAny(storeCheckpoint, Task.Delay(_options.CheckpointTimeout)).ConfigureAwait(false) != storeCheckpoint)
        {
            // FASTER gives no way to cancel it; its sessions may wait on it, so stop writing until a restart.
            _storeWedged = true;
            _applyFailure = $"the store's checkpoint did not finish within {_options.CheckpointTimeout.TotalSeconds:0} s (disk fault?); restart papervec (the write-ahead log holds every acknowledged write)";
            throw new StorageFaultException(_applyFailure, null, insufficientSpace: false);
        }
        Guid token = await storeCheckpoint.ConfigureAwait(false);
        _options.AtCheckpointStep?.Invoke(CheckpointStep.StoreCheckpointed, _directory.StorePath);
        string indexFile = $"hnsw-{token:N}.bin";
        string indexPath = Path.Combine(_directory.IndexPath, indexFile);
        _index.Repair(); // the snapshot keeps no deleted or stranded nodes
        try
        {
            _index.Save(indexPath);
            _options.AtCheckpointStep?.Invoke(CheckpointStep.IndexSnapshotWritten, indexPath);
            AtomicFile.FlushDirectory(_directory.IndexPath);
            // Before the manifest: the lexical index may run ahead of checkpoint.json (replay is idempotent), never behind it.
            CommitLexical(nextSequence); // a failed one marks it behind: it is rebuilt in the background
            var manifest = CheckpointManifest.Create(token, walAddress, nextSequence, indexFile, _index.LiveCount, _store.CheckpointFiles(token),
                _store.LogChunks(_manifest?.StoreLogChunks ?? []), _store.CheckpointTailAddress);
            manifest.Save(_directory.ManifestPath);
            _manifest = manifest;
        }
        catch
        {
            // The manifest still names the previous checkpoint: drop this one's files, keep that one.
            TryDelete(indexPath);
            TryDelete(_directory.ManifestPath + ".tmp");
            _store.PurgeCheckpointsExcept(_manifest?.StoreToken ?? Guid.Empty);
            throw;
        }
        // papervec repair checkpoints before it opens a log to append to: the old log is left whole then.
        if (_wal is { } wal) await wal.TruncateUntilAsync(walAddress).ConfigureAwait(false);
        _store.PurgeCheckpointsExcept(token);
        foreach (var old in Directory.GetFiles(_directory.IndexPath))
            if (Path.GetFileName(old) != indexFile) TryDelete(old);
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Reclaims disk from overwritten and deleted records, then checkpoints.</summary>
    public async Task<long> CompactAsync()
    {
        await _applyGate.WaitAsync().ConfigureAwait(false);
        long before, after;
        try
        {
            before = _store.LogBytes;
            await _store.CompactAsync().ConfigureAwait(false);
            after = _store.LogBytes;
        }
        finally { _applyGate.Release(); }
        await CheckpointAsync().ConfigureAwait(false);
        return before - after;
    }

    /// <summary>Bytes of every file in the data directory (cheap next to <see cref="Stats"/>, which also scans the digests).</summary>
    public long BytesOnDisk() => _directory.BytesOnDisk();

    public DatabaseStats Stats()
    {
        long bytes = _directory.BytesOnDisk();
        int papers = PaperCount;
        return new DatabaseStats(papers, _catalog.Digests().Count, bytes, papers == 0 ? 0 : (double)bytes / papers, _store.LogBytes,
            _wal.TailAddress - _wal.BeginAddress, _index.LiveCount, _index.MemoryUsage().BytesPerVector);
    }

    /// <summary>Store papers and index live ids are one set (each store key is in the index, counts agree).</summary>
    public bool IndexMatchesStore(out string problem)
    {
        var keys = PaperKeys();
        problem = !SameLiveIds(_index, keys) ? $"index holds {_index.LiveCount} live ids, store {keys.Count} papers"
            // A lexical index being rebuilt is reported as degraded, not as a mismatch.
            : _lexicalDegraded == null && LexicalDifference(keys) is { } lexical ? $"lexical index: {lexical}" : "";
        return problem.Length == 0;
    }

    /// <summary>
    /// Closes every file as a process killed at this moment leaves them: no closing checkpoint, no lexical
    /// commit, the directory lock released; the next open recovers from the write-ahead log. The in-process
    /// kill -9 of the recovery and fault tests; no host calls it.
    /// </summary>
    internal void Abandon()
    {
        StopLexicalRebuildAsync().GetAwaiter().GetResult(); // the in-process kill -9 of tests: nothing else waits on it
        _disposed = true;
        _wal.Dispose();
        _store.Dispose();
        _index.Dispose();
        lock (_lexicalSwap) _lexical.Abandon();
        _directory.Dispose();
    }

    /// <summary>
    /// Checkpoints (so the next start is quick), then closes the store, the log and the directory
    /// lock. A checkpoint that fails (full disk) is skipped: the log holds every write, and the next
    /// start replays it. Never hangs on a stuck store.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        await StopLexicalRebuildAsync().ConfigureAwait(false); // it reads the store, which closes below
        try
        {
            try { await WaitForBackgroundCheckpointAsync().WaitAsync(_options.CheckpointTimeout).ConfigureAwait(false); }
            catch (TimeoutException) { } // a stuck one: the checkpoint below says so
            // A disk that just refused a write (other than for space) would make the checkpoint wait on it, past any
            // shutdown timeout: close without one, as the log holds every acknowledged write.
            if (_commitProblem != null && !_problemIsSpace)
                throw new StorageFaultException($"the last write failed: {_commitProblem}", null, insufficientSpace: false);
            if (_options.Mode != OpenMode.Verify && !_storeWedged && _applyFailure == null) await CheckpointAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is StorageFaultException or IOException)
        {
            _options.Log?.Invoke($"closing without a checkpoint ({e.Message}); the next start replays the write-ahead log");
        }
        finally
        {
            _disposed = true;
            // Each step on its own, so a failing one never keeps the data directory's lock held.
            try { _wal.Dispose(); } catch (Exception e) { _options.Log?.Invoke($"write-ahead log not closed cleanly ({e.Message})"); }
            try
            {
                if (_storeWedged) { }
                else if (_commitProblem != null && !_problemIsSpace)
                {
                    // FASTER's device can wait for good on a dead disk: closed on the side, never holding up the process's exit.
                    var closing = Task.Factory.StartNew(_store.Dispose, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                    try { await closing.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); }
                    catch (TimeoutException) { _options.Log?.Invoke("store not closed: the disk does not answer (the write-ahead log holds every acknowledged write)"); }
                }
                else _store.Dispose();
            }
            catch (Exception e) { _options.Log?.Invoke($"store not closed cleanly ({e.Message})"); }
            _index.Dispose();
            await CloseLexicalAsync().ConfigureAwait(false);
            _directory.Dispose();
        }
    }
}
