using System.Runtime.InteropServices;

namespace PaperVec.NativeModels;

/// <summary>ONNX tensor element types (onnx.proto TensorProto.DataType).</summary>
public enum OnnxType { Float = 1, Int8 = 3, Int32 = 6, Int64 = 7, Bool = 9 }

/// <summary>
/// An ONNX graph under construction: nodes in topological order, initializers, inputs and outputs,
/// serialized to a ModelProto by <see cref="Serialize"/>. Field numbers follow onnx.proto.
/// </summary>
public sealed class OnnxGraph(string name)
{
    sealed record Node(string OpType, string Name, string[] Inputs, string[] Outputs, OnnxAttribute[] Attributes, string Domain);
    sealed record InitializerTensor(string Name, OnnxType Type, long[] Dims, byte[] Raw);
    sealed record ValueInfo(string Name, OnnxType Type, object[] Dims); // dims: long or symbolic string

    /// <summary>A node attribute: exactly one of the values is set.</summary>
    public sealed record OnnxAttribute(string Name, long? Int = null, float? Float = null, long[]? Ints = null, string? Str = null);

    readonly List<Node> _nodes = [];
    readonly List<InitializerTensor> _initializers = [];
    readonly List<ValueInfo> _inputs = [], _outputs = [];
    readonly HashSet<string> _names = [];
    readonly Dictionary<string, int> _opCounts = [];

    public IEnumerable<string> NodeOpTypes => _nodes.Select(n => n.OpType);

    public void AddInput(string inputName, OnnxType type, params object[] dims) => _inputs.Add(new(inputName, type, dims));

    public void AddOutput(string outputName, OnnxType type, params object[] dims) => _outputs.Add(new(outputName, type, dims));

