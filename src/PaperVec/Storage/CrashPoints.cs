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
