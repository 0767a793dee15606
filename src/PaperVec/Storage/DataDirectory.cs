namespace PaperVec.Storage;

/// <summary>
/// A PaperVec data directory, held exclusively: a second process opening it fails with a clear
/// message instead of corrupting it (FASTER itself does no file locking). The lock is an OS file
/// lock on papervec.lock, released by the kernel when the process dies, even by SIGKILL.
/// </summary>
public sealed class DataDirectory : IDisposable
{
    public const string EnvironmentVariable = "PAPERVEC_DATA";
    public const string DefaultPath = "papervec-data";

    readonly FileStream _lock;

    public string Root { get; }
    public string StorePath => Path.Combine(Root, "store");
    public string WalPath => Path.Combine(Root, "wal");
    public string IndexPath => Path.Combine(Root, "index");
    public string ManifestPath => Path.Combine(Root, "checkpoint.json");

    DataDirectory(string root, FileStream lockFile)
    {
        Root = root;
        _lock = lockFile;
    }

    /// <summary>--data DIR, else $PAPERVEC_DATA, else ./papervec-data.</summary>
    public static string Resolve(string? path) =>
        Path.GetFullPath(path ?? Environment.GetEnvironmentVariable(EnvironmentVariable) ?? DefaultPath);

    public static DataDirectory Open(string? path)
    {
        string root = Resolve(path);
        try { Directory.CreateDirectory(root); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot create data directory {root}: {e.Message}", e);
        }
        string lockPath = Path.Combine(root, "papervec.lock");
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new DataDirectoryInUseException($"data directory {root} is in use by another papervec process (lock {lockPath} is held)", e);
        }
        lockFile.SetLength(0);
        var pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId + "\n");
        lockFile.Write(pid);
        lockFile.Flush(true);
        foreach (var dir in new[] { Path.Combine(root, "store"), Path.Combine(root, "wal"), Path.Combine(root, "index") })
            Directory.CreateDirectory(dir);
        return new DataDirectory(root, lockFile);
    }

    /// <summary>Bytes of every file under the directory.</summary>
    public long BytesOnDisk() =>
        Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories).Sum(f => { try { return new FileInfo(f).Length; } catch (IOException) { return 0L; } });

    public void Dispose() => _lock.Dispose();
}

public sealed class DataDirectoryInUseException(string message, Exception inner) : IOException(message, inner);
