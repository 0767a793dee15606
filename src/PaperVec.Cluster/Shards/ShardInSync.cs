using System.Text.Json;
using PaperVec.Storage;

namespace PaperVec.Cluster.Shards;

/// <summary>
/// A replica's durable record of which replicas of its shard may hold writes it lacks: itself and
/// every peer it has not seen leave the cluster while it was serving (<c>shard-N.insync.json</c>
/// beside its collection, written whole and flushed). A restarting replica serves only after it
/// has compared with every peer named here; a peer left out cannot be ahead of it (it was declared
/// dead while this one took the shard's writes, and in its next life it serves and takes writes
/// only after it has caught up from this one, which then names it again). The epoch counts the
/// record's changes, for the operator's view.
/// </summary>
sealed class ShardInSync
{
    readonly string _path;
    readonly object _lock = new();
    SortedSet<int> _silos;

    public long Epoch { get; private set; }

    ShardInSync(string path, long epoch, SortedSet<int> silos) => (_path, Epoch, _silos) = (path, epoch, silos);

    sealed record Stored(long Epoch, int[] InSync);

    /// <summary>
    /// Reads the record; none (a new replica, or one from before the record existed) or one that
    /// does not parse means every replica of the shard: the safe answer, compare with all of them.
    /// </summary>
    public static ShardInSync Load(string path, IReadOnlyCollection<int> replicas, Action<string> warn)
    {
        var all = new SortedSet<int>(replicas);
        if (!File.Exists(path)) return new ShardInSync(path, 0, all);
        try
        {
            var stored = JsonSerializer.Deserialize<Stored>(File.ReadAllBytes(path));
            if (stored?.InSync is { Length: > 0 } silos && silos.All(replicas.Contains))
                return new ShardInSync(path, stored.Epoch, new SortedSet<int>(silos));
            warn($"{path}: names no replica of this shard; every replica is treated as possibly ahead");
        }
        catch (JsonException e)
        {
            warn($"{path}: unreadable ({e.Message}); every replica is treated as possibly ahead");
        }
        return new ShardInSync(path, 0, all);
    }

    /// <summary>The replicas (silo indices) that may hold writes this one lacks, itself included.</summary>
    public int[] Silos
    {
        get { lock (_lock) return [.. _silos]; }
    }

    public bool Contains(int silo)
    {
        lock (_lock) return _silos.Contains(silo);
    }

    /// <summary>A peer declared dead while this replica served: it cannot gain writes this one lacks before catching up from it.</summary>
    public bool Exclude(int silo) => Change(s => s.Remove(silo));

    /// <summary>A peer caught up from this replica: it may take writes again, so it may be ahead of this one from now on.</summary>
    public bool Include(int silo) => Change(s => s.Add(silo));

    bool Change(Func<SortedSet<int>, bool> change)
    {
        lock (_lock)
        {
            var next = new SortedSet<int>(_silos);
            if (!change(next)) return false;
            // On disk before it counts: a readiness decided from it must survive a crash.
            AtomicFile.Write(_path, JsonSerializer.SerializeToUtf8Bytes(new Stored(Epoch + 1, [.. next])));
            (_silos, Epoch) = (next, Epoch + 1);
            return true;
        }
    }
}
