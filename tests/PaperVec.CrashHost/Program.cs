// Usage: PaperVec.CrashHost POINT PAPERVEC-ARGS...: arms the crash point, then runs `papervec PAPERVEC-ARGS...`.
PaperVec.Storage.CrashPoints.Armed = args.Length > 0 && args[0] != "none" ? args[0] : null;
return await PaperVec.Cli.Program.Main(args.Length > 0 ? args[1..] : []);