    public string Initializer(string tensorName, float[] data, params long[] dims)
    {
        CheckCount(data.Length, dims, tensorName);
        return AddInitializer(tensorName, OnnxType.Float, dims, MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
    }

    public string Initializer(string tensorName, long[] data, params long[] dims)
    {
        CheckCount(data.Length, dims, tensorName);
        return AddInitializer(tensorName, OnnxType.Int64, dims, MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
    }

    public string Initializer(string tensorName, sbyte[] data, params long[] dims)
    {
        CheckCount(data.Length, dims, tensorName);
        return AddInitializer(tensorName, OnnxType.Int8, dims, MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
    }

    public string Scalar(string tensorName, float value) => Initializer(tensorName, [value]);

    public string Scalar(string tensorName, long value) => Initializer(tensorName, [value]);

    /// <summary>Adds a node with one output and returns that output's name.</summary>
    public string Op(string opType, string[] inputs, params OnnxAttribute[] attributes) =>
        OpMulti(opType, inputs, 1, "", attributes)[0];

    public string[] OpMulti(string opType, string[] inputs, int outputCount, string domain, params OnnxAttribute[] attributes)
    {
        int n = _opCounts[opType] = _opCounts.GetValueOrDefault(opType) + 1;
        string nodeName = $"{opType}_{n}";
        var outputs = Enumerable.Range(0, outputCount).Select(i => outputCount == 1 ? $"{nodeName}_out" : $"{nodeName}_out{i}").ToArray();
        _nodes.Add(new Node(opType, nodeName, inputs, outputs, attributes, domain));
        return outputs;
    }

    /// <summary>Renames the output of the last node that produced <paramref name="current"/>.</summary>
    public void RenameOutput(string current, string newName)
    {
        int i = _nodes.FindLastIndex(n => n.Outputs.Contains(current));
        var node = _nodes[i];
        _nodes[i] = node with { Outputs = node.Outputs.Select(o => o == current ? newName : o).ToArray() };
    }

    string AddInitializer(string tensorName, OnnxType type, long[] dims, byte[] raw)
    {
        if (!_names.Add(tensorName)) throw new InvalidOperationException($"duplicate initializer {tensorName}");
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian");
        _initializers.Add(new InitializerTensor(tensorName, type, dims, raw));
        return tensorName;
    }

    static void CheckCount(int count, long[] dims, string tensorName)
    {
        if (dims.Aggregate(1L, (a, b) => a * b) != count)
            throw new ArgumentException($"initializer {tensorName}: {count} values do not fill dims [{string.Join(",", dims)}]");
    }

    /// <summary>Writes the ModelProto. Same graph, same bytes: nothing here depends on time or hashing order.</summary>
    public byte[] Serialize(long opsetVersion, IReadOnlyList<(string Domain, long Version)> extraOpsets,
        IReadOnlyList<KeyValuePair<string, string>> metadata, string producerVersion)
    {
        var model = new ProtoWriter();
        model.WriteInt64(1, 8); // ir_version 8 (ONNX 1.10+), enough for opset 17
        model.WriteString(2, "PaperVec.NativeModels"); // producer_name
        model.WriteString(3, producerVersion); // producer_version
        model.WriteMessage(7, WriteGraph); // graph
        model.WriteMessage(8, w => { w.WriteString(1, ""); w.WriteInt64(2, opsetVersion); }); // opset_import
        foreach (var (domain, version) in extraOpsets)
            model.WriteMessage(8, w => { w.WriteString(1, domain); w.WriteInt64(2, version); });
        foreach (var (key, value) in metadata)
            model.WriteMessage(14, w => { w.WriteString(1, key); w.WriteString(2, value); }); // metadata_props
        return model.ToArray();
    }

    void WriteGraph(ProtoWriter g)
    {
        foreach (var node in _nodes) g.WriteMessage(1, w => WriteNode(w, node));
        g.WriteString(2, name);
        foreach (var init in _initializers) g.WriteMessage(5, w => WriteTensor(w, init));
        foreach (var input in _inputs) g.WriteMessage(11, w => WriteValueInfo(w, input));
        foreach (var output in _outputs) g.WriteMessage(12, w => WriteValueInfo(w, output));
    }

    static void WriteNode(ProtoWriter w, Node node)
    {
        foreach (var input in node.Inputs) w.WriteString(1, input);
        foreach (var output in node.Outputs) w.WriteString(2, output);
        w.WriteString(3, node.Name);
        w.WriteString(4, node.OpType);
        foreach (var attribute in node.Attributes) w.WriteMessage(5, a => WriteAttribute(a, attribute));
        if (node.Domain.Length > 0) w.WriteString(7, node.Domain);
    }

    static void WriteAttribute(ProtoWriter w, OnnxAttribute attribute)
    {
        // AttributeProto: name=1, f=2, i=3, s=4, ints=8, type=20 (FLOAT=1, INT=2, STRING=3, INTS=7)
        w.WriteString(1, attribute.Name);
        if (attribute.Float is float f) { w.WriteFloat(2, f); w.WriteInt64(20, 1); }
        else if (attribute.Int is long i) { w.WriteInt64(3, i); w.WriteInt64(20, 2); }
        else if (attribute.Str is string s) { w.WriteString(4, s); w.WriteInt64(20, 3); }
        else if (attribute.Ints is long[] ints) { w.WritePackedInt64(8, ints); w.WriteInt64(20, 7); }
        else throw new InvalidOperationException($"attribute {attribute.Name} has no value");
    }

    static void WriteTensor(ProtoWriter w, InitializerTensor init)
    {
        // TensorProto: dims=1, data_type=2, name=8, raw_data=9
        if (init.Dims.Length > 0) w.WritePackedInt64(1, init.Dims);
        w.WriteInt64(2, (long)init.Type);
        w.WriteString(8, init.Name);
        w.WriteBytes(9, init.Raw);
    }

    static void WriteValueInfo(ProtoWriter w, ValueInfo info)
    {
        // ValueInfoProto: name=1, type=2; TypeProto.tensor_type=1; Tensor: elem_type=1, shape=2;
        // TensorShapeProto.dim=1; Dimension: dim_value=1, dim_param=2
        w.WriteString(1, info.Name);
        w.WriteMessage(2, type => type.WriteMessage(1, tensor =>
        {
            tensor.WriteInt64(1, (long)info.Type);
            tensor.WriteMessage(2, shape =>
            {
                foreach (var dim in info.Dims)
                    shape.WriteMessage(1, d =>
                    {
                        if (dim is string symbol) d.WriteString(2, symbol);
                        else d.WriteInt64(1, Convert.ToInt64(dim));
                    });
            });
        }));
    }
}
