using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;

namespace PaperVec.NativeModels;

/// <summary>
/// Reads a .safetensors file: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw data. Tensors come back as fp32.
/// </summary>
public sealed class Safetensors
{
    readonly byte[] _file;
    readonly long _dataStart;
    readonly Dictionary<string, (string DType, long[] Shape, long Begin, long End)> _tensors = new();

    public string Sha256 { get; }

    public IReadOnlyCollection<string> Names => _tensors.Keys;

    Safetensors(string path, byte[] file)
    {
        _file = file;
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(file));
        if (file.Length < 8) throw new InvalidDataException($"{path}: too short to be a safetensors file");
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(file);
        if (headerLength <= 0 || 8 + headerLength > file.Length)
            throw new InvalidDataException($"{path}: bad safetensors header length {headerLength}");
        _dataStart = 8 + headerLength;
        using var header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            var dtype = entry.Value.GetProperty("dtype").GetString()!;
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets");
            long begin = offsets[0].GetInt64(), end = offsets[1].GetInt64();
            if (begin < 0 || end < begin || _dataStart + end > file.Length)
                throw new InvalidDataException($"{path}: tensor {entry.Name} lies outside the file");
            _tensors[entry.Name] = (dtype, shape, begin, end);
        }
    }

    public static Safetensors Open(string path) => new(path, File.ReadAllBytes(path));

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public long[] Shape(string name) => Get(name).Shape;

    /// <summary>The tensor converted to fp32, row-major.</summary>
    public float[] ReadFloat32(string name)
    {
        var (dtype, shape, begin, end) = Get(name);
        var bytes = _file.AsSpan((int)(_dataStart + begin), (int)(end - begin));
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var result = new float[count];
        int size = dtype switch { "F32" => 4, "F16" or "BF16" => 2, _ => throw new InvalidDataException($"tensor {name}: unsupported dtype {dtype}") };
        if (bytes.Length != count * size)
            throw new InvalidDataException($"tensor {name}: {bytes.Length} bytes for {count} {dtype} values");
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = dtype switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(i * 2)..]),
                _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i * 2)..]) << 16),
            };
        }
        return result;
    }

    (string DType, long[] Shape, long Begin, long End) Get(string name) =>
        _tensors.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"safetensors file has no tensor '{name}'");
}
