using FASTER.core;

namespace PaperVec.Storage;

/// <summary>
/// A FASTER device that hands every call to another one: the base of devices that change only a few
/// calls (the log's <see cref="WatchedDevice"/>, the fault tests' failing device), so the forwarding
/// of the rest is written once.
/// </summary>
public abstract class DelegatingDevice(IDevice inner) : IDevice
{
    protected IDevice Inner => inner;

    public virtual void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, callback, context);
    public virtual void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, numBytesToWrite, callback, context);
    public virtual void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context) =>
        inner.ReadAsync(segmentId, sourceAddress, destinationAddress, readLength, callback, context);
    public virtual void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint alignedReadLength, DeviceIOCompletionCallback callback, object context) =>
        inner.ReadAsync(alignedSourceAddress, alignedDestinationAddress, alignedReadLength, callback, context);
    public virtual void Dispose() => inner.Dispose();

    public uint SectorSize => inner.SectorSize;
    public string FileName => inner.FileName;
    public long Capacity => inner.Capacity;
    public long SegmentSize => inner.SegmentSize;
    public int StartSegment => inner.StartSegment;
    public int EndSegment => inner.EndSegment;
    public int ThrottleLimit { get => inner.ThrottleLimit; set => inner.ThrottleLimit = value; }
    public void Initialize(long segmentSize, LightEpoch epoch = null!, bool omitSegmentIdFromFilename = false) => inner.Initialize(segmentSize, epoch, omitSegmentIdFromFilename);
    public bool TryComplete() => inner.TryComplete();
    public bool Throttle() => inner.Throttle();
    public void TruncateUntilAddressAsync(long toAddress, AsyncCallback callback, IAsyncResult result) => inner.TruncateUntilAddressAsync(toAddress, callback, result);
    public void TruncateUntilAddress(long toAddress) => inner.TruncateUntilAddress(toAddress);
    public void TruncateUntilSegmentAsync(int toSegment, AsyncCallback callback, IAsyncResult result) => inner.TruncateUntilSegmentAsync(toSegment, callback, result);
    public void TruncateUntilSegment(int toSegment) => inner.TruncateUntilSegment(toSegment);
    public void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result) => inner.RemoveSegmentAsync(segment, callback, result);
    public void RemoveSegment(int segment) => inner.RemoveSegment(segment);
    public long GetFileSize(int segment) => inner.GetFileSize(segment);
    public void Reset() => inner.Reset();
}
