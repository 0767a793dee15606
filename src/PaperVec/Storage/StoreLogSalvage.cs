using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace PaperVec.Storage;

/// <summary>
/// Reads FASTER's store log (store/hlog.log.N) directly, for papervec repair, without handing a
/// byte of it to FASTER (FASTER trusts the lengths in its log: damaged ones crashed the process).
/// FASTER 2.6.5's layout (cs/src/core/Index/Common/RecordInfo.cs, Allocator/VarLenBlittableAllocator.cs,
/// VarLen/SpanByte.cs), checked against a store written by the tests: a record starts 8-byte aligned
/// with its u64 RecordInfo (bits 0-47 the previous address in its hash chain, 55 tombstone, 56 valid,
/// 58 and 63 never set; lock, sealed and dirty bits may be set on disk), then the key as an i32 length
/// and its bytes, padded to 8, then the value as an i32 length and its bytes, the record padded to 8.
/// The top two bits of a length are SpanByte flags (never set on disk here). A record never crosses
/// a 4 MB page; the rest of a page, and an 8-byte word of zeros, is no record.
///
/// Pages whose chunk checksum in checkpoint.json verifies are walked record by record and trusted
/// (tombstones included). Elsewhere (a chunk that fails, no checksum to say) a record is kept only
/// when its value's frame checksum (<see cref="RecordStore"/>) verifies; past damaged bytes the
/// walk resynchronises at every 8-byte aligned offset. Every unreadable byte range, every record that
/// fails its checksum and every delete that could not be verified is reported.
/// </summary>
public static class StoreLogSalvage
{
    const long AddressMask = (1L << 48) - 1;
    const long TombstoneBit = 1L << 55, ValidBit = 1L << 56;
    // Unused bits (58, 63): FASTER never sets them. Lock, sealed and dirty bits can reach the disk (seen: dirty), so they say nothing.
    const long NeverSet = (1L << 58) | (1L << 63);
    const int LengthFlags = 3 << 30;
    const int MaxKeyBytes = 1 << 16;
    const int PageBytes = RecordStore.PageBytes;

    /// <summary>The newest version of a key found: its address and whether it is a delete.</summary>
    public readonly record struct Version(long Address, bool Tombstone, bool Verified);

    /// <summary>Bytes of a segment file that could not be read: [From, To) as offsets in <see cref="File"/>.</summary>
    public readonly record struct Gap(string File, long From, long To, string Why);

    /// <summary>A record whose checksum fails, with its key as it reads (it may be the key that is damaged).</summary>
    public readonly record struct Damaged(byte[] Key, long Address, string Why);

    public sealed class Result
    {
        public readonly Dictionary<string, (byte[] Key, Version Version)> Newest = new(StringComparer.Ordinal);
        public readonly List<Gap> Gaps = [];
        public readonly List<Damaged> DamagedRecords = [];
        /// <summary>Deletes read where no checksum covers them (a tombstone has no value to check): applied, and reported.</summary>
        public readonly List<(byte[] Key, long Address)> UnverifiedDeletes = [];
        public int PagesVerified, PagesUnverified;
        public bool Clean => Gaps.Count == 0 && DamagedRecords.Count == 0;
        public IEnumerable<(byte[] Key, long Address)> Kept =>
            Newest.Values.Where(v => !v.Version.Tombstone).Select(v => (v.Key, v.Version.Address)).OrderBy(v => v.Address);
    }

    /// <summary>The segment file holding <paramref name="address"/>, and the offset in it.</summary>
    public static (string File, long Offset) Locate(string storeDirectory, long address) =>
        (Path.Combine(storeDirectory, $"hlog.log.{address / RecordStore.SegmentBytes}"), address % RecordStore.SegmentBytes);

