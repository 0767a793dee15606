using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace PaperVec.Index;

/// <summary>
/// File format, little-endian: a 72-byte header (magic "PVECHNSW", format version, dimension, M,
/// efConstruction, default efSearch, slot/live/deleted/free counts, entry point, seed, level
/// draws), then external ids, levels, states, the level-0 block, each linked node's upper lists,
/// the vector rows, the free slots, and a trailing 64-bit checksum of everything before it.
/// </summary>
public sealed unsafe partial class HnswIndex
{
    const ulong FileMagic = 0x57534E4843455650; // "PVECHNSW" read as little-endian
    const int FileFormatVersion = 1;
    const int HeaderBytes = 72;
    const int ChunkBytes = 1 << 30;

    /// <summary>Writes the index to <paramref name="path"/> atomically (temp file, flush, rename). Searches keep running.</summary>
    public void Save(string path)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        _mutationGate.EnterWriteLock();
        _resizeGate.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                var checksum = new Checksum64();
                int slots = _slotCount;
                int[] free;
                lock (_idLock) free = _freeSlots.ToArray();

                Span<byte> header = stackalloc byte[HeaderBytes];
                header.Clear();
                BinaryPrimitives.WriteUInt64LittleEndian(header, FileMagic);
                BinaryPrimitives.WriteInt32LittleEndian(header[8..], FileFormatVersion);
                BinaryPrimitives.WriteInt32LittleEndian(header[12..], _dimension);
                BinaryPrimitives.WriteInt32LittleEndian(header[16..], _m);
                BinaryPrimitives.WriteInt32LittleEndian(header[20..], _efConstruction);
                BinaryPrimitives.WriteInt32LittleEndian(header[24..], Options.DefaultEfSearch);
                BinaryPrimitives.WriteInt32LittleEndian(header[28..], slots);
                BinaryPrimitives.WriteInt32LittleEndian(header[32..], _liveCount);
                BinaryPrimitives.WriteInt32LittleEndian(header[36..], _deletedCount);
                BinaryPrimitives.WriteInt32LittleEndian(header[40..], free.Length);
                BinaryPrimitives.WriteInt64LittleEndian(header[48..], _entry);
                BinaryPrimitives.WriteUInt64LittleEndian(header[56..], _seed);
                BinaryPrimitives.WriteInt64LittleEndian(header[64..], _levelDraws);
                WriteSection(stream, header, checksum);

                WriteSection(stream, MemoryMarshal.AsBytes(_externalIds.AsSpan(0, slots)), checksum);
                // A freed slot's upper lists are not written, so its level is written as 0.
                var levels = _levels.AsSpan(0, slots).ToArray();
                for (int s = 0; s < slots; s++) if (_states[s] == StateFree) levels[s] = 0;
                WriteSection(stream, levels, checksum);
                WriteSection(stream, _states.AsSpan(0, slots), checksum);
                WriteNative(stream, (byte*)_level0, (long)slots * _level0Stride * sizeof(int), checksum);
                for (int s = 0; s < slots; s++)
                    if (levels[s] > 0) WriteSection(stream, MemoryMarshal.AsBytes(_upper[s].AsSpan()), checksum);
                WriteNative(stream, (byte*)_vectors.BasePointer, (long)slots * _vectors.Stride * sizeof(float), checksum);
                WriteSection(stream, MemoryMarshal.AsBytes(free.AsSpan()), checksum);

