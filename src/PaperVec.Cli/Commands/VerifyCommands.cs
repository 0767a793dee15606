using System.CommandLine;
using PaperVec.Storage;

namespace PaperVec.Cli.Commands;

/// <summary>
/// `papervec verify`: reads and checks everything in the data directory without changing it.
/// `papervec repair`: opens a directory whose write-ahead log is damaged by keeping every entry
/// before the damage and moving the damaged log aside (never deleting it); the one way to accept
/// that loss, since a normal open refuses such a directory.
/// </summary>
static class VerifyCommands
{
    public static Command CreateVerify()
    {
        var data = DataOptions.Data();
        var command = new Command("verify", "Read and check everything in the data directory (files, log checksums, index == store, ids); changes nothing") { data };
        command.SetAction(parse =>
        {
            using var db = PaperDatabase.Open(DataOptions.Existing(parse.GetValue(data)), new PaperDatabaseOptions { Mode = OpenMode.Verify });
            var report = db.Verify();
            foreach (var line in report.Checked) Console.WriteLine($"ok       {line}");
            foreach (var line in report.Problems) Console.WriteLine($"damaged  {line}");
            if (report.Sound) { Console.WriteLine($"{db.Root}: sound"); return 0; }
            throw new CliException($"{db.Root}: {report.Problems.Count} problem(s); first: {report.Problems[0]}");
        });
        return command;
    }

    public static Command CreateRepair()
    {
        var data = DataOptions.Data();
        var command = new Command("repair", "Open a data directory whose write-ahead log is damaged: keep what is readable, move the damaged log aside") { data };
        command.SetAction(parse =>
        {
            using var db = PaperDatabase.Open(DataOptions.Existing(parse.GetValue(data)), new PaperDatabaseOptions
            {
                Mode = OpenMode.AcceptLoss,
                Log = message => Console.Error.WriteLine($"papervec: {message}"),
            });
            Console.WriteLine(db.Recovery.Damage.Count == 0
                ? $"{db.Root}: nothing to repair; {db.PaperCount} papers"
                : $"{db.Root}: kept {db.PaperCount} papers ({db.Recovery.ReplayedBatches} log entries replayed before the damage)");
            return 0;
        });
        return command;
    }
}
