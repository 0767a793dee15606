namespace PaperVec.Storage;

/// <summary>
/// Points inside a checkpoint where <see cref="PaperDatabaseOptions.AtCheckpointStep"/> is called: the
/// crash tests end the process at each, where a torn checkpoint must still recover to every acknowledged write.
/// </summary>
internal enum CheckpointStep
{
    /// <summary>The store's checkpoint is durable; no index snapshot or manifest names it yet (the path: the store's folder).</summary>
    StoreCheckpointed,
    /// <summary>The index snapshot is written but neither flushed nor named by the manifest (the path: the snapshot file).</summary>
    IndexSnapshotWritten,
}
