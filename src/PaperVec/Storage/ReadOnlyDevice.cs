using FASTER.core;

namespace PaperVec.Storage;

/// <summary>
/// A FASTER device over existing files that never changes the disk (papervec verify): reads come
/// from the files, a missing file reads as zeros and is not created, and whatever FASTER writes
/// (recovery flushes pages it fixed up, replay fills pages past memory) stays in memory, where
/// later reads see it. Removing a segment forgets it in memory only.
/// </summary>
public sealed class ReadOnlyDevice : StorageDeviceBase
{
    readonly Lock _lock = new();
    // Writes per segment, oldest first; reads apply them over the file's bytes in order.
    readonly Dictionary<int, List<(long Offset, byte[] Bytes)>> _written = [];
    readonly HashSet<int> _removed = [];

    public ReadOnlyDevice(string fileName) : base(fileName, 512, Devices.CAPACITY_UNSPECIFIED) { }

    string SegmentPath(int segment) => OmitSegmentIdFromFileName ? FileName : $"{FileName}.{segment}";

    public override unsafe void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context)
    {
        ThreadPool.UnsafeQueueUserWorkItem(_ =>
        {
            uint error = 0;
            try
            {
                var destination = new Span<byte>((void*)destinationAddress, (int)readLength);
                destination.Clear();
                bool removed;
                List<(long, byte[])>? written;
                lock (_lock)
                {
                    removed = _removed.Contains(segmentId);
                    written = _written.TryGetValue(segmentId, out var w) ? [.. w] : null;
                }
                string path = SegmentPath(segmentId);
                if (!removed && File.Exists(path))
                {
                    using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                    int done = 0;
                    while (done < destination.Length)
                    {
                        int n = RandomAccess.Read(handle, destination[done..], (long)sourceAddress + done);
                        if (n == 0) break; // past the end: zeros, as a cut file reads
                        done += n;
                    }
                }
                if (written != null)
                    foreach (var (offset, bytes) in written)
                    {
                        long from = Math.Max(offset, (long)sourceAddress), to = Math.Min(offset + bytes.Length, (long)sourceAddress + readLength);
                        if (from < to) bytes.AsSpan((int)(from - offset), (int)(to - from)).CopyTo(destination[(int)(from - (long)sourceAddress)..]);
                    }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { error = 1; }
            callback(error, error == 0 ? readLength : 0, context);
        }, null);
    }

    public override unsafe void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
    {
        var bytes = new Span<byte>((void*)sourceAddress, (int)numBytesToWrite).ToArray();
        lock (_lock)
        {
            if (!_written.TryGetValue(segmentId, out var list)) _written[segmentId] = list = [];
            list.Add(((long)destinationAddress, bytes));
            _removed.Remove(segmentId);
        }
        ThreadPool.UnsafeQueueUserWorkItem(_ => callback(0, numBytesToWrite, context), null);
    }

    public override void RemoveSegment(int segment)
    {
        lock (_lock)
        {
            _removed.Add(segment);
            _written.Remove(segment);
        }
    }

    public override void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result)
    {
        RemoveSegment(segment);
        callback(result);
    }

    public override long GetFileSize(int segment)
    {
        lock (_lock)
        {
            if (_removed.Contains(segment)) return 0;
            long written = _written.TryGetValue(segment, out var list) ? list.Max(w => w.Offset + w.Bytes.Length) : 0;
            var info = new FileInfo(SegmentPath(segment));
            return Math.Max(written, info.Exists ? info.Length : 0);
        }
    }

    public override void Dispose() { }
}

/// <summary>
/// FASTER's checkpoint and commit-record files through <see cref="ReadOnlyDevice"/>s: lists what is
/// there, creates and deletes nothing.
/// </summary>
public sealed class ReadOnlyNamedDeviceFactory : INamedDeviceFactory
{
    string _baseName = "";

    public void Initialize(string baseName) => _baseName = baseName;

    public IDevice Get(FileDescriptor fileInfo) => new ReadOnlyDevice(Path.Combine(_baseName, fileInfo.directoryName, fileInfo.fileName));

    public IEnumerable<FileDescriptor> ListContents(string path)
    {
        var directory = new DirectoryInfo(Path.Combine(_baseName, path));
        if (!directory.Exists) yield break;
        foreach (var folder in directory.GetDirectories().OrderByDescending(f => f.LastWriteTime)) yield return new FileDescriptor(folder.Name, "");
        foreach (var file in directory.GetFiles().OrderByDescending(f => f.LastWriteTime)) yield return new FileDescriptor("", file.Name);
    }

    public void Delete(FileDescriptor fileInfo) { } // never: verify changes nothing

    /// <summary>A checkpoint and commit-record manager over <paramref name="directory"/> that only reads.</summary>
    public static DeviceLogCommitCheckpointManager Manager(string directory) =>
        new(new ReadOnlyNamedDeviceFactory(), new DefaultCheckpointNamingScheme(Path.GetFullPath(directory)), removeOutdated: false);
}
