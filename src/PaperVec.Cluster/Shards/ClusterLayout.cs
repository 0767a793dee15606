using System.Text.Json;

namespace PaperVec.Cluster.Shards;

/// <summary>
/// The shape of a cluster, fixed when it is created and recorded in its configuration
/// (<see cref="FileName"/>): <see cref="Shards"/> shards, each held by <see cref="Replicas"/>
/// replicas on different silos out of <see cref="Silos"/>. A paper belongs to the shard of its
/// PaperVec key (already a hash of its normalised title); shard s has its replicas on silos
/// s, s+1, ..., s+R-1 (mod N), so no two replicas of a shard share a silo and every silo holds
/// S x R / N replicas.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ClusterLayout
{
    public const string FileName = "cluster.json";

    [Id(0)] public required int Shards { get; init; }
    [Id(1)] public required int Replicas { get; init; }
    [Id(2)] public required int Silos { get; init; }

    public static ClusterLayout Create(int shards, int replicas, int silos)
    {
        if (shards is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(shards), "shards must be within 1..4096");
        if (silos is < 1 or > 1024) throw new ArgumentOutOfRangeException(nameof(silos), "silos must be within 1..1024");
        if (replicas < 1 || replicas > silos) throw new ArgumentOutOfRangeException(nameof(replicas), $"replicas must be within 1..{silos} (the silos: no two replicas of a shard share one)");
        return new ClusterLayout { Shards = shards, Replicas = replicas, Silos = silos };
    }

    /// <summary>Which shard holds a paper, a digest's manifest, a library: the engine's routing over <see cref="Shards"/> shards.</summary>
    public Engine.ShardRouting Routing() => new(Shards);

    /// <summary>The shard a paper belongs to.</summary>
    public int ShardOf(long paperKey) => Routing().ShardOf(paperKey);

    /// <summary>The shard that keeps a digest's record (its whole listing order): a hash of its id.</summary>
    public int HomeShardOf(string digestId) => Routing().HomeShardOf(digestId);

    /// <summary>The shard that keeps a reader's library: a hash of its name.</summary>
    public int LibraryShardOf(string name) => Routing().LibraryShardOf(name);

    /// <summary>The silos holding shard <paramref name="shard"/>'s replicas, preferred first.</summary>
    public int[] SilosOf(int shard) => Enumerable.Range(0, Replicas).Select(j => (shard + j) % Silos).ToArray();

    /// <summary>The shards with a replica on silo <paramref name="silo"/>.</summary>
    public int[] ShardsOn(int silo) => Enumerable.Range(0, Shards).Where(s => SilosOf(s).Contains(silo)).ToArray();

    public static string SiloName(int silo) => $"silo-{silo}";

    /// <summary>The grain key of shard <paramref name="shard"/>'s replica on silo <paramref name="silo"/> ("3/silo-1").</summary>
    public static string ReplicaKey(int shard, int silo) => $"{shard}/{SiloName(silo)}";

    public static (int Shard, string SiloName) ParseReplicaKey(string key)
    {
        int slash = key.IndexOf('/');
        if (slash <= 0 || !int.TryParse(key.AsSpan(0, slash), out int shard)) throw new FormatException($"not a replica key: '{key}'");
        return (shard, key[(slash + 1)..]);
    }

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public void Save(string path)
    {
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, Json));
        File.Move(temporary, path, overwrite: true);
    }

    public static ClusterLayout Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"no cluster configuration at {path}");
        var layout = JsonSerializer.Deserialize<ClusterLayout>(File.ReadAllText(path), Json)
            ?? throw new InvalidDataException($"{path}: empty cluster configuration");
        return Create(layout.Shards, layout.Replicas, layout.Silos);
    }
}