    /// <summary>
    /// Every record in log addresses [<paramref name="begin"/>, <paramref name="tail"/>) of the store
    /// in <paramref name="storeDirectory"/>; the newest version of each key wins (by address).
    /// </summary>
    public static Result Scan(string storeDirectory, long begin, long tail, IReadOnlyList<CheckpointManifest.LogChunk> chunks, bool requireFrames)
    {
        var result = new Result();
        byte[] page = new byte[PageBytes];
        for (long pageAddress = begin / PageBytes * PageBytes; pageAddress < tail; pageAddress += PageBytes)
        {
            long from = Math.Max(begin, pageAddress), to = Math.Min(tail, pageAddress + PageBytes);
            var (file, offset) = Locate(storeDirectory, pageAddress);
            int read = ReadPage(file, offset, page, (int)(to - pageAddress));
            if (read < 0)
            {
                // One gap for the whole missing segment.
                long segmentEnd = Math.Min(tail, (pageAddress / RecordStore.SegmentBytes + 1) * RecordStore.SegmentBytes);
                result.Gaps.Add(new Gap(file, from % RecordStore.SegmentBytes, (segmentEnd - 1) % RecordStore.SegmentBytes + 1, "the file is missing"));
                pageAddress = segmentEnd - PageBytes;
                continue;
            }
            if (read < to - pageAddress)
            {
                result.Gaps.Add(new Gap(file, Math.Max(from - pageAddress, read) + offset, to - pageAddress + offset, $"the file ends at {offset + read} bytes: it was cut"));
                to = pageAddress + Math.Max(read, from - pageAddress);
            }
            // The part of this page a chunk checksum verifies (chunks end on page boundaries, the last on a sector).
            long verifiedFrom = 0, verifiedTo = 0;
            foreach (var chunk in chunks)
                if (chunk.Start >= from && chunk.Start < pageAddress + PageBytes && chunk.End <= to
                    && XxHash3.HashToUInt64(page.AsSpan((int)(chunk.Start - pageAddress), (int)(chunk.End - chunk.Start))) == chunk.Hash)
                    (verifiedFrom, verifiedTo) = (chunk.Start, chunk.End);
            if (verifiedTo > verifiedFrom) result.PagesVerified++;
            else result.PagesUnverified++;
            WalkPage(page.AsSpan(0, (int)(to - pageAddress)), pageAddress, from, verifiedFrom, verifiedTo, requireFrames, file, offset, result);
        }
        return result;
    }

