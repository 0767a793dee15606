using System.Buffers.Binary;
using System.IO.Hashing;

namespace PaperVec.Storage;

/// <summary>
/// Reads a write-ahead log's segment files directly, for papervec repair: no commit record, no
/// FasterLog and no whole file needed. Walks FasterLog's framing (u64 FASTER checksum, i32 length,
/// payload padded to 4 bytes; entries never cross a page) and trusts an entry only when PaperVec's
/// own checksum over its sequence number and batch verifies. Past damaged bytes it resynchronises
/// on the next 4-byte-aligned position where a whole entry verifies, so intact entries after the
/// damage are kept; every skipped byte range is reported. Opens files read-only.
/// </summary>
public static class WalSalvage
{
    const int FasterHeaderBytes = 12;
    const long PageBytes = 1L << 25; // WriteAheadLog's FasterLog page size
    /// <summary>FasterLog's first page starts after 64 reserved bytes.</summary>
    public const long FirstAddress = 64;

    /// <summary>An intact entry: its sequence number, batch bytes, address and the address after it.</summary>
    public readonly record struct Entry(long Sequence, byte[] Payload, long Address, long NextAddress);

    /// <summary>Bytes skipped as unreadable: [From, To) in log addresses, and why.</summary>
    public readonly record struct Gap(long From, long To, string Why);

    /// <summary>The address where the lowest segment file present starts (where a scan without a commit record begins), or null when there is none.</summary>
    public static long? FirstSegmentAddress(string walDirectory)
    {
        var numbers = Segments(walDirectory);
        return numbers.Count == 0 ? null : Math.Max(FirstAddress, numbers.Min() * WriteAheadLog.SegmentBytes);
    }

    /// <summary>The address just past the highest segment file's last byte (where a scan without a commit record ends).</summary>
    public static long EndOfFiles(string walDirectory)
    {
        var numbers = Segments(walDirectory);
        if (numbers.Count == 0) return 0;
        long last = numbers.Max();
        return last * WriteAheadLog.SegmentBytes + new FileInfo(WriteAheadLog.SegmentFile(walDirectory, last * WriteAheadLog.SegmentBytes)).Length;
    }

    static List<long> Segments(string walDirectory) => !Directory.Exists(walDirectory) ? [] :
        Directory.GetFiles(walDirectory, "wal.log.*").Select(f => long.TryParse(Path.GetExtension(f).TrimStart('.'), out long n) ? n : -1).Where(n => n >= 0).ToList();

    /// <summary>
    /// Every intact entry in [<paramref name="from"/>, <paramref name="until"/>) in address order;
    /// unreadable ranges (damaged bytes, a missing or cut segment) go to <paramref name="gaps"/>.
    /// An entry found by resynchronising must carry a sequence number above the last one read: a
    /// lower one is stale bytes, not the log's next entry.
    /// </summary>
    public static IEnumerable<Entry> Scan(string walDirectory, long from, long until, List<Gap> gaps)
    {
        long segmentBytes = WriteAheadLog.SegmentBytes;
        long? lastSequence = null;
        for (long segment = from / segmentBytes; segment * segmentBytes < until; segment++)
        {
            long start = segment * segmentBytes, end = Math.Min(until, start + segmentBytes);
            long at = Math.Max(from, start);
            string file = WriteAheadLog.SegmentFile(walDirectory, start);
            if (!File.Exists(file))
            {
                gaps.Add(new Gap(at, end, $"segment {file} is missing"));
                continue;
            }
            byte[] bytes = File.ReadAllBytes(file); // at most one 64 MB segment in memory
            long present = start + bytes.Length;
            long? damagedFrom = null;
            while (at < end)
            {
                if (at >= present)
                {
                    Close(ref damagedFrom, at, gaps, "damaged bytes");
                    gaps.Add(new Gap(at, end, $"segment {file} ends at {bytes.Length} bytes: it was cut"));
                    break;
                }
                if (TryEntry(bytes, start, at, end, damagedFrom != null ? lastSequence : null, out var entry))
                {
                    Close(ref damagedFrom, at, gaps, "damaged bytes");
                    lastSequence = entry.Sequence;
                    yield return entry;
                    at = entry.NextAddress;
                    continue;
                }
                long pageEnd = (at / PageBytes + 1) * PageBytes;
                if (damagedFrom == null && BinaryPrimitives.ReadInt32LittleEndian(Bytes(bytes, start, at + 8, 4)) == 0 && AllZero(bytes, start, at, Math.Min(pageEnd, present)))
                {
                    at = pageEnd; // the zeros FasterLog leaves at the end of a page an entry did not fit in
                    continue;
                }
                damagedFrom ??= at;
                at += 4;
            }
            Close(ref damagedFrom, Math.Min(end, present), gaps, "damaged bytes");
        }
    }

    static void Close(ref long? damagedFrom, long to, List<Gap> gaps, string why)
    {
        if (damagedFrom is long f && to > f) gaps.Add(new Gap(f, to, why));
        damagedFrom = null;
    }

    static ReadOnlySpan<byte> Bytes(byte[] bytes, long start, long address, int count)
    {
        long offset = address - start;
        return offset + count <= bytes.Length ? bytes.AsSpan((int)offset, count) : new byte[count];
    }

    static bool AllZero(byte[] bytes, long start, long from, long to) =>
        from >= to || !bytes.AsSpan((int)(from - start), (int)(to - from)).ContainsAnyExcept((byte)0);

    /// <summary>Whether a whole entry that verifies starts at <paramref name="at"/>.</summary>
    static bool TryEntry(byte[] bytes, long start, long at, long end, long? after, out Entry entry)
    {
        entry = default;
        long offset = at - start;
        if (offset + FasterHeaderBytes + WriteAheadLog.HeaderBytes > bytes.Length) return false;
        int length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan((int)offset + 8));
        long pageEnd = (at / PageBytes + 1) * PageBytes;
        long next = at + FasterHeaderBytes + ((length + 3L) & ~3L);
        if (length < WriteAheadLog.HeaderBytes || length > WriteAheadLog.MaxEntryBytes + WriteAheadLog.HeaderBytes
            || at + FasterHeaderBytes + length > pageEnd || at + FasterHeaderBytes + length > end || offset + FasterHeaderBytes + length > bytes.Length)
            return false;
        var body = bytes.AsSpan((int)offset + FasterHeaderBytes, length);
        long sequence = BinaryPrimitives.ReadInt64LittleEndian(body);
        if (sequence < 0 || (after is long last && sequence <= last)) return false;
        var hash = new XxHash3();
        hash.Append(body[..8]);
        hash.Append(body[WriteAheadLog.HeaderBytes..]);
        if (hash.GetCurrentHashAsUInt64() != BinaryPrimitives.ReadUInt64LittleEndian(body[8..])) return false;
        entry = new Entry(sequence, body[WriteAheadLog.HeaderBytes..].ToArray(), at, Math.Min(next, pageEnd));
        return true;
    }
}
