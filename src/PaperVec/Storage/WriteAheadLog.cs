using System.Buffers;
using System.Buffers.Binary;
using FASTER.core;

namespace PaperVec.Storage;

/// <summary>
/// The write-ahead log in front of the record store, on a FasterLog with a checksum per entry.
/// Each entry is a sequence number (so a silently skipped hole is detected on replay) and one
/// <see cref="WriteBatch"/>. Group commit: writers append, then wait for a commit that covers their
/// entry; one committer thread flushes whatever has accumulated, so many small ingests share a flush.
/// A commit returns only when the entry and the commit record are on disk (FasterLog writes O_SYNC).
/// </summary>
public sealed class WriteAheadLog : IDisposable
{
    readonly IDevice _device;
    readonly FasterLog _log;
    readonly Lock _appendLock = new();
    readonly SemaphoreSlim _commitRequested = new(0);
    readonly Thread _committer;
    readonly CancellationTokenSource _stopping = new();
    volatile Exception? _commitFailure;
    long _nextSequence;

    public WriteAheadLog(string directory)
    {
        _device = Devices.CreateLogDevice(Path.Combine(directory, "wal.log"));
        _log = new FasterLog(new FasterLogSettings
        {
            LogDevice = _device,
            LogCommitDir = Path.Combine(directory, "commits"),
            PageSize = 1L << 25,   // an entry must fit in one page: batches up to MaxEntryBytes
            MemorySize = 1L << 26,
            SegmentSize = 1L << 26,
            LogChecksum = LogChecksumType.PerEntry,
            RemoveOutdatedCommits = true,
        });
        _committer = new Thread(CommitLoop) { IsBackground = true, Name = "papervec-wal-commit" };
        _committer.Start();
    }

    /// <summary>The largest batch one entry can hold (a FasterLog entry must fit in one page).</summary>
    public const int MaxEntryBytes = (1 << 25) - 4096;

    public long BeginAddress => _log.BeginAddress;
    public long CommittedUntilAddress => _log.CommittedUntilAddress;
    public long TailAddress => _log.TailAddress;
    public long NextSequence => Interlocked.Read(ref _nextSequence);

    /// <summary>Sets the sequence number the next appended entry gets (after recovery).</summary>
    public void ResumeAt(long nextSequence) => Interlocked.Exchange(ref _nextSequence, nextSequence);

    /// <summary>Appends one entry (in memory) and returns the log address its commit must reach.</summary>
    public long Append(ReadOnlySpan<byte> payload)
    {
        byte[] entry = ArrayPool<byte>.Shared.Rent(payload.Length + 8);
        try
        {
            lock (_appendLock)
            {
                BinaryPrimitives.WriteInt64LittleEndian(entry, _nextSequence);
                payload.CopyTo(entry.AsSpan(8));
                _log.Enqueue(entry.AsSpan(0, payload.Length + 8));
                _nextSequence++;
                return _log.TailAddress;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(entry); }
    }

    /// <summary>Returns when everything up to <paramref name="untilAddress"/> is durable (group commit).</summary>
    public async ValueTask WaitDurableAsync(long untilAddress)
    {
        if (_commitFailure is { } failure) throw new IOException("write-ahead log commit failed", failure);
        if (_log.CommittedUntilAddress >= untilAddress) return;
        var waiting = _log.WaitForCommitAsync(untilAddress);
        _commitRequested.Release();
        await waiting.ConfigureAwait(false);
        if (_commitFailure is { } late) throw new IOException("write-ahead log commit failed", late);
    }

    public void WaitDurable(long untilAddress) => WaitDurableAsync(untilAddress).AsTask().GetAwaiter().GetResult();

    void CommitLoop()
    {
        try
        {
            while (true)
            {
                _commitRequested.Wait(_stopping.Token);
                while (_commitRequested.CurrentCount > 0) _commitRequested.Wait(0); // one flush serves every waiter so far
                _log.Commit(spinWait: true);
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e) { _commitFailure = e; }
    }

    /// <summary>One replayed entry: its sequence number, its batch and the address after it.</summary>
    public readonly record struct Entry(long Sequence, byte[] Payload, long NextAddress);

    /// <summary>
    /// Committed entries from <paramref name="fromAddress"/> on. Stops at the first unreadable
    /// entry (a damaged or truncated tail) and reports it through <paramref name="damage"/>.
    /// </summary>
    public IEnumerable<Entry> Replay(long fromAddress, Action<string> damage)
    {
        long start = Math.Max(fromAddress, _log.BeginAddress);
        using var it = _log.Scan(start, _log.CommittedUntilAddress);
        while (true)
        {
            byte[] entry; int length; long next;
            try
            {
                if (!it.GetNext(out entry, out length, out _, out next)) yield break;
            }
            catch (Exception e) when (e is FasterException or IOException or InvalidOperationException)
            {
                damage($"write-ahead log unreadable after address {it.NextAddress}: {e.Message}");
                yield break;
            }
            if (length < 8)
            {
                damage($"write-ahead log entry at {it.CurrentAddress} is too short");
                yield break;
            }
            yield return new Entry(BinaryPrimitives.ReadInt64LittleEndian(entry), entry.AsSpan(8, length - 8).ToArray(), next);
        }
    }

    /// <summary>Drops entries before <paramref name="address"/> (covered by a checkpoint) at the next commit.</summary>
    public void TruncateUntil(long address)
    {
        _log.TruncateUntil(address);
        _log.Commit(spinWait: true);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _committer.Join();
        _log.Dispose();
        _device.Dispose();
        _stopping.Dispose();
        _commitRequested.Dispose();
    }
}
