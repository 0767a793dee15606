namespace PaperVec.Storage;

/// <summary>
/// Where a checkpoint dies on purpose in crash tests ("after-store-checkpoint",
/// "during-index-snapshot"). Internal: only the test project and the test-only host
/// (tests/PaperVec.CrashHost, which arms it and then runs the real command line) can set it;
/// nothing in the shipped command line or server does.
/// </summary>
internal static class CrashPoints
{
    internal static string? Armed;
}

/// <summary>
/// Test-only seams of the real command line, set only by the test-only host (tests/PaperVec.CrashHost):
/// <see cref="DeviceFactory"/> makes the FASTER devices of every database opened without one of its
/// own (a device that fails on demand, for the I/O-error tests of a real server).
/// </summary>
internal static class TestHooks
{
    internal static Func<string, FASTER.core.IDevice>? DeviceFactory;
}
