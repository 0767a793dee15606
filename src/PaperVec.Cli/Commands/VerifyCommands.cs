using System.CommandLine;
using PaperVec.Engine;
using PaperVec.Cli.Common;
using PaperVec.Cli.Common.Remote;

namespace PaperVec.Cli.Commands;

/// <summary>
/// `papervec verify`: reads and checks everything in the data directory without changing it.
/// `papervec repair`: opens a directory a normal open refuses (damaged log entries, a cut or missing
/// log segment, a missing commit record, a damaged or missing checkpoint.json, damaged store log bytes
/// or records, a missing store checkpoint file or log segment) by keeping every intact stored record
/// and every intact log entry (also those after damage), and moving what is damaged aside (never deleting it); it prints what it kept, lost and moved. The one way to
/// accept that loss, since a normal open refuses such a directory.
/// </summary>
static class VerifyCommands
{
    public static Command CreateVerify()
    {
        var data = DataOptions.Data();
        var command = new Command("verify", "Read and check everything in the data directory (files, log checksums, index == store, ids); changes nothing") { data };
        command.SetAction(async parse =>
        {
            VerifyResult verified;
            try { verified = await DataDirectoryMaintenance.VerifyAsync(DataOptions.Existing(parse.GetValue(data))); }
            catch (PaperVec.Storage.DataDirectoryInUseException e) { throw ServerTarget.NeedsDirectory(parse.GetValue(data), e, "verify"); }
            var (root, report) = verified;
            foreach (var line in report.Checked) Console.WriteLine($"ok       {line}");
            foreach (var line in report.Problems) Console.WriteLine($"damaged  {line}");
            if (report.Sound) { Console.WriteLine($"{root}: sound"); return 0; }
            throw new CliException($"{root}: {report.Problems.Count} problem(s); first: {report.Problems[0]}");
        });
        return command;
    }

    public static Command CreateRepair()
    {
        var data = DataOptions.Data();
        var command = new Command("repair", "Open a data directory serve refuses (damaged or missing log entries, segments, commit record, checkpoint.json, store records or store files): keep every intact entry and record, move what is damaged aside, say exactly what") { data };
        command.SetAction(async parse =>
        {
            RepairResult result;
            try { result = await DataDirectoryMaintenance.RepairAsync(DataOptions.Existing(parse.GetValue(data)), message => Console.Error.WriteLine($"papervec: {message}")); }
            catch (PaperVec.Storage.DataDirectoryInUseException e) { throw ServerTarget.NeedsDirectory(parse.GetValue(data), e, "repair"); }
            foreach (var line in result.Recovery.Repaired) Console.WriteLine(line);
            Console.WriteLine(!result.Repaired
                ? $"{result.Root}: nothing to repair; {result.Papers} papers"
                : $"{result.Root}: repaired; {result.Papers} papers ({result.Recovery.Damage.Count} problem(s) a normal open refuses on, on stderr)");
            return 0;
        });
        return command;
    }
}
