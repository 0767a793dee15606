using System.IO.Hashing;
using PaperVec.Storage;

namespace PaperVec.Tests.Storage;

/// <summary>
/// The store log's chunk checksums in checkpoint.json, checked before FASTER reads the log: a data
/// directory whose store log reached its second 64 MB segment was refused at open as "the manifest
/// is damaged", because the last chunk of the first segment ends exactly on the boundary.
/// </summary>
public class StoreLogChunkTests
{
    [Fact]
    public void AChunkEndingOnASegmentBoundaryIsWithinItsSegment()
    {
        string dir = Directory.CreateTempSubdirectory("papervec-chunks-").FullName;
        try
        {
            // A sparse first segment: reading it gives zeros, as hashed below.
            using (var segment = new FileStream(Path.Combine(dir, "hlog.log.0"), FileMode.CreateNew)) segment.SetLength(RecordStore.SegmentBytes);
            long start = RecordStore.SegmentBytes - RecordStore.LogChunkBytes;
            var last = new CheckpointManifest.LogChunk(start, RecordStore.SegmentBytes, XxHash3.HashToUInt64(new byte[RecordStore.LogChunkBytes]));
            Assert.Null(RecordStore.CheckLogChunks(dir, [last]));

            // Chunks that do not lie in one segment are still refused, by name.
            Assert.Contains("not within one segment", RecordStore.CheckLogChunks(dir, [last with { End = RecordStore.SegmentBytes + 8 }]));
            Assert.Contains("not within one segment", RecordStore.CheckLogChunks(dir, [last with { Start = RecordStore.SegmentBytes - 8, End = RecordStore.SegmentBytes + 8 }]));
            Assert.Contains("not within one segment", RecordStore.CheckLogChunks(dir, [last with { End = start }]));
            // A wrong checksum on the boundary chunk names the file.
            Assert.Contains("hlog.log.0 is damaged", RecordStore.CheckLogChunks(dir, [last with { Hash = last.Hash ^ 1 }]));
        }
        finally { Directory.Delete(dir, true); }
    }
}
