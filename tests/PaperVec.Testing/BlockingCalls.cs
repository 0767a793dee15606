using PaperVec.Ingest;
using PaperVec.Storage;

namespace PaperVec.Tests;

/// <summary>
/// Blocking forms of the engine's async writes, for tests that run one operation at a time on their
/// own thread. The engine, the server and the command line only use the async forms: a blocked
/// thread-pool thread there is a stalled request.
/// </summary>
static class BlockingCalls
{
    public static void Commit(this PaperDatabase database, WriteBatch batch) => database.CommitAsync(batch).AsTask().GetAwaiter().GetResult();

    public static void Checkpoint(this PaperDatabase database) => database.CheckpointAsync().GetAwaiter().GetResult();

    public static long Compact(this PaperDatabase database) => database.CompactAsync().GetAwaiter().GetResult();

    public static IngestResult Ingest(this PaperIngestor ingestor, IReadOnlyList<IncomingPaper> incoming, PaperIngestor.DigestInfo? digest = null, DateOnly? defaultDate = null) =>
        ingestor.IngestAsync(incoming, digest, defaultDate).GetAwaiter().GetResult();
}
