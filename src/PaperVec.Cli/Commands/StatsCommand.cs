using System.CommandLine;
using System.Text.Json;
using PaperVec.Cli.Common;
using PaperVec.Cli.Common.Remote;
using PaperVec.Engine;

namespace PaperVec.Cli.Commands;

/// <summary>`papervec stats`: what the data directory holds and what it costs on disk.</summary>
static class StatsCommand
{
    public static Command Create()
    {
        var data = DataOptions.Data();
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var compact = new Option<bool>("--compact") { Description = "Reclaim disk from overwritten and deleted records first" };
        var command = new Command("stats", "Papers, digests, bytes on disk and index size") { data, json, compact };
        ServerTarget.AddTo(command);
        command.SetAction(async parse =>
        {
            var (root, stats, recovery, consistent, problem) = await StatsAsync(parse, parse.GetValue(data), parse.GetValue(compact));
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    papers = stats.Papers, digests = stats.Digests, bytesOnDisk = stats.BytesOnDisk, bytesOnDiskPerPaper = Math.Round(stats.BytesOnDiskPerPaper),
                    storeLogBytes = stats.StoreLogBytes, walBytes = stats.WalBytes, indexLive = stats.IndexLiveCount,
                    indexBytesPerVector = Math.Round(stats.IndexBytesPerVector), indexMatchesStore = consistent,
                    recovery = new { recovery.FromCheckpoint, recovery.ReplayedBatches, recovery.IndexRebuilt, seconds = recovery.Elapsed.TotalSeconds },
                }));
                return consistent ? 0 : 1;
            }
            Console.WriteLine($"data directory   {root}");
            Console.WriteLine($"papers           {stats.Papers}");
            Console.WriteLine($"digests          {stats.Digests}");
            Console.WriteLine($"bytes on disk    {stats.BytesOnDisk / 1e6:0.0} MB ({stats.BytesOnDiskPerPaper:0} per paper)");
            Console.WriteLine($"store log        {stats.StoreLogBytes / 1e6:0.0} MB; write-ahead log {stats.WalBytes / 1e3:0.0} KB");
            Console.WriteLine($"index            {stats.IndexLiveCount} live vectors, {stats.IndexBytesPerVector:0} bytes per vector in memory");
            Console.WriteLine($"recovery         {(recovery.FromCheckpoint ? "from checkpoint" : "empty start")}, {recovery.ReplayedBatches} batches replayed, {(recovery.IndexRebuilt ? "index rebuilt" : "index snapshot loaded")}, {recovery.Elapsed.TotalSeconds:0.00}s");
            Console.WriteLine($"index vs store   {(consistent ? "same live ids" : problem)}");
            return consistent ? 0 : 1;
        });
        return command;
    }

    /// <summary>The directory's figures: read here, or asked of the server that holds it (GET /stats: the same record).</summary>
    static async Task<StorageStats> StatsAsync(ParseResult parse, string? data, bool compact)
    {
        await using var collection = await DataOptions.OpenCollectionAsync(parse, data);
        if (collection is RemoteCollection remote)
        {
            if (compact) throw new CliException($"`papervec stats --compact` needs the data directory itself: stop the server at {remote.Client.BaseAddress} (Ctrl+C or SIGTERM) and run it again");
            return await remote.Client.GetAsync<StorageStats>("stats");
        }
        var local = (PaperCollection)collection;
        if (compact) Console.Error.WriteLine($"compaction reclaimed {await local.CompactAsync() / 1e6:0.0} MB of log");
        return local.StorageStats();
    }
}
