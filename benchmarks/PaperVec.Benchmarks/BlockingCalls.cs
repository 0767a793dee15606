using PaperVec.Storage;

namespace PaperVec.Benchmarks;

/// <summary>
/// Blocking forms of the engine's async writes, for BenchmarkDotNet methods that time one write at a
/// time on their own thread (the same calls as the test project's BlockingCalls). The engine, the
/// server and the command line only use the async forms.
/// </summary>
static class BlockingCalls
{
    public static void Commit(this PaperDatabase database, WriteBatch batch) => database.CommitAsync(batch).AsTask().GetAwaiter().GetResult();

    public static void Checkpoint(this PaperDatabase database) => database.CheckpointAsync().GetAwaiter().GetResult();
}
