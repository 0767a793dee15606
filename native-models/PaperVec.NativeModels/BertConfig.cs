using System.Text.Json;

namespace PaperVec.NativeModels;

/// <summary>The fields of a Hugging Face BERT config.json that shape the encoder graph.</summary>
public sealed record BertConfig(int VocabSize, int HiddenSize, int Layers, int Heads, int IntermediateSize,
    int MaxPositions, int TypeVocabSize, double LayerNormEps, string HiddenAct)
{
    public int HeadSize => HiddenSize / Heads;

    public static BertConfig Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        int Int(string name) => root.TryGetProperty(name, out var v) ? v.GetInt32() : throw new InvalidDataException($"{path}: missing {name}");
        var config = new BertConfig(Int("vocab_size"), Int("hidden_size"), Int("num_hidden_layers"), Int("num_attention_heads"),
            Int("intermediate_size"), Int("max_position_embeddings"), Int("type_vocab_size"),
            root.GetProperty("layer_norm_eps").GetDouble(), root.GetProperty("hidden_act").GetString() ?? "");
        if (config.HiddenAct != "gelu") throw new InvalidDataException($"{path}: hidden_act '{config.HiddenAct}' is not supported (only exact gelu)");
        if (config.HiddenSize % config.Heads != 0) throw new InvalidDataException($"{path}: hidden_size is not a multiple of num_attention_heads");
        if (root.TryGetProperty("position_embedding_type", out var pet) && pet.GetString() != "absolute")
            throw new InvalidDataException($"{path}: position_embedding_type '{pet.GetString()}' is not supported");
        return config;
    }
}
