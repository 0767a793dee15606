using FASTER.core;

namespace PaperVec.CrashHost;

/// <summary>
/// A real FASTER device (the one PaperVec uses) that starts failing writes with an I/O error on
/// demand, as a dying disk does, and can be healed. Failed writes complete with the error code the
/// managed device reports for an exception (uint.MaxValue) and write nothing; while failing, closing
/// the device waits until it heals, as FASTER's managed device does on a dead disk (it waits for a
/// file handle that was never made). It can also hold writes (<see cref="Switch.Hold"/>): they reach the
/// inner device only on <see cref="Switch.Release"/>, as on a disk that stopped answering, or one
/// that answers late. Test-only (the fault tests, in process and in this host).
/// </summary>
public sealed class FailingDevice(IDevice inner) : PaperVec.Storage.DelegatingDevice(inner)
{
    /// <summary>Switches for every device one factory made (the log's and the store's); fails too while <paramref name="flagFile"/> exists.</summary>
    public sealed class Switch(string? flagFile = null)
    {
        volatile bool _failing;
        int _failedWrites;
        readonly List<Action> _held = [];
        bool _holding;
        public bool Failing => _failing || (flagFile != null && File.Exists(flagFile));
        public int FailedWrites => Volatile.Read(ref _failedWrites);
        public void Fail() => _failing = true;
        public void Heal() => _failing = false;
        internal void Count() => Interlocked.Increment(ref _failedWrites);
        /// <summary>A device factory for <see cref="PaperVec.Storage.PaperDatabaseOptions.DeviceFactory"/> whose devices obey this switch.</summary>
        public Func<string, IDevice> Factory => FactoryOver(path => Devices.CreateLogDevice(path));
        /// <summary>The same over devices that <paramref name="inner"/> makes (the write-ahead log's own device, say).</summary>
        public Func<string, IDevice> FactoryOver(Func<string, IDevice> inner) => path => new FailingDevice(inner(path)) { _switch = this };

        /// <summary>From now on writes wait here, neither done nor failed, until <see cref="Release"/>.</summary>
        public void Hold() { lock (_held) _holding = true; }
        /// <summary>Writes that are waiting now (held since <see cref="Hold"/>).</summary>
        public int HeldWrites { get { lock (_held) return _held.Count; } }
        /// <summary>Hands every held write to the device, and later ones straight away.</summary>
        public void Release()
        {
            List<Action> held;
            lock (_held)
            {
                _holding = false;
                held = [.. _held];
                _held.Clear();
            }
            foreach (var write in held) write();
        }
        internal bool Held(Action write)
        {
            lock (_held)
            {
                if (!_holding) return false;
                _held.Add(write);
                return true;
            }
        }
    }

    Switch _switch = new();
    const uint IoError = uint.MaxValue;

    bool Fails(DeviceIOCompletionCallback callback, object context)
    {
        if (!_switch.Failing) return false;
        _switch.Count();
        // Completed off the caller's thread, as a real device completes its I/O.
        ThreadPool.UnsafeQueueUserWorkItem(_ => callback(IoError, 0, context), null);
        return true;
    }

    public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
    {
        if (!Fails(callback, context) && !_switch.Held(() => Inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, callback, context)))
            Inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, callback, context);
    }

    public override void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
    {
        if (!Fails(callback, context) && !_switch.Held(() => Inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, numBytesToWrite, callback, context)))
            Inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, numBytesToWrite, callback, context);
    }

    public override void Dispose()
    {
        while (_switch.Failing) Thread.Sleep(10);
        Inner.Dispose();
    }
}
