using System.Collections.Concurrent;
using FASTER.core;
using Microsoft.Win32.SafeHandles;

namespace PaperVec.Storage;

/// <summary>
/// The write-ahead log's device: segment files written and read on one thread of its own, with the
/// same file flags as FASTER's managed device (write-through, unbuffered). FASTER's managed device
/// does its file I/O on thread-pool threads, so with every pool thread busy (many requests blocked)
/// a healthy disk's write waits as long as a dead disk's: here the time from a request to its
/// completion is the disk's own, which is what the log's commit bound measures (<see cref="WatchedDevice"/>).
/// Completions are delivered on the I/O thread: FASTER's write callbacks only record the flush and
/// hand the rest of the commit to tasks of its own, so they never block it.
/// </summary>
public sealed class WalFileDevice : StorageDeviceBase
{
    const FileOptions Unbuffered = (FileOptions)0x20000000; // O_DIRECT, as FASTER's managed device opens its files
    const uint Failed = uint.MaxValue;

    readonly BlockingCollection<Action> _requests = [];
    readonly Thread _thread;
    readonly Lock _lock = new();
    readonly Dictionary<int, SafeFileHandle> _handles = [];

    public WalFileDevice(string fileName) : base(fileName, 512, Devices.CAPACITY_UNSPECIFIED)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(fileName))!);
        _thread = new Thread(() => { foreach (var request in _requests.GetConsumingEnumerable()) request(); })
        {
            IsBackground = true, // a disk that never answers must not keep the process alive
            Name = "papervec wal io",
        };
        _thread.Start();
    }

    string SegmentPath(int segment) => OmitSegmentIdFromFileName ? FileName : $"{FileName}.{segment}";

    SafeFileHandle Handle(int segment)
    {
        lock (_lock)
        {
            if (!_handles.TryGetValue(segment, out var handle))
                _handles[segment] = handle = File.OpenHandle(SegmentPath(segment), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite,
                    FileOptions.WriteThrough | Unbuffered);
            return handle;
        }
    }

    /// <summary>The error code FASTER gets: the errno when the exception carries one, else its generic failure.</summary>
    static uint Code(Exception e) => e is IOException && (e.HResult & 0xFFFF) is > 0 and var errno ? (uint)errno : Failed;

    void Submit(Action request, DeviceIOCompletionCallback callback, object context)
    {
        try { _requests.Add(request); }
        catch (InvalidOperationException) { callback(Failed, 0, context); } // disposed
    }

    public override unsafe void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        Submit(() =>
        {
            uint error = 0;
            try { RandomAccess.Write(Handle(segmentId), new ReadOnlySpan<byte>((void*)sourceAddress, (int)numBytesToWrite), (long)destinationAddress); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException) { error = Code(e); }
            callback(error, error == 0 ? numBytesToWrite : 0, context);
        }, callback, context);

    public override unsafe void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context) =>
        Submit(() =>
        {
            uint error = 0, done = 0;
            try
            {
                var destination = new Span<byte>((void*)destinationAddress, (int)readLength);
                var handle = Handle(segmentId);
                while (done < readLength)
                {
                    int n = RandomAccess.Read(handle, destination[(int)done..], (long)sourceAddress + done);
                    if (n == 0) break; // past the end of the file: FASTER sees the short read
                    done += (uint)n;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException) { error = Code(e); done = 0; }
            callback(error, done, context);
        }, callback, context);

    public override void RemoveSegment(int segment)
    {
        lock (_lock)
        {
            if (_handles.Remove(segment, out var handle)) handle.Dispose(); // a request using it keeps it open until it returns
        }
        try { File.Delete(SegmentPath(segment)); } catch (IOException) { }
    }

    public override void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result)
    {
        RemoveSegment(segment);
        callback(result);
    }

    public override long GetFileSize(int segment)
    {
        if (SegmentSize > 0) return SegmentSize;
        var info = new FileInfo(SegmentPath(segment));
        return info.Exists ? info.Length : 0;
    }

    public override void Dispose()
    {
        _requests.CompleteAdding();
        // Requests already queued still run; a disk that stopped answering is not waited for long (the thread is a background one).
        _thread.Join(TimeSpan.FromSeconds(5));
        lock (_lock)
        {
            foreach (var handle in _handles.Values) handle.Dispose();
            _handles.Clear();
        }
    }
}

/// <summary>
/// Wraps the log's device and stamps every write from the moment FASTER hands it over until the
/// device reports it done, so the commit bound can tell a write the disk has not finished (a dead or
/// stuck disk) from a commit whose writes are done and whose remaining steps only wait for a thread.
/// </summary>
public sealed class WatchedDevice(IDevice inner) : DelegatingDevice(inner)
{
    readonly ConcurrentDictionary<long, long> _outstanding = new(); // write number → Environment.TickCount64 when issued
    long _writes;

    /// <summary>When the oldest write the device has not completed was issued (Environment.TickCount64), or null when none is pending.</summary>
    public long? OldestOutstandingWrite
    {
        get
        {
            long? oldest = null;
            foreach (var (_, issued) in _outstanding) if (oldest is not long o || issued < o) oldest = issued;
            return oldest;
        }
    }

    DeviceIOCompletionCallback Watch(DeviceIOCompletionCallback callback)
    {
        long id = Interlocked.Increment(ref _writes);
        _outstanding[id] = Environment.TickCount64;
        return (error, bytes, context) =>
        {
            _outstanding.TryRemove(id, out _);
            callback(error, bytes, context);
        };
    }

    public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        Inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, Watch(callback), context);

    public override void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        Inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, numBytesToWrite, Watch(callback), context);
}
