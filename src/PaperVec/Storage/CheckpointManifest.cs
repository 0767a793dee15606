using System.Text.Json;

namespace PaperVec.Storage;

/// <summary>
/// checkpoint.json: which FASTER checkpoint and which index snapshot belong together, and where the
/// write-ahead log must be replayed from to reach the last acknowledged write. Written atomically
/// (temp file, fsync, rename) only after both the store checkpoint and the snapshot are durable.
/// </summary>
public sealed record CheckpointManifest(int Version, Guid StoreToken, long WalAddress, long NextSequence, string IndexFile, int Papers, DateTimeOffset CreatedAt)
{
    const int CurrentVersion = 1;

    public static CheckpointManifest Create(Guid token, long walAddress, long nextSequence, string indexFile, int papers) =>
        new(CurrentVersion, token, walAddress, nextSequence, indexFile, papers, DateTimeOffset.UtcNow);

    public static CheckpointManifest? TryLoad(string path)
    {
        if (!File.Exists(path)) return null;
        CheckpointManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path} is damaged ({e.Message}); the store cannot be recovered from it", e); }
        if (manifest == null || manifest.Version < 1) throw new InvalidDataException($"{path} is damaged");
        if (manifest.Version > CurrentVersion) throw new InvalidDataException($"{path} has version {manifest.Version}, newer than this PaperVec understands ({CurrentVersion})");
        return manifest;
    }

    public void Save(string path)
    {
        string temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            JsonSerializer.Serialize(stream, this);
            stream.Flush(true);
        }
        File.Move(temp, path, overwrite: true);
        FsyncDirectory(Path.GetDirectoryName(path)!);
    }

    /// <summary>Makes a rename durable: on Linux the directory entry is persisted by fsync of the directory.</summary>
    internal static void FsyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            using var handle = File.OpenHandle(directory, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.None);
            RandomAccess.FlushToDisk(handle);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException) { /* best effort where directories cannot be opened */ }
    }
}
