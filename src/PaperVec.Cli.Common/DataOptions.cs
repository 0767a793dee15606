using System.CommandLine;
using PaperVec.Engine;
using PaperVec.Storage;

namespace PaperVec.Cli.Common;

/// <summary>The data directory option and opening the database the way every verb does.</summary>
static class DataOptions
{
    public static Option<string?> Data() => new("--data") { Description = $"Data directory (default ${DataDirectory.EnvironmentVariable}, else ./{DataDirectory.DefaultPath})" };

    public static Option<int> CheckpointMegabytes() =>
        CommonOptions.AtLeast(new("--checkpoint-mb") { Description = "Checkpoint after this many MB of write-ahead log", DefaultValueFactory = _ => 256 }, 0);

    /// <summary>Attaches the model to the collection: papers made by another model are re-embedded first, with a progress bar.</summary>
    public static async Task AttachModelAsync(IPaperCollection collection, Embedding.Embedder embedder)
    {
        ConsoleProgress? progress = null;
        try
        {
            int count = await collection.AttachModelAsync(embedder, (done, total) =>
                (progress ??= new ConsoleProgress($"re-embedding (model is now {embedder.ModelId})", total, "papers")).Report(done));
            if (count > 0) Console.Error.WriteLine($"papervec: re-embedded {count} papers made by another model");
        }
        finally { progress?.Dispose(); }
    }

    /// <summary>
    /// The data directory a reading verb names, which must exist: opening would create an empty store,
    /// so a typo in --data would answer "sound" or "0 papers" about a directory nobody meant.
    /// Only the verbs that write (ingest, serve, library like/dislike/remove) create one.
    /// </summary>
    public static string? Existing(string? data)
    {
        string root = DataDirectory.Resolve(data);
        if (!Directory.Exists(root))
            throw new CliException($"no data directory at {root} (check --data or ${DataDirectory.EnvironmentVariable}; `papervec ingest` creates one)");
        return data;
    }

    /// <summary>
    /// The collection a query verb works on: the data directory's, or the running server's that holds it
    /// (or that --server names), so the verb answers the same either way (<see cref="Remote.ServerTarget"/>).
    /// </summary>
    public static Task<IPaperCollection> OpenCollectionAsync(ParseResult parse, string? data) =>
        Remote.ServerTarget.OpenAsync(parse, data, async () => await OpenAsync(data));

    /// <param name="create">Whether a missing directory is created (the verbs that write); otherwise it is refused.</param>
    /// <param name="storage">The database's other settings (the crash tests' host: a failing device, a checkpoint step to die at).</param>
    public static async Task<PaperCollection> OpenAsync(string? data, int checkpointMegabytes = 256, bool create = false, PaperDatabaseOptions? storage = null)
    {
        if (!create) Existing(data);
        ConsoleProgress? rebuild = null;
        try
        {
            var collection = await PaperCollection.OpenAsync(data, (storage ?? new PaperDatabaseOptions()) with
            {
                CheckpointAfterWalBytes = Math.Max(1, (long)checkpointMegabytes << 20),
                Log = message => Console.Error.WriteLine($"papervec: {message}"),
                RebuildProgress = (done, total) => (rebuild ??= new ConsoleProgress("rebuilding index", total, "papers")).Report(done),
            });
            if (collection.Recovery.IndexRebuilt) Console.Error.WriteLine($"\npapervec: index rebuilt from {collection.PaperCount} stored papers ({collection.Recovery.IndexRebuildReason})");
            return collection;
        }
        finally { rebuild?.Dispose(); }
    }
}
