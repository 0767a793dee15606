// Usage: PaperVec.CrashHost POINT PAPERVEC-ARGS...: arms the crash point, then runs `papervec PAPERVEC-ARGS...`.
// POINT "fail-device-when:PATH" instead makes every FASTER device fail its writes with an I/O error while PATH exists (IoErrorTests).
const string FailDevice = "fail-device-when:";
if (args.Length > 0 && args[0].StartsWith(FailDevice, StringComparison.Ordinal))
    PaperVec.Storage.TestHooks.DeviceFactory = new PaperVec.CrashHost.FailingDevice.Switch(args[0][FailDevice.Length..]).Factory;
else
    PaperVec.Storage.CrashPoints.Armed = args.Length > 0 && args[0] != "none" ? args[0] : null;
return await PaperVec.Cli.Program.Main(args.Length > 0 ? args[1..] : []);
