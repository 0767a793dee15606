using System.Text.Json;

namespace PaperVec.Storage;

/// <summary>
/// checkpoint.json: which FASTER checkpoint and which index snapshot belong together, where the
/// write-ahead log must be replayed from to reach the last acknowledged write, and (version 2) the
/// store files that checkpoint needs, so a missing or cut file is named at open instead of losing
/// papers silently. Written atomically (<see cref="AtomicFile"/>) only after the store checkpoint
/// and the snapshot are durable.
/// Version 2 also means the log's entries carry PaperVec's own checksum (<see cref="WriteAheadLog"/>).
/// </summary>
public sealed record CheckpointManifest(int Version, Guid StoreToken, long WalAddress, long NextSequence, string IndexFile, int Papers, DateTimeOffset CreatedAt)
{
    public const int CurrentVersion = 2;

    /// <summary>Store files the checkpoint needs, relative to the store folder, with their length then (hlog segments may grow later).</summary>
    public IReadOnlyList<StoreFile> StoreFiles { get; init; } = [];

    public sealed record StoreFile(string Path, long Bytes, bool Exact);

    /// <summary>Whether the log's entries carry PaperVec's checksum (manifests before version 2 were written with entries without one).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool ChecksummedLog => Version >= 2;

    public static CheckpointManifest Create(Guid token, long walAddress, long nextSequence, string indexFile, int papers, IReadOnlyList<StoreFile> storeFiles) =>
        new(CurrentVersion, token, walAddress, nextSequence, indexFile, papers, DateTimeOffset.UtcNow) { StoreFiles = storeFiles };

    public static CheckpointManifest? TryLoad(string path)
    {
        if (!File.Exists(path)) return null;
        CheckpointManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllBytes(path)); }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException)
        {
            throw new DataDirectoryDamagedException($"{path} is damaged ({e.Message.Split('\n')[0]}); it names the store checkpoint to recover, so the store cannot be opened without it");
        }
        if (manifest == null) throw new DataDirectoryDamagedException($"{path} is damaged (empty)");
        if (manifest.Version > CurrentVersion)
            throw new DataDirectoryDamagedException($"{path} has version {manifest.Version}, newer than this PaperVec understands ({CurrentVersion})");
        string? problem = manifest.Version < 1 ? "no version"
            : manifest.StoreToken == Guid.Empty ? "no store checkpoint token"
            : manifest.WalAddress < 0 ? "a negative log address"
            : manifest.NextSequence < 0 ? "a negative sequence number"
            : string.IsNullOrEmpty(manifest.IndexFile) || manifest.IndexFile != Path.GetFileName(manifest.IndexFile) ? "no index snapshot file name"
            : manifest.StoreFiles == null || manifest.StoreFiles.Any(f => f == null || string.IsNullOrEmpty(f.Path) || f.Path.Contains("..") || Path.IsPathRooted(f.Path)) ? "a bad store file list"
            : null;
        if (problem != null) throw new DataDirectoryDamagedException($"{path} is damaged: it holds {problem}");
        return manifest;
    }

    public void Save(string path) => AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(this));
}

/// <summary>A data directory that cannot be opened without losing acknowledged data: the message names what is wrong.</summary>
public sealed class DataDirectoryDamagedException(string message, Exception? inner = null) : IOException(message, inner);
