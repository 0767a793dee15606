using System.Text.Json;

namespace PaperVec.Storage;

/// <summary>
/// checkpoint.json: which FASTER checkpoint and which index snapshot belong together, and where the
/// write-ahead log must be replayed from to reach the last acknowledged write. Written atomically
/// (<see cref="AtomicFile"/>) only after both the store checkpoint and the snapshot are durable.
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

    public void Save(string path) => AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(this));
}
