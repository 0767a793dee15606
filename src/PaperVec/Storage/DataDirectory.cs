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

    readonly FileStream? _lock;

    public string Root { get; }
    public string StorePath => Path.Combine(Root, "store");
    public string WalPath => Path.Combine(Root, "wal");
    public string IndexPath => Path.Combine(Root, "index");
    public string LexicalPath => Path.Combine(Root, "lexical");
    public string ManifestPath => Path.Combine(Root, "checkpoint.json");

    DataDirectory(string root, FileStream? lockFile)
    {
        Root = root;
        _lock = lockFile;
    }

    /// <summary>--data DIR, else $PAPERVEC_DATA, else ./papervec-data.</summary>
    public static string Resolve(string? path) =>
        Path.GetFullPath(path ?? Environment.GetEnvironmentVariable(EnvironmentVariable) ?? DefaultPath);

    /// <summary>
    /// Holds an existing directory for papervec verify without changing it: nothing is created, and
    /// the lock file, when there is one, is locked as a reader and not rewritten. A directory no
    /// papervec process ever opened has no lock file; none is made, so none is held.
    /// </summary>
    public static DataDirectory OpenReadOnly(string? path)
    {
        string root = Resolve(path);
        if (!Directory.Exists(root)) throw new IOException($"data directory {root} does not exist");
        string lockPath = Path.Combine(root, "papervec.lock");
        if (!File.Exists(lockPath)) return new DataDirectory(root, null);
        try { return new DataDirectory(root, new FileStream(lockPath, FileMode.Open, FileAccess.Read, FileShare.None)); }
        catch (UnauthorizedAccessException e) { throw new IOException($"data directory {root} is not readable ({e.Message.Split('\n')[0]})", e); }
        catch (FileNotFoundException) { return new DataDirectory(root, null); }
        catch (IOException e)
        {
            throw new DataDirectoryInUseException($"data directory {root} is in use by another papervec process (lock {lockPath} is held)", e);
        }
    }

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
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"data directory {root} is not writable ({e.Message.Split('\n')[0]}): papervec needs to write there", e);
        }
        catch (IOException e) when (!IsWritable(root, out string why))
        {
            throw new IOException($"data directory {root} is not writable ({why}): papervec needs to write there", e);
        }
        catch (IOException e)
        {
            throw new DataDirectoryInUseException($"data directory {root} is in use by another papervec process (lock {lockPath} is held)", e);
        }
        lockFile.SetLength(0);
        var pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId + "\n");
        lockFile.Write(pid);
        lockFile.Flush(true);
        // Holding the lock: no server runs here, so an address file is a killed server's and is wrong.
        ServerAddressFile.Delete(root);
        foreach (var dir in new[] { Path.Combine(root, "store"), Path.Combine(root, "wal"), Path.Combine(root, "index") })
            Directory.CreateDirectory(dir);
        return new DataDirectory(root, lockFile);
    }

    /// <summary>Whether a file can be created in <paramref name="root"/> (a read-only mount or missing permission fails).</summary>
    static bool IsWritable(string root, out string why)
    {
        string probe = Path.Combine(root, $".papervec-probe-{Environment.ProcessId}");
        try
        {
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
            why = "";
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            why = e.Message.Split('\n')[0];
            return false;
        }
    }

    /// <summary>Bytes of every file under the directory.</summary>
    public long BytesOnDisk() =>
        Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories).Sum(f => { try { return new FileInfo(f).Length; } catch (IOException) { return 0L; } });

    public void Dispose() => _lock?.Dispose();
}

public sealed class DataDirectoryInUseException(string message, Exception inner) : IOException(message, inner);