    /// <summary>Reads up to <paramref name="count"/> bytes at <paramref name="offset"/>; -1 when the file is missing.</summary>
    static int ReadPage(string file, long offset, byte[] page, int count)
    {
        if (!File.Exists(file)) return -1;
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        if (stream.Length <= offset) return 0;
        stream.Position = offset;
        int total = 0;
        while (total < count)
        {
            int n = stream.Read(page, total, count - total);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>A record's parts as offsets in its page, every length bounds-checked against the page.</summary>
    readonly record struct Parsed(long Info, int KeyAt, int KeyLength, int ValueAt, int ValueLength, int Size)
    {
        public bool Valid => (Info & ValidBit) != 0;
        public bool Tombstone => (Info & TombstoneBit) != 0;
    }

    static bool TryParse(ReadOnlySpan<byte> page, int at, long address, out Parsed record)
    {
        record = default;
        if (at + 16 > page.Length) return false;
        long info = BinaryPrimitives.ReadInt64LittleEndian(page[at..]);
        if ((info & NeverSet) != 0 || (info & AddressMask) >= address) return false; // a chain points back, never forward
        int keyLength = BinaryPrimitives.ReadInt32LittleEndian(page[(at + 8)..]);
        if ((keyLength & LengthFlags) != 0 || keyLength <= 0 || keyLength > MaxKeyBytes) return false;
        long valueAt = at + 8L + Align(4 + keyLength);
        if (valueAt + 4 > page.Length) return false;
        int valueLength = BinaryPrimitives.ReadInt32LittleEndian(page[(int)valueAt..]);
        if ((valueLength & LengthFlags) != 0 || valueLength < 0) return false;
        long size = Align(valueAt + 4 + valueLength - at);
        if (at + size > page.Length) return false;
        record = new Parsed(info, at + 12, keyLength, (int)valueAt + 4, valueLength, (int)size);
        return true;
    }

    static long Align(long n) => (n + 7) & ~7L;

    /// <summary>Whether <paramref name="stored"/> is a framed value whose checksum verifies with <paramref name="key"/>.</summary>
    public static bool FrameVerifies(ReadOnlySpan<byte> key, ReadOnlySpan<byte> stored) =>
        stored.Length >= RecordStore.FrameBytes && stored[0] == RecordStore.FrameMarker
        && BinaryPrimitives.ReadUInt64LittleEndian(stored[1..]) == RecordStore.RecordChecksum(key, stored[RecordStore.FrameBytes..]);

    /// <summary>A key PaperVec writes: a known prefix, and 8 bytes after it where the key is a paper's.</summary>
    static bool PlausibleKey(ReadOnlySpan<byte> key) => key[0] switch
    {
        PaperDatabase.PaperPrefix or PaperDatabase.TitleAliasPrefix => key.Length == 9,
        PaperDatabase.AliasPrefix or PaperDatabase.DigestPrefix or PaperDatabase.LibraryPrefix or PaperDatabase.MetaPrefix => key.Length > 1,
        _ => false,
    };

    static void WalkPage(ReadOnlySpan<byte> page, long pageAddress, long from, long verifiedFrom, long verifiedTo, bool requireFrames,
        string file, long fileOffset, Result result)
    {
        int at = (int)(from - pageAddress);
        int? damagedFrom = null; // resynchronising since this offset
        void CloseGap(int to)
        {
            if (damagedFrom is int f && to > f) result.Gaps.Add(new Gap(file, fileOffset + f, fileOffset + to, "damaged bytes"));
            damagedFrom = null;
        }
        while (at + 8 <= page.Length)
        {
            long address = pageAddress + at;
            if (BinaryPrimitives.ReadInt64LittleEndian(page[at..]) == 0)
            {
                // Zeros: the free end of a page or space a shrunk value left; after damage, the rest of the page being zeros ends it.
                if (damagedFrom != null && !page[at..].ContainsAnyExcept((byte)0)) { CloseGap(at); break; }
                at += 8;
                continue;
            }
            if (!TryParse(page, at, address, out var record) || (damagedFrom != null && (!record.Valid || !PlausibleKey(page.Slice(record.KeyAt, record.KeyLength)))))
            {
                damagedFrom ??= at;
                at += 8;
                continue;
            }
            bool verified = address >= verifiedFrom && address + record.Size <= verifiedTo;
            if (!record.Valid)
            {
                at += record.Size; // allocated but never completed (a lost race): FASTER skips it too
                continue;
            }
            var key = page.Slice(record.KeyAt, record.KeyLength);
            var value = page.Slice(record.ValueAt, record.ValueLength);
            if (record.Tombstone)
            {
                CloseGap(at);
                if (!verified) result.UnverifiedDeletes.Add((key.ToArray(), address));
                Keep(result, key, new Version(address, true, verified));
                at += record.Size;
                continue;
            }
            if (FrameVerifies(key, value) || (verified && !requireFrames && !(value.Length >= RecordStore.FrameBytes && value[0] == RecordStore.FrameMarker)))
            {
                CloseGap(at);
                Keep(result, key, new Version(address, false, true));
                at += record.Size;
                continue;
            }
            // Fails its checksum: named when found by walking (its key as it reads); a candidate while resynchronising is noise.
            if (damagedFrom == null)
            {
                result.DamagedRecords.Add(new Damaged(key.ToArray(), address,
                    value.Length >= RecordStore.FrameBytes && value[0] == RecordStore.FrameMarker ? "its checksum does not match its key and value" : "it carries no checksum (its frame is damaged)"));
                damagedFrom = at;
            }
            at += 8;
        }
        CloseGap(page.Length);
    }

    static void Keep(Result result, ReadOnlySpan<byte> key, Version version)
    {
        string id = Convert.ToBase64String(key);
        if (!result.Newest.TryGetValue(id, out var current) || current.Version.Address < version.Address)
            result.Newest[id] = (key.ToArray(), version);
    }

    /// <summary>Reads each kept record again (its checksum verified again) and hands out its key and unframed value, in log order.</summary>
    public static void ForEachKept(string storeDirectory, Result result, bool requireFrames, Action<byte[], ReadOnlySpan<byte>> action)
    {
        byte[] page = new byte[PageBytes];
        long loaded = -1;
        int length = 0;
        foreach (var (key, address) in result.Kept)
        {
            long pageAddress = address / PageBytes * PageBytes;
            if (pageAddress != loaded)
            {
                var (file, offset) = Locate(storeDirectory, pageAddress);
                length = Math.Max(0, ReadPage(file, offset, page, PageBytes));
                loaded = pageAddress;
            }
            if (!TryParse(page.AsSpan(0, length), (int)(address - pageAddress), address, out var record) || !page.AsSpan(record.KeyAt, record.KeyLength).SequenceEqual(key))
                throw new IOException($"{Locate(storeDirectory, address).File} changed while papervec repair read it (offset {address % RecordStore.SegmentBytes})");
            var value = page.AsSpan(record.ValueAt, record.ValueLength);
            if (FrameVerifies(key, value)) action(key, value[RecordStore.FrameBytes..]);
            else if (!requireFrames) action(key, value);
            else throw new IOException($"{Locate(storeDirectory, address).File} changed while papervec repair read it (offset {address % RecordStore.SegmentBytes})");
        }
    }

    /// <summary>
    /// The begin and final log addresses a store checkpoint recorded (FASTER's info.dat: an i32
    /// length, then text lines: version, checksum, token, ..., line 10 the final address, 13 the
    /// begin address), or null when the file is missing or does not read as that.
    /// </summary>
    public static (long Begin, long Final)? CheckpointAddresses(string storeDirectory, Guid token)
    {
        string path = Path.Combine(storeDirectory, "checkpoints", "cpr-checkpoints", token.ToString(), "info.dat.0");
        try
        {
            if (!File.Exists(path) || new FileInfo(path).Length > 1 << 20) return null;
            byte[] bytes = File.ReadAllBytes(path);
            if (bytes.Length < 4) return null;
            int length = BinaryPrimitives.ReadInt32LittleEndian(bytes);
            if (length <= 0 || length > bytes.Length - 4) return null;
            var lines = Encoding.UTF8.GetString(bytes, 4, length).Split('\n').Select(l => l.Trim()).ToArray();
            if (lines.Length < 13 || lines[0] != "5" || !Guid.TryParse(lines[2], out var named) || named != token) return null;
            if (!long.TryParse(lines[9], out long final) || !long.TryParse(lines[12], out long begin)) return null;
            return begin >= 0 && final >= begin ? (begin, final) : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
