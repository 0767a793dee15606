using PaperVec.Storage;

// Usage: PaperVec.CrashHost POINT PAPERVEC-ARGS...: runs `papervec PAPERVEC-ARGS...` (ingest and serve take the hook)
// with its database opened through options that die at POINT:
//   after-store-checkpoint   the store's checkpoint is durable, nothing names it yet
//   during-index-snapshot    the index snapshot is half written (torn), nothing names it yet
//   fail-device-when:PATH    every FASTER device fails its writes with an I/O error while PATH exists (IoErrorTests)
//   none                     the plain command line
const string FailDevice = "fail-device-when:";
string point = args.Length > 0 ? args[0] : "none";
var storage = new PaperDatabaseOptions();
if (point.StartsWith(FailDevice, StringComparison.Ordinal))
    storage = storage with { DeviceFactory = new PaperVec.CrashHost.FailingDevice.Switch(point[FailDevice.Length..]).Factory };
else if (point == "after-store-checkpoint")
    storage = storage with { AtCheckpointStep = (step, _) => { if (step == CheckpointStep.StoreCheckpointed) Environment.FailFast($"papervec test hook: crash at {point}"); } };
else if (point == "during-index-snapshot")
    storage = storage with
    {
        AtCheckpointStep = (step, path) =>
        {
            if (step != CheckpointStep.IndexSnapshotWritten) return;
            // Dying halfway through writing the snapshot: a torn file that no manifest names yet.
            using (var torn = new FileStream(path, FileMode.Open)) torn.SetLength(torn.Length / 2);
            Environment.FailFast($"papervec test hook: crash at {point}");
        },
    };
else if (point != "none")
{
    Console.Error.WriteLine($"PaperVec.CrashHost: unknown crash point '{point}'");
    return 2;
}
return await PaperVec.Cli.Program.RunAsync(args.Length > 0 ? args[1..] : [], Console.Out, Console.Error, storage);
