using System.Text.Json;
using PaperVec.Storage;

namespace PaperVec.Cluster.Shards;

/// <summary>
/// A replica's deletes, and ingests of a deleted paper again, by paper key and time, kept in a file
/// beside its collection (<see cref="ClusterSiloOptions.TombstonePath"/>) and written durably
/// before a delete is applied. Catching up merges two replicas' histories key by key, the later
/// event winning, so a paper deleted while a replica was down is not copied back from it, and one
/// ingested again after its delete is.
/// </summary>
sealed class ShardTombstones
{
    /// <summary>When a paper was last deleted and last ingested after a delete (UTC ticks, 0: never).</summary>
    public readonly record struct History(long DeletedAt, long RevivedAt)
    {
        public bool IsDeleted => DeletedAt > RevivedAt;
        public History Merge(History other) => new(Math.Max(DeletedAt, other.DeletedAt), Math.Max(RevivedAt, other.RevivedAt));
    }

    readonly string _path;
    readonly Dictionary<long, History> _histories;

    ShardTombstones(string path, Dictionary<long, History> histories) => (_path, _histories) = (path, histories);

    public static ShardTombstones Load(string path)
    {
        var histories = new Dictionary<long, History>();
        if (File.Exists(path))
            foreach (var (key, times) in JsonSerializer.Deserialize<Dictionary<string, long[]>>(File.ReadAllBytes(path)) ?? [])
                if (PaperIdentity.TryParse(key, out long k) && times is [var deleted, var revived]) histories[k] = new History(deleted, revived);
        return new ShardTombstones(path, histories);
    }

    /// <summary>A copy (peers list it while this replica writes).</summary>
    public Dictionary<long, History> Histories
    {
        get { lock (_histories) return new Dictionary<long, History>(_histories); }
    }

    public bool IsDeleted(long key)
    {
        lock (_histories) return _histories.TryGetValue(key, out var h) && h.IsDeleted;
    }

    /// <summary>Records a delete, durably (before the paper is deleted: a crash between finishes it at the next start).</summary>
    public void Deleted(long key, DateTimeOffset at) => Apply([(key, new History(at.UtcTicks, 0))]);

    /// <summary>Records that deleted papers were ingested again (keys never deleted are not recorded).</summary>
    public void Revived(IEnumerable<long> keys, DateTimeOffset at) =>
        Apply(keys.Distinct().Where(IsDeleted).Select(k => (k, new History(0, at.UtcTicks))).ToList());

    /// <summary>Merges histories (a peer's); returns the keys whose merged state changed.</summary>
    public List<long> Apply(IReadOnlyList<(long Key, History History)> histories)
    {
        lock (_histories) return ApplyLocked(histories);
    }

    List<long> ApplyLocked(IReadOnlyList<(long Key, History History)> histories)
    {
        var changed = new List<long>();
        foreach (var (key, history) in histories)
        {
            var merged = _histories.TryGetValue(key, out var mine) ? mine.Merge(history) : history;
            if (merged == mine) continue;
            _histories[key] = merged;
            changed.Add(key);
        }
        if (changed.Count > 0)
            AtomicFile.Write(_path, JsonSerializer.SerializeToUtf8Bytes(_histories.ToDictionary(h => PaperIdentity.Format(h.Key), h => new[] { h.Value.DeletedAt, h.Value.RevivedAt })));
        return changed;
    }
}
