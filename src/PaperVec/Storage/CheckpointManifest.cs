using System.IO.Hashing;
using System.Text.Json;

namespace PaperVec.Storage;

/// <summary>
/// checkpoint.json: which FASTER checkpoint and which index snapshot belong together, where the
/// write-ahead log must be replayed from to reach the last acknowledged write, and (version 2) the
/// store files that checkpoint needs, so a missing or cut file is named at open instead of losing
/// papers silently. Written atomically (<see cref="AtomicFile"/>) only after the store checkpoint
/// and the snapshot are durable.
/// Version 2 also means the log's entries carry PaperVec's own checksum (<see cref="WriteAheadLog"/>).
/// Version 3: the manifest carries its own checksum (XxHash3 of its JSON without it), every record in
/// the store carries one (<see cref="RecordStore"/>), and the store log's bytes up to the checkpoint
/// are listed as checksummed chunks, checked at open before FASTER reads them. Older versions load as before.
/// </summary>
public sealed record CheckpointManifest(int Version, Guid StoreToken, long WalAddress, long NextSequence, string IndexFile, int Papers, DateTimeOffset CreatedAt)
{
    public const int CurrentVersion = 3;

    /// <summary>XxHash3 (hex) of this manifest's JSON with this property null (version 3 on).</summary>
    public string? Checksum { get; init; }

    /// <summary>Checksums of the store log (hlog) from its begin address to the checkpoint's flushed tail (version 3 on).</summary>
    public IReadOnlyList<LogChunk> StoreLogChunks { get; init; } = [];

    /// <summary>
    /// Where the store checkpoint's log ends (FASTER's final address; 0 in manifests written before it
    /// was recorded, and then left out of the JSON, so their checksums still match): papervec repair
    /// reads the store log up to here when the checkpoint's own info.dat is gone.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public long StoreTailAddress { get; init; }

    /// <summary>Log addresses [Start, End) of the store log and the XxHash3 of their bytes.</summary>
    public sealed record LogChunk(long Start, long End, ulong Hash);

    /// <summary>Whether every record of the store carries its checksum (version 3 on; older stores are rewritten at open).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool ChecksummedRecords => Version >= 3;

    /// <summary>Store files the checkpoint needs, relative to the store folder, with their length then (hlog segments may grow later).</summary>
    public IReadOnlyList<StoreFile> StoreFiles { get; init; } = [];

    public sealed record StoreFile(string Path, long Bytes, bool Exact);

    /// <summary>Whether the log's entries carry PaperVec's checksum (manifests before version 2 were written with entries without one).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool ChecksummedLog => Version >= 2;

    public static CheckpointManifest Create(Guid token, long walAddress, long nextSequence, string indexFile, int papers, IReadOnlyList<StoreFile> storeFiles,
        IReadOnlyList<LogChunk> storeLogChunks, long storeTailAddress = 0) =>
        new(CurrentVersion, token, walAddress, nextSequence, indexFile, papers, DateTimeOffset.UtcNow) { StoreFiles = storeFiles, StoreLogChunks = storeLogChunks, StoreTailAddress = storeTailAddress };

    static string ChecksumOf(CheckpointManifest manifest) =>
        XxHash3.HashToUInt64(JsonSerializer.SerializeToUtf8Bytes(manifest with { Checksum = null })).ToString("x16");

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
        // Any edited or flipped field (a sequence number, a log address) fails it: the manifest decides what recovery replays.
        if (manifest.Version >= 3 && manifest.Checksum == null)
            throw new DataDirectoryDamagedException($"{path} is damaged: it carries no checksum (version {manifest.Version} manifests always do)");
        if (manifest.Version >= 3 && manifest.Checksum != ChecksumOf(manifest))
            throw new DataDirectoryDamagedException($"{path} is damaged: its checksum does not match its content (it was edited or corrupted); it names the store checkpoint and the log position to recover from, so the directory is not opened");
        string? problem = manifest.Version < 1 ? "no version"
            : manifest.StoreToken == Guid.Empty ? "no store checkpoint token"
            : manifest.WalAddress < 0 ? "a negative log address"
            : manifest.NextSequence < 0 ? "a negative sequence number"
            : string.IsNullOrEmpty(manifest.IndexFile) || manifest.IndexFile != Path.GetFileName(manifest.IndexFile) ? "no index snapshot file name"
            : manifest.StoreFiles == null || manifest.StoreFiles.Any(f => f == null || string.IsNullOrEmpty(f.Path) || f.Path.Contains("..") || Path.IsPathRooted(f.Path)) ? "a bad store file list"
            : manifest.StoreLogChunks == null || manifest.StoreLogChunks.Any(c => c == null || c.Start < 0 || c.End <= c.Start) ? "a bad store log checksum list"
            : manifest.StoreTailAddress < 0 ? "a negative store log address"
            : null;
        if (problem != null) throw new DataDirectoryDamagedException($"{path} is damaged: it holds {problem}");
        return manifest;
    }

    public void Save(string path) =>
        AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(Version >= 3 ? this with { Checksum = ChecksumOf(this) } : this));
}
