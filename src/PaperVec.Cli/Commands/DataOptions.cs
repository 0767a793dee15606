using System.CommandLine;
using PaperVec.Storage;

namespace PaperVec.Cli.Commands;

/// <summary>The data directory option and opening the database the way every verb does.</summary>
static class DataOptions
{
    public static Option<string?> Data() => new("--data") { Description = $"Data directory (default ${DataDirectory.EnvironmentVariable}, else ./{DataDirectory.DefaultPath})" };

    public static Option<int> CheckpointMegabytes() =>
        CommonOptions.AtLeast(new("--checkpoint-mb") { Description = "Checkpoint after this many MB of write-ahead log", DefaultValueFactory = _ => 256 }, 0);

    /// <summary>Re-embeds papers made by another model before this embedder's vectors meet them.</summary>
    public static void EnsureSameModel(PaperDatabase db, Embedding.Embedder embedder)
    {
        if (db.ModelId == embedder.ModelId || db.PaperCount == 0) return;
        ConsoleProgress? progress = null;
        try
        {
            int count = Digests.ModelChangeReembedder.Reembed(db, embedder, (done, total) =>
                (progress ??= new ConsoleProgress($"re-embedding (model is now {embedder.ModelId})", total, "papers")).Report(done));
            if (count > 0) Console.Error.WriteLine($"papervec: re-embedded {count} papers made by another model");
        }
        finally { progress?.Dispose(); }
    }

    public static PaperDatabase Open(string? data, int checkpointMegabytes = 256)
    {
        ConsoleProgress? rebuild = null;
        try
        {
            var db = PaperDatabase.Open(data, new PaperDatabaseOptions
            {
                CheckpointAfterWalBytes = Math.Max(1, (long)checkpointMegabytes << 20),
                Log = message => Console.Error.WriteLine($"papervec: {message}"),
                RebuildProgress = (done, total) => (rebuild ??= new ConsoleProgress("rebuilding index", total, "papers")).Report(done),
                CrashAt = Environment.GetEnvironmentVariable("PAPERVEC_CRASH_AT"),
            });
            if (db.Recovery.IndexRebuilt) Console.Error.WriteLine($"\npapervec: index rebuilt from {db.PaperCount} stored papers ({db.Recovery.IndexRebuildReason})");
            return db;
        }
        finally { rebuild?.Dispose(); }
    }
}
