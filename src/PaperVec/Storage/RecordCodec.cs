using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace PaperVec.Storage;

/// <summary>
/// PaperVec's own compact binary layout for stored values (little-endian):
///   byte kind ('P' paper, 'D' digest, 'L' reader's library), byte version, then the fields in a fixed order; strings are
///   a u32 byte count + UTF-8, optional strings use count 0xFFFFFFFF for null, the vector is a u16
///   dimension + floats. A record from a newer layout version is rejected with a clear error rather
///   than misread. No reflection: the hot path is spans in, spans out.
/// Version 2 appended fields at the end (a paper's previous versions, a digest's listing hashes), so
/// fixed-offset readers are unchanged and version-1 records read with those fields empty.
/// Version 3 appended a digest's stored-copy keys (one i64 per listing, 0 for none) after its listing
/// hashes; papers are unchanged from version 2. Version-2 digests read with no stored copies.
/// Version 4 writes a paper's digest count as an i32 (a u16 before: a paper listed in more than
/// 65,535 digests would have corrupted its record); digests and libraries are unchanged from version 3.
/// Version 5 appends a library's e-mail subscription (address or null, top, since) and the digests
/// already mailed (i32 count + strings); papers and digests are unchanged. Version-4 libraries read with none.
/// (Each stored value also carries a checksum over its key and bytes: that frame is <see cref="RecordStore"/>'s.)
/// </summary>
public static class RecordCodec
{
    public const byte PaperKind = (byte)'P', DigestKind = (byte)'D', LibraryKind = (byte)'L';
    public const byte CurrentVersion = 5;
    const uint NullString = uint.MaxValue;

    public static int PaperSize(PaperRecord p)
    {
        int size = 2 + 8 + 4 + 2 + 2 + p.Vector.Length * 4;
        foreach (var s in new[] { p.Title, p.Abstract, p.SourceId, p.Authors, p.Url, p.Categories, p.ModelId }) size += 4 + (s == null ? 0 : Encoding.UTF8.GetByteCount(s));
        foreach (var d in p.Digests) size += 4 + Encoding.UTF8.GetByteCount(d);
        size += 2 + 2; // the i32 digest count (counted 2 above) and the version count
        foreach (var v in p.PreviousVersions)
            size += 8 + Encoding.UTF8.GetByteCount(v.Title) + Encoding.UTF8.GetByteCount(v.Abstract) + 2 + v.Vector.Length * 4;
        return size;
    }

    public static int WritePaper(PaperRecord p, Span<byte> destination)
    {
        var w = new Writer(destination);
        w.Byte(PaperKind);
        w.Byte(CurrentVersion);
        w.Int64(p.Key);
        w.Int32(p.FirstSeen.DayNumber);
        w.String(p.Title); w.String(p.Abstract); w.String(p.SourceId); w.String(p.Authors); w.String(p.Url); w.String(p.Categories); w.String(p.ModelId);
        w.Int32(p.Digests.Count);
        foreach (var d in p.Digests) w.String(d);
        w.UInt16((ushort)p.Vector.Length);
        w.Bytes(MemoryMarshal.AsBytes(p.Vector.AsSpan()));
        w.UInt16((ushort)p.PreviousVersions.Count);
        foreach (var v in p.PreviousVersions)
        {
            w.String(v.Title); w.String(v.Abstract);
            w.UInt16((ushort)v.Vector.Length);
            w.Bytes(MemoryMarshal.AsBytes(v.Vector.AsSpan()));
        }
        return w.Position;
    }

    public static byte[] EncodePaper(PaperRecord p)
    {
        var bytes = new byte[PaperSize(p)];
        int written = WritePaper(p, bytes);
        return written == bytes.Length ? bytes : throw new InvalidOperationException("paper size mismatch");
    }

    public static PaperRecord ReadPaper(ReadOnlySpan<byte> source)
    {
        var r = new Reader(source);
        r.Header(PaperKind, "paper");
        long key = r.Int64();
        var firstSeen = DateOnly.FromDayNumber(r.Int32());
        string title = r.String()!, abstractText = r.String()!;
        string? sourceId = r.String(), authors = r.String(), url = r.String(), categories = r.String();
        string modelId = r.String()!;
        int digestCount = r.DigestCount();
        var digests = new string[digestCount];
        for (int i = 0; i < digestCount; i++) digests[i] = r.String()!;
        var vector = new float[r.UInt16()];
        r.Bytes(MemoryMarshal.AsBytes(vector.AsSpan()));
        var versions = new PaperVersion[r.Version >= 2 ? r.UInt16() : 0];
        for (int i = 0; i < versions.Length; i++)
        {
            string vTitle = r.String()!, vAbstract = r.String()!;
            var vVector = new float[r.UInt16()];
            r.Bytes(MemoryMarshal.AsBytes(vVector.AsSpan()));
            versions[i] = new PaperVersion(vTitle, vAbstract, vVector);
        }
        return new PaperRecord
        {
            Key = key, Title = title, Abstract = abstractText, SourceId = sourceId, Authors = authors, Url = url,
            Categories = categories, FirstSeen = firstSeen, Digests = digests, ModelId = modelId, Vector = vector,
            PreviousVersions = versions,
        };
    }

