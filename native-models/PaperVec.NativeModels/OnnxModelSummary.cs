using System.Text;

namespace PaperVec.NativeModels;

/// <summary>
/// What an .onnx file holds, read straight from its protobuf: opsets, metadata and how many nodes of
/// each op type (domain-qualified for non-default domains, e.g. "com.microsoft.SkipLayerNormalization").
/// Used to report what ONNX Runtime's optimizer fused, from the optimized model it writes.
/// </summary>
public sealed record OnnxModelSummary(long IrVersion, IReadOnlyDictionary<string, long> Opsets,
    IReadOnlyDictionary<string, string> Metadata, IReadOnlyDictionary<string, int> OpCounts)
{
    public int Count(string opType) => OpCounts.GetValueOrDefault(opType);

    public static OnnxModelSummary Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        long ir = 0;
        var opsets = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var ops = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var (field, value, span) in Fields(bytes))
        {
            switch (field)
            {
                case 1: ir = value; break;
                case 7:
                    foreach (var (gField, _, node) in Fields(span))
                    {
                        if (gField != 1) continue;
                        string op = "", domain = "";
                        foreach (var (nField, _, s) in Fields(node))
                        {
                            if (nField == 4) op = Encoding.UTF8.GetString(s);
                            else if (nField == 7) domain = Encoding.UTF8.GetString(s);
                        }
                        string key = domain is "" or "ai.onnx" ? op : $"{domain}.{op}";
                        ops[key] = ops.GetValueOrDefault(key) + 1;
                    }
                    break;
                case 8:
                    string opsetDomain = ""; long version = 0;
                    foreach (var (f, v, s) in Fields(span)) { if (f == 1) opsetDomain = Encoding.UTF8.GetString(s); else if (f == 2) version = v; }
                    opsets[opsetDomain] = version;
                    break;
                case 14:
                    string key2 = "", val = "";
                    foreach (var (f, _, s) in Fields(span)) { if (f == 1) key2 = Encoding.UTF8.GetString(s); else if (f == 2) val = Encoding.UTF8.GetString(s); }
                    metadata[key2] = val;
                    break;
            }
        }
        return new OnnxModelSummary(ir, opsets, metadata, ops);
    }

    // Yields (field number, varint value, length-delimited payload) for each field of one message.
    static IEnumerable<(int Field, long Value, byte[] Payload)> Fields(byte[] message)
    {
        int pos = 0;
        while (pos < message.Length)
        {
            ulong tag = ReadVarint(message, ref pos);
            int field = (int)(tag >> 3), wire = (int)(tag & 7);
            switch (wire)
            {
                case 0: yield return (field, (long)ReadVarint(message, ref pos), []); break;
                case 1: pos += 8; break;
                case 5: pos += 4; break;
                case 2:
                    int length = checked((int)ReadVarint(message, ref pos));
                    if (pos + length > message.Length) throw new InvalidDataException("truncated protobuf field");
                    yield return (field, 0, message.AsSpan(pos, length).ToArray());
                    pos += length;
                    break;
                default: throw new InvalidDataException($"unsupported protobuf wire type {wire}");
            }
        }
    }

    static ulong ReadVarint(byte[] data, ref int pos)
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (pos >= data.Length) throw new InvalidDataException("truncated protobuf varint");
            byte b = data[pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw new InvalidDataException("protobuf varint too long");
    }
}
