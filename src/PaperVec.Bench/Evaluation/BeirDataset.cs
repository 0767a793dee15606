using System.Text.Json;

namespace PaperVec.Bench.Evaluation;

/// <summary>A BEIR-format retrieval set: corpus.jsonl, queries.jsonl and qrels/test.tsv.</summary>
public sealed record BeirDataset(
    IReadOnlyList<(string Id, string Title, string Text)> Corpus,
    IReadOnlyDictionary<string, string> Queries,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Qrels)
{
    public static BeirDataset Load(string directory, string split = "test")
    {
        string corpusPath = Path.Combine(directory, "corpus.jsonl"), queriesPath = Path.Combine(directory, "queries.jsonl");
        string qrelsPath = Path.Combine(directory, "qrels", split + ".tsv");
        foreach (var path in new[] { corpusPath, queriesPath, qrelsPath })
            if (!File.Exists(path)) throw new FileNotFoundException($"not a BEIR folder: {path} is missing");

        var corpus = new List<(string, string, string)>();
        foreach (var (line, number) in File.ReadLines(corpusPath).Select((l, i) => (l, i + 1)))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var doc = Parse(line, corpusPath, number);
            var root = doc.RootElement;
            corpus.Add((Str(root, "_id"), root.TryGetProperty("title", out var t) ? t.GetString() ?? "" : "", Str(root, "text")));
        }
        var queries = new Dictionary<string, string>();
        foreach (var (line, number) in File.ReadLines(queriesPath).Select((l, i) => (l, i + 1)))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var doc = Parse(line, queriesPath, number);
            queries[Str(doc.RootElement, "_id")] = Str(doc.RootElement, "text");
        }
        var qrels = new Dictionary<string, Dictionary<string, int>>();
        foreach (var (raw, number) in File.ReadLines(qrelsPath).Select((l, i) => (l, i + 1)))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || (number == 1 && line.StartsWith("query-id", StringComparison.Ordinal))) continue;
            var parts = line.Split('\t');
            if (parts.Length < 3 || !int.TryParse(parts[2], out int score))
                throw new InvalidDataException($"{qrelsPath}:{number}: expected 'query-id<TAB>corpus-id<TAB>score'");
            if (!qrels.TryGetValue(parts[0], out var rel)) qrels[parts[0]] = rel = [];
            rel[parts[1]] = score;
        }
        return new BeirDataset(corpus, queries,
            qrels.ToDictionary(q => q.Key, q => (IReadOnlyDictionary<string, int>)q.Value));
    }

    static JsonDocument Parse(string line, string path, int number)
    {
        try { return JsonDocument.Parse(line); }
        catch (JsonException e) { throw new InvalidDataException($"{path}:{number}: invalid JSON ({e.Message})"); }
    }

    static string Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString()! : v.ToString() : throw new InvalidDataException($"record without '{name}'");
}