    /// <summary>Key, title, abstract and first-seen date of an encoded paper (the vector and the rest are not decoded).</summary>
    public static PaperSummary ReadPaperSummary(ReadOnlySpan<byte> source)
    {
        var r = new Reader(source);
        r.Header(PaperKind, "paper");
        long key = r.Int64();
        var firstSeen = DateOnly.FromDayNumber(r.Int32());
        string title = r.String()!, abstractText = r.String()!;
        return new PaperSummary(key, title, abstractText, firstSeen);
    }

    /// <summary>Copies just the vector of an encoded paper into <paramref name="destination"/>, allocating nothing.</summary>
    public static int ReadPaperVector(ReadOnlySpan<byte> source, Span<float> destination)
    {
        var r = new Reader(source);
        r.Header(PaperKind, "paper");
        r.Skip(8 + 4);
        for (int i = 0; i < 7; i++) r.SkipString();
        int digestCount = r.DigestCount();
        for (int i = 0; i < digestCount; i++) r.SkipString();
        int dim = r.UInt16();
        if (destination.Length < dim) throw new ArgumentException($"destination holds {destination.Length} floats, the vector has {dim}");
        r.Bytes(MemoryMarshal.AsBytes(destination[..dim]));
        return dim;
    }

    public static byte[] EncodeDigest(DigestRecord d)
    {
        int size = 2 + 4 + 8 + 4 + 4 + Encoding.UTF8.GetByteCount(d.Id) + Encoding.UTF8.GetByteCount(d.Source) + 4 + d.PaperKeys.Count * 24;
        var bytes = new byte[size];
        var w = new Writer(bytes);
        w.Byte(DigestKind);
        w.Byte(CurrentVersion);
        w.Int32(d.Date.DayNumber);
        w.Int64(d.IngestedAt.ToUnixTimeMilliseconds());
        w.String(d.Id);
        w.String(d.Source);
        w.Int32(d.PaperKeys.Count);
        foreach (var k in d.PaperKeys) w.Int64(k);
        for (int i = 0; i < d.PaperKeys.Count; i++) w.Int64((long)d.ListingHash(i));
        for (int i = 0; i < d.PaperKeys.Count; i++) w.Int64(d.StoredCopy(i));
        return w.Position == size ? bytes : throw new InvalidOperationException("digest size mismatch");
    }

    public static DigestRecord ReadDigest(ReadOnlySpan<byte> source)
    {
        var r = new Reader(source);
        r.Header(DigestKind, "digest");
        var date = DateOnly.FromDayNumber(r.Int32());
        var ingested = DateTimeOffset.FromUnixTimeMilliseconds(r.Int64());
        string id = r.String()!, name = r.String()!;
        int count = r.Int32();
        if (count < 0 || count > source.Length / 8) throw new InvalidDataException("digest record: bad paper count");
        var keys = new long[count];
        for (int i = 0; i < count; i++) keys[i] = r.Int64();
        var hashes = new ulong[r.Version >= 2 ? count : 0];
        for (int i = 0; i < hashes.Length; i++) hashes[i] = (ulong)r.Int64();
        var copies = new long[r.Version >= 3 ? count : 0];
        for (int i = 0; i < copies.Length; i++) copies[i] = r.Int64();
        return new DigestRecord(id, date, name, keys, ingested) { ListingHashes = hashes, StoredCopies = copies };
    }

    /// <summary>A reader's library: name, updated-at, then the liked and the disliked keys (i32 count + i64 each).</summary>
    public static byte[] EncodeLibrary(ReaderLibrary library)
    {
        int size = 2 + 8 + 4 + Encoding.UTF8.GetByteCount(library.Name) + 4 + library.Liked.Count * 8 + 4 + library.Disliked.Count * 8
            + 4 + (library.Subscription == null ? 0 : Encoding.UTF8.GetByteCount(library.Subscription.Email)) + 4 + 8 + 4 + library.Mailed.Sum(d => 4 + Encoding.UTF8.GetByteCount(d));
        var bytes = new byte[size];
        var w = new Writer(bytes);
        w.Byte(LibraryKind);
        w.Byte(CurrentVersion);
        w.Int64(library.UpdatedAt.ToUnixTimeMilliseconds());
        w.String(library.Name);
        w.Int32(library.Liked.Count);
        foreach (long key in library.Liked) w.Int64(key);
        w.Int32(library.Disliked.Count);
        foreach (long key in library.Disliked) w.Int64(key);
        w.String(library.Subscription?.Email);
        w.Int32(library.Subscription?.Top ?? 0);
        w.Int64(library.Subscription?.Since.ToUnixTimeMilliseconds() ?? 0);
        w.Int32(library.Mailed.Count);
        foreach (var digest in library.Mailed) w.String(digest);
        return w.Position == size ? bytes : throw new InvalidOperationException("library size mismatch");
    }