                Span<byte> trailer = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(trailer, checksum.Value);
                stream.Write(trailer);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
        finally
        {
            _resizeGate.ExitReadLock();
            _mutationGate.ExitWriteLock();
        }
    }

    /// <summary>
    /// Reads an index written by <see cref="Save"/> with bulk reads straight into its arrays. A
    /// truncated, corrupted or foreign file throws <see cref="InvalidDataException"/>; the graph is
    /// validated after the checksum, so even a file with a forged checksum cannot make searches
    /// index out of range.
    /// </summary>
    public static HnswIndex Load(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        long fileLength = stream.Length;
        var checksum = new Checksum64();
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (fileLength < HeaderBytes + 8) throw Corrupt(path, $"is {fileLength} bytes, shorter than a header");
        ReadSection(stream, header, checksum, path);
        if (BinaryPrimitives.ReadUInt64LittleEndian(header) != FileMagic) throw Corrupt(path, "is not a PaperVec HNSW file (bad magic)");
        int version = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        if (version != FileFormatVersion) throw Corrupt(path, $"has format version {version}; this build reads {FileFormatVersion}");
        int dimension = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
        int m = BinaryPrimitives.ReadInt32LittleEndian(header[16..]);
        int efConstruction = BinaryPrimitives.ReadInt32LittleEndian(header[20..]);
        int efSearch = BinaryPrimitives.ReadInt32LittleEndian(header[24..]);
        int slots = BinaryPrimitives.ReadInt32LittleEndian(header[28..]);
        int live = BinaryPrimitives.ReadInt32LittleEndian(header[32..]);
        int deleted = BinaryPrimitives.ReadInt32LittleEndian(header[36..]);
        int freeCount = BinaryPrimitives.ReadInt32LittleEndian(header[40..]);
        long entry = BinaryPrimitives.ReadInt64LittleEndian(header[48..]);
        ulong seed = BinaryPrimitives.ReadUInt64LittleEndian(header[56..]);
        long levelDraws = BinaryPrimitives.ReadInt64LittleEndian(header[64..]);
        if (dimension <= 0 || dimension > 1 << 16 || m < 2 || m > 256 || efConstruction < 1 || efSearch < 1
            || slots < 0 || live < 0 || deleted < 0 || freeCount < 0 || (long)live + deleted + freeCount != slots)
            throw Corrupt(path, "has an impossible header");

        int stride = (dimension + 15) & ~15;
        long perSlot = sizeof(long) + 2 + (long)(1 + 2 * m) * sizeof(int) + (long)stride * sizeof(float);
        long fixedBytes = HeaderBytes + slots * perSlot + (long)freeCount * sizeof(int) + 8;
        if (fileLength < fixedBytes) throw Corrupt(path, $"is truncated ({fileLength} bytes, at least {fixedBytes} expected)");

        var options = new HnswOptions { M = m, EfConstruction = efConstruction, DefaultEfSearch = efSearch, Seed = seed, InitialCapacity = Math.Max(1, slots) };
        var index = new HnswIndex(dimension, options);
        try
        {
            index.ReadBody(stream, checksum, path, slots, freeCount, fileLength, fixedBytes);
            index._entry = entry;
            index._levelDraws = levelDraws;
            index._liveCount = live;
            index._deletedCount = deleted;
            string? problem = index.FindIntegrityProblem();
            if (problem != null) throw Corrupt(path, "holds an inconsistent graph: " + problem);
            return index;
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    void ReadBody(FileStream stream, Checksum64 checksum, string path, int slots, int freeCount, long fileLength, long fixedBytes)
    {
        _vectors.SetCount(slots);
        ReadSection(stream, MemoryMarshal.AsBytes(_externalIds.AsSpan(0, slots)), checksum, path);
        ReadSection(stream, _levels.AsSpan(0, slots), checksum, path);
        ReadSection(stream, _states.AsSpan(0, slots), checksum, path);
        long upperBytes = 0;
        for (int s = 0; s < slots; s++)
        {
            if (_levels[s] > MaxLevel) throw Corrupt(path, $"gives slot {s} level {_levels[s]}");
            upperBytes += (long)_levels[s] * _upperStride * sizeof(int);
        }
        if (fileLength != fixedBytes + upperBytes)
            throw Corrupt(path, $"is {fileLength} bytes but its counts call for {fixedBytes + upperBytes} (truncated or padded)");
        ReadNative(stream, (byte*)_level0, (long)slots * _level0Stride * sizeof(int), checksum, path);
        for (int s = 0; s < slots; s++)
        {
            if (_levels[s] == 0) continue;
            var lists = NewUpperLists(_levels[s]);
            ReadSection(stream, MemoryMarshal.AsBytes(lists.AsSpan()), checksum, path);
            _upper[s] = lists;
        }
        ReadNative(stream, (byte*)_vectors.BasePointer, (long)slots * _vectors.Stride * sizeof(float), checksum, path);
        var free = new int[freeCount];
        ReadSection(stream, MemoryMarshal.AsBytes(free.AsSpan()), checksum, path);
        Span<byte> trailer = stackalloc byte[8];
        stream.ReadExactly(trailer);
        if (BinaryPrimitives.ReadUInt64LittleEndian(trailer) != checksum.Value) throw Corrupt(path, "fails its checksum (corrupted)");

        _slotCount = slots;
        // Stack order: saved top first, so push in reverse.
        for (int i = free.Length - 1; i >= 0; i--)
        {
            if ((uint)free[i] >= (uint)slots) throw Corrupt(path, $"lists free slot {free[i]} outside the graph");
            _freeSlots.Push(free[i]);
        }
        for (int s = 0; s < slots; s++)
        {
            if (_states[s] != StateLive) continue;
            if (!_slotById.TryAdd(_externalIds[s], s)) throw Corrupt(path, $"holds id {_externalIds[s]} twice");
        }
    }

    static InvalidDataException Corrupt(string path, string what) => new($"HNSW index file '{path}' {what}.");

    static void WriteSection(Stream stream, ReadOnlySpan<byte> bytes, Checksum64 checksum)
    {
        checksum.Append(bytes);
        stream.Write(bytes);
    }

    static void WriteNative(Stream stream, byte* data, long length, Checksum64 checksum)
    {
        for (long offset = 0; offset < length; offset += ChunkBytes)
            WriteSection(stream, new ReadOnlySpan<byte>(data + offset, (int)Math.Min(ChunkBytes, length - offset)), checksum);
    }

    static void ReadSection(Stream stream, Span<byte> bytes, Checksum64 checksum, string path)
    {
        try { stream.ReadExactly(bytes); }
        catch (EndOfStreamException) { throw Corrupt(path, "is truncated"); }
        checksum.Append(bytes);
    }

    static void ReadNative(Stream stream, byte* data, long length, Checksum64 checksum, string path)
    {
        for (long offset = 0; offset < length; offset += ChunkBytes)
            ReadSection(stream, new Span<byte>(data + offset, (int)Math.Min(ChunkBytes, length - offset)), checksum, path);
    }
}

/// <summary>
/// A fast 64-bit checksum (xxHash-style rounds on four independent lanes, so it runs at several
/// bytes per cycle) over a sequence of spans; both sides must append the same span boundaries.
/// It detects corruption, it is not a cryptographic hash.
/// </summary>
sealed class Checksum64
{
    const ulong Prime1 = 0x9E3779B185EBCA87UL;
    const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;

    public ulong Value { get; private set; } = 0x27D4EB2F165667C5UL;

    public void Append(ReadOnlySpan<byte> data) => Value = Round(Value, Hash(data));

    static ulong Round(ulong accumulator, ulong input) =>
        ulong.RotateLeft(accumulator + input * Prime2, 31) * Prime1;

    static ulong Hash(ReadOnlySpan<byte> data)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        ulong h0 = unchecked(Prime1 + Prime2), h1 = Prime2, h2 = 0, h3 = unchecked(0 - Prime1);
        int i = 0;
        for (; i + 4 <= words.Length; i += 4)
        {
            h0 = Round(h0, words[i]);
            h1 = Round(h1, words[i + 1]);
            h2 = Round(h2, words[i + 2]);
            h3 = Round(h3, words[i + 3]);
        }
        for (; i < words.Length; i++) h0 = Round(h0, words[i]);
        for (int b = words.Length * 8; b < data.Length; b++) h1 = Round(h1, data[b]);
        ulong h = ulong.RotateLeft(h0, 1) + ulong.RotateLeft(h1, 7) + ulong.RotateLeft(h2, 12) + ulong.RotateLeft(h3, 18);
        h ^= (ulong)data.Length;
        h ^= h >> 33; h *= Prime2; h ^= h >> 29; h *= Prime1; h ^= h >> 32;
        return h;
    }
}
