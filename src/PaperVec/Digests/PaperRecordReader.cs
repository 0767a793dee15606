using System.Text.Json;

namespace PaperVec.Digests;

/// <summary>
/// Reads paper records from JSON (an array of objects) or JSON Lines (one object a line):
/// `id`, `title`, `abstract`, optional `authors` (string or array), `url`, `date` (YYYY-MM-DD or
/// listing_date), `categories` (string or array) and `vector` (numbers, to skip embedding).
/// </summary>
public static class PaperRecordReader
{
    public const int MaxTitleChars = PaperLimits.MaxTitleChars, MaxAbstractChars = PaperLimits.MaxAbstractChars;

    public static List<IncomingPaper> ReadAll(string text, string source)
    {
        var trimmed = text.TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        var papers = new List<IncomingPaper>();
        if (trimmed.StartsWith('['))
        {
            JsonDocument doc;
            try { doc = JsonDocument.Parse(trimmed); }
            catch (JsonException e) { throw new InvalidDataException($"{source}: invalid JSON ({e.Message})"); }
            using (doc)
            {
                int i = 0;
                foreach (var element in doc.RootElement.EnumerateArray()) papers.Add(Read(element, $"{source} record {++i}"));
            }
            return papers;
        }
        // Lines are parsed in place, not split into strings first: a 100-record body with vectors is
        // about 600 KB, and a string per line doubled what a bulk ingest left for the collector.
        int line = 0;
        foreach (var range in text.AsSpan().Split('\n'))
        {
            line++;
            var raw = text.AsMemory(range);
            if (raw.Span.IsWhiteSpace()) continue;
            papers.Add(ReadLine(raw, $"{source}:{line}"));
        }
        return papers;
    }

    public static IncomingPaper ReadLine(string json, string where) => ReadLine(json.AsMemory(), where);

    public static IncomingPaper ReadLine(ReadOnlyMemory<char> json, string where)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return Read(doc.RootElement, where);
        }
        catch (JsonException e) { throw new InvalidDataException($"{where}: invalid JSON ({e.Message})"); }
    }

    public static IncomingPaper Read(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{where}: expected a JSON object");
        string title = Text(e, "title", where)?.Trim() ?? "";
        string abstractText = Text(e, "abstract", where)?.Trim() ?? "";
        if (title.Length == 0) throw new InvalidDataException($"{where}: record has no title");
        DateOnly? date = null;
        string? dateText = Text(e, "date", where) ?? Text(e, "listing_date", where);
        if (dateText != null)
        {
            if (!DateOnly.TryParse(dateText.Length >= 10 ? dateText[..10] : dateText, System.Globalization.CultureInfo.InvariantCulture, out var d))
                throw new InvalidDataException($"{where}: date '{dateText}' is not YYYY-MM-DD");
            date = d;
        }
        float[]? vector = null;
        if (e.TryGetProperty("vector", out var v) && v.ValueKind == JsonValueKind.Array)
        {
            vector = new float[v.GetArrayLength()];
            int i = 0;
            foreach (var x in v.EnumerateArray())
            {
                if (x.ValueKind != JsonValueKind.Number) throw new InvalidDataException($"{where}: vector holds a non-number");
                vector[i++] = x.GetSingle();
            }
            double norm = Math.Sqrt(vector.Sum(x => (double)x * x));
            if (norm == 0 || double.IsNaN(norm) || double.IsInfinity(norm)) throw new InvalidDataException($"{where}: vector has zero or non-finite length");
            for (i = 0; i < vector.Length; i++) vector[i] = (float)(vector[i] / norm);
        }
        return new IncomingPaper(title, abstractText)
        {
            SourceId = Text(e, "id", where), Authors = ListOrText(e, "authors", where), Url = Text(e, "url", where),
            Categories = ListOrText(e, "categories", where), Date = date, Vector = vector,
        };
    }

    static string? Text(JsonElement e, string name, string where) =>
        !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind is JsonValueKind.String ? StringOf(v, name, where)
        : v.ValueKind is JsonValueKind.Number ? v.GetRawText()
        : throw new InvalidDataException($"{where}: '{name}' must be a string");

    static string? ListOrText(JsonElement e, string name, string where) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? string.Join(", ", v.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? StringOf(x, name, where) : x.GetRawText()))
            : Text(e, name, where);

    /// <summary>The string, or a clear error for an escape that is not valid Unicode ("\ud800" alone): JSON allows it, .NET strings for storage do not.</summary>
    static string StringOf(JsonElement v, string name, string where)
    {
        try { return v.GetString()!; }
        catch (InvalidOperationException) { throw new InvalidDataException($"{where}: '{name}' holds an escaped lone surrogate (\\uD800-\\uDFFF alone): not valid Unicode"); }
    }
}