    public static ReaderLibrary ReadLibrary(ReadOnlySpan<byte> source)
    {
        var r = new Reader(source);
        r.Header(LibraryKind, "library");
        var updated = DateTimeOffset.FromUnixTimeMilliseconds(r.Int64());
        string name = r.String() ?? throw new InvalidDataException("library record: no name");
        var lists = new long[2][];
        for (int list = 0; list < 2; list++)
        {
            int count = r.Int32();
            if (count < 0 || count > source.Length / 8) throw new InvalidDataException("library record: bad paper count");
            lists[list] = new long[count];
            for (int i = 0; i < count; i++) lists[list][i] = r.Int64();
        }
        var (liked, disliked) = (lists[0], lists[1]);
        if (r.Version < 5) return new ReaderLibrary(name, liked, disliked, updated);
        string? email = r.String();
        int top = r.Int32();
        long since = r.Int64();
        int mailedCount = r.Int32();
        if (mailedCount < 0 || mailedCount > source.Length / 4) throw new InvalidDataException("library record: bad mailed-digest count");
        var mailed = new string[mailedCount];
        for (int i = 0; i < mailedCount; i++) mailed[i] = r.String() ?? throw new InvalidDataException("library record: a mailed digest without an id");
        LibrarySubscription? subscription = null;
        if (email != null)
        {
            if (top < 1 || top > LibrarySubscription.MaxTop) throw new InvalidDataException($"library record: subscription top {top} out of range");
            subscription = new LibrarySubscription(email, top, DateTimeOffset.FromUnixTimeMilliseconds(since));
        }
        return new ReaderLibrary(name, liked, disliked, updated) { Subscription = subscription, Mailed = mailed };
    }

    ref struct Writer(Span<byte> buffer)
    {
        readonly Span<byte> _buffer = buffer;
        public int Position;

        public void Byte(byte b) => _buffer[Position++] = b;
        public void UInt16(ushort v) { BinaryPrimitives.WriteUInt16LittleEndian(_buffer[Position..], v); Position += 2; }
        public void Int32(int v) { BinaryPrimitives.WriteInt32LittleEndian(_buffer[Position..], v); Position += 4; }
        public void Int64(long v) { BinaryPrimitives.WriteInt64LittleEndian(_buffer[Position..], v); Position += 8; }
        public void Bytes(ReadOnlySpan<byte> b) { b.CopyTo(_buffer[Position..]); Position += b.Length; }

        public void String(string? s)
        {
            if (s == null) { BinaryPrimitives.WriteUInt32LittleEndian(_buffer[Position..], NullString); Position += 4; return; }
            int n = Encoding.UTF8.GetBytes(s, _buffer[(Position + 4)..]);
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer[Position..], (uint)n);
            Position += 4 + n;
        }
    }

    ref struct Reader(ReadOnlySpan<byte> buffer)
    {
        readonly ReadOnlySpan<byte> _buffer = buffer;
        int _position;

        public readonly byte Version => _buffer[1];

        public void Header(byte kind, string what)
        {
            if (_buffer.Length < 2 || _buffer[0] != kind) throw new InvalidDataException($"not a {what} record");
            if (_buffer[1] > CurrentVersion)
                throw new InvalidDataException($"{what} record has layout version {_buffer[1]}, newer than this PaperVec understands ({CurrentVersion}); upgrade PaperVec to read this data");
            if (_buffer[1] == 0) throw new InvalidDataException($"{what} record has invalid layout version 0");
            _position = 2;
        }

        ReadOnlySpan<byte> Take(int n)
        {
            if (n < 0 || _position + n > _buffer.Length) throw new InvalidDataException("record is truncated");
            var s = _buffer.Slice(_position, n);
            _position += n;
            return s;
        }

        public void Skip(int n) => Take(n);

        /// <summary>A paper's digest count: u16 before layout version 4, i32 since; each digest takes at least 4 bytes.</summary>
        public int DigestCount()
        {
            int n = Version >= 4 ? Int32() : UInt16();
            if (n < 0 || n > (_buffer.Length - _position) / 4) throw new InvalidDataException("paper record: bad digest count");
            return n;
        }
        public int UInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));
        public void Bytes(Span<byte> destination) => Take(destination.Length).CopyTo(destination);

        public string? String()
        {
            uint n = BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
            return n == NullString ? null : Encoding.UTF8.GetString(Take(Length(n)));
        }

        public void SkipString()
        {
            uint n = BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
            if (n != NullString) Take(Length(n));
        }

        // A length past the record's end is damage, said as such (not an overflow in a cast).
        readonly int Length(uint n) => n <= (uint)(_buffer.Length - _position) ? (int)n : throw new InvalidDataException("record is truncated");
    }
}
