using PaperVec.Storage;

namespace PaperVec.Engine;

/// <summary>What <see cref="DataDirectoryMaintenance.VerifyAsync"/> found in the data directory at <see cref="Root"/>.</summary>
public sealed record VerifyResult(string Root, VerifyReport Report);

/// <summary>What <see cref="DataDirectoryMaintenance.RepairAsync"/> kept, lost and moved aside, and the papers left.</summary>
public sealed record RepairResult(string Root, RecoveryReport Recovery, int Papers)
{
    /// <summary>Whether anything was wrong: a problem a normal open refuses on, or a line that lost or moved something.</summary>
    public bool Repaired => Recovery.Damage.Count > 0
        || Recovery.Repaired.Any(l => l.StartsWith("lost", StringComparison.Ordinal) || l.StartsWith("moved aside", StringComparison.Ordinal));
}

/// <summary>What a collection's data directory holds and costs (papervec stats), and whether its index matches its store.</summary>
public sealed record StorageStats(string Root, DatabaseStats Stats, RecoveryReport Recovery, bool IndexMatchesStore, string IndexProblem);

/// <summary>
/// The engine's maintenance entry points (papervec verify and repair): tools name a data directory
/// and get a report; they never open the database themselves.
/// </summary>
public static class DataDirectoryMaintenance
{
    /// <summary>Reads and checks everything in the data directory, changing nothing on disk (not even its lock file).</summary>
    public static async Task<VerifyResult> VerifyAsync(string? path)
    {
        await using var database = await PaperDatabase.OpenAsync(path, new PaperDatabaseOptions { Mode = OpenMode.Verify }).ConfigureAwait(false);
        return new VerifyResult(database.Root, database.Verify());
    }

    /// <summary>
    /// Opens a data directory a normal open refuses, keeping every intact record and log entry and moving
    /// what is damaged aside (<see cref="OpenMode.AcceptLoss"/>), then closes it with a checkpoint.
    /// </summary>
    public static async Task<RepairResult> RepairAsync(string? path, Action<string>? log = null)
    {
        await using var database = await PaperDatabase.OpenAsync(path, new PaperDatabaseOptions { Mode = OpenMode.AcceptLoss, Log = log }).ConfigureAwait(false);
        return new RepairResult(database.Root, database.Recovery, database.PaperCount);
    }
}
