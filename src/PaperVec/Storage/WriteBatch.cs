using System.Buffers.Binary;
using System.Text;

namespace PaperVec.Storage;

/// <summary>
/// The changes of one acknowledged write, applied together: the unit of the write-ahead log.
/// Encoded as: byte version, u32 count, then per change: byte kind, u32 length, payload.
/// </summary>
public sealed class WriteBatch
{
    public enum Kind : byte { PutPaper = 1, DeletePaper = 2, PutAlias = 3, DeleteAlias = 4, PutDigest = 5, PutModelId = 6, PutTitleAlias = 7, DeleteTitleAlias = 8, PutLibrary = 9, DeleteLibrary = 10, DeleteDigest = 11 }

    /// <summary>One change; <see cref="TitleKey"/> is the key of a title that names paper <see cref="Key"/> after a retitle.</summary>
    public readonly record struct Change(Kind Kind, PaperRecord? Paper = null, long Key = 0, string? Alias = null, DigestRecord? Digest = null, long TitleKey = 0, string? ModelId = null,
        ReaderLibrary? Library = null);

    const byte Version = 1;
    readonly List<Change> _changes = [];

    public IReadOnlyList<Change> Changes => _changes;
    public bool IsEmpty => _changes.Count == 0;

    public WriteBatch PutPaper(PaperRecord paper) { _changes.Add(new(Kind.PutPaper, Paper: paper, Key: paper.Key)); return this; }
    public WriteBatch DeletePaper(long key) { _changes.Add(new(Kind.DeletePaper, Key: key)); return this; }
    public WriteBatch PutAlias(string sourceId, long key) { _changes.Add(new(Kind.PutAlias, Key: key, Alias: sourceId)); return this; }
    public WriteBatch DeleteAlias(string sourceId) { _changes.Add(new(Kind.DeleteAlias, Alias: sourceId)); return this; }
    /// <summary>A title a paper was retitled to names it from now on (<see cref="PaperDatabase.KeyOfTitle"/>).</summary>
    public WriteBatch PutTitleAlias(long titleKey, long key) { _changes.Add(new(Kind.PutTitleAlias, Key: key, TitleKey: titleKey)); return this; }
    public WriteBatch DeleteTitleAlias(long titleKey) { _changes.Add(new(Kind.DeleteTitleAlias, TitleKey: titleKey)); return this; }
    internal WriteBatch Add(Change change) { _changes.Add(change); return this; }
    public WriteBatch PutDigest(DigestRecord digest) { _changes.Add(new(Kind.PutDigest, Digest: digest)); return this; }
    /// <summary>Removes a digest record (its papers' own changes travel in the same batch: see <see cref="PaperDatabase.DeleteDigestAsync"/>).</summary>
    public WriteBatch DeleteDigest(string digestId) { _changes.Add(new(Kind.DeleteDigest, Alias: digestId)); return this; }
    /// <summary>Records which model made the database's vectors (see ModelChangeReembedder).</summary>
    public WriteBatch PutModelId(string modelId) { _changes.Add(new(Kind.PutModelId, ModelId: modelId)); return this; }

    /// <summary>Stores a reader's library under its name, replacing what was there.</summary>
    public WriteBatch PutLibrary(ReaderLibrary library) { _changes.Add(new(Kind.PutLibrary, Library: library)); return this; }
    public WriteBatch DeleteLibrary(string name) { _changes.Add(new(Kind.DeleteLibrary, Alias: name)); return this; }

    public byte[] Encode()
    {
        var parts = _changes.Select(c => (c.Kind, Payload: c.Kind switch
        {
            Kind.PutPaper => RecordCodec.EncodePaper(c.Paper!),
            Kind.DeletePaper => BitConverter.GetBytes(c.Key),
            Kind.PutAlias => [.. BitConverter.GetBytes(c.Key), .. Encoding.UTF8.GetBytes(c.Alias!)],
            Kind.DeleteAlias => Encoding.UTF8.GetBytes(c.Alias!),
            Kind.PutDigest => RecordCodec.EncodeDigest(c.Digest!),
            Kind.PutModelId => Encoding.UTF8.GetBytes(c.ModelId!),
            Kind.PutTitleAlias => [.. BitConverter.GetBytes(c.TitleKey), .. BitConverter.GetBytes(c.Key)],
            Kind.DeleteTitleAlias => BitConverter.GetBytes(c.TitleKey),
            Kind.PutLibrary => RecordCodec.EncodeLibrary(c.Library!),
            Kind.DeleteLibrary => Encoding.UTF8.GetBytes(c.Alias!),
            Kind.DeleteDigest => Encoding.UTF8.GetBytes(c.Alias!),
            _ => throw new InvalidOperationException(),
        })).ToList();
        var bytes = new byte[5 + parts.Sum(p => 5 + p.Payload.Length)];
        bytes[0] = Version;
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(1), parts.Count);
        int at = 5;
        foreach (var (kind, payload) in parts)
        {
            bytes[at] = (byte)kind;
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at + 1), payload.Length);
            payload.CopyTo(bytes, at + 5);
            at += 5 + payload.Length;
        }
        return bytes;
    }

    public static WriteBatch Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 5) throw new InvalidDataException("write batch is truncated");
        if (bytes[0] > Version) throw new InvalidDataException($"write batch has version {bytes[0]}, newer than this PaperVec understands ({Version})");
        int count = BinaryPrimitives.ReadInt32LittleEndian(bytes[1..]);
        var batch = new WriteBatch();
        int at = 5;
        for (int i = 0; i < count; i++)
        {
            if (at + 5 > bytes.Length) throw new InvalidDataException("write batch is truncated");
            var kind = (Kind)bytes[at];
            int length = BinaryPrimitives.ReadInt32LittleEndian(bytes[(at + 1)..]);
            if (length < 0 || at + 5 + length > bytes.Length) throw new InvalidDataException("write batch is truncated");
            var payload = bytes.Slice(at + 5, length);
            _ = kind switch
            {
                Kind.PutPaper => batch.PutPaper(RecordCodec.ReadPaper(payload)),
                Kind.DeletePaper when length == 8 => batch.DeletePaper(BinaryPrimitives.ReadInt64LittleEndian(payload)),
                Kind.PutAlias when length >= 8 => batch.PutAlias(Encoding.UTF8.GetString(payload[8..]), BinaryPrimitives.ReadInt64LittleEndian(payload)),
                Kind.DeleteAlias => batch.DeleteAlias(Encoding.UTF8.GetString(payload)),
                Kind.PutDigest => batch.PutDigest(RecordCodec.ReadDigest(payload)),
                Kind.PutModelId => batch.PutModelId(Encoding.UTF8.GetString(payload)),
                Kind.PutTitleAlias when length == 16 => batch.PutTitleAlias(BinaryPrimitives.ReadInt64LittleEndian(payload), BinaryPrimitives.ReadInt64LittleEndian(payload[8..])),
                Kind.DeleteTitleAlias when length == 8 => batch.DeleteTitleAlias(BinaryPrimitives.ReadInt64LittleEndian(payload)),
                Kind.PutLibrary => batch.PutLibrary(RecordCodec.ReadLibrary(payload)),
                Kind.DeleteLibrary => batch.DeleteLibrary(Encoding.UTF8.GetString(payload)),
                Kind.DeleteDigest when length > 0 => batch.DeleteDigest(Encoding.UTF8.GetString(payload)),
                _ => throw new InvalidDataException($"unknown write batch change kind {(byte)kind} or bad length {length}"),
            };
            at += 5 + length;
        }
        return batch;
    }
}
