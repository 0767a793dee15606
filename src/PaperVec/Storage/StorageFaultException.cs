namespace PaperVec.Storage;

/// <summary>
/// The disk refused a write (full, read-only, I/O error): nothing of the write became visible or
/// durable. <see cref="InsufficientSpace"/> tells a full disk (HTTP 507) from other faults (503).
/// </summary>
public sealed class StorageFaultException(string message, Exception? inner, bool insufficientSpace) : IOException(message, inner)
{
    public bool InsufficientSpace { get; } = insufficientSpace;

    /// <summary>Wraps a failure of a storage step, naming the cause found in its chain ("no space left on device").</summary>
    public static StorageFaultException From(string what, Exception failure)
    {
        if (failure is StorageFaultException fault) return fault;
        string cause = Cause(failure);
        bool full = IsOutOfSpace(failure);
        return new StorageFaultException($"{what}: {(full ? "no space left on device" : cause)}", failure, full);
    }

    const int ENOSPC = 28, EDQUOT = 122;

    static bool IsOutOfSpace(Exception failure)
    {
        for (var e = failure; e != null; e = e.InnerException)
        {
            if ((e.HResult & 0xFFFF) is ENOSPC or EDQUOT && e is IOException) return true;
            if (e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("disk full", StringComparison.OrdinalIgnoreCase)
                || e.Message.Contains("not enough space", StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    /// <summary>Whether the chain holds an error of the device itself (EIO, a failed FASTER device write, a disk that stopped answering).</summary>
    public static bool IsDeviceError(Exception failure)
    {
        for (var e = failure; e != null; e = e.InnerException)
            if (e is FASTER.core.CommitFailureException || e is IOException and not StorageFaultException) return true;
        return false;
    }

    /// <summary>The device's own words, short: FASTER's "Commit of address range [a-b] failed with error code 4294967295" becomes "a log write failed".</summary>
    public static string DeviceDetail(Exception failure)
    {
        var e = failure;
        while (e.InnerException != null) e = e.InnerException;
        if (e is FASTER.core.CommitFailureException) return "a write to the write-ahead log failed";
        string detail = e.Message.Split('\n')[0].Trim();
        return detail.Length <= 160 ? detail : detail[..160] + "...";
    }

    static string Cause(Exception failure)
    {
        var e = failure;
        while (e.InnerException != null && (e is AggregateException || e.Message.Length == 0)) e = e.InnerException;
        return e.Message.Split('\n')[0].Trim();
    }
}

/// <summary>Free space where a data directory lives.</summary>
public static class DiskSpace
{
    /// <summary>Bytes a non-root writer can still use on the file system holding <paramref name="path"/> (null when unknown).</summary>
    public static long? Available(string path)
    {
        try { return new DriveInfo(Path.GetFullPath(path)).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { return null; }
    }
}
