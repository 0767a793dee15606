using System.Text.Json;

namespace PaperVec.Ingest;

/// <summary>
/// Reads paper records from JSON (an array of objects) or JSON Lines (one object a line):
/// `title`, `abstract`, optional `id`, `authors` (string or array), `url`, `date` (YYYY-MM-DD, or
/// `listing_date`), `categories` (string or array), `vector` (numbers, to skip embedding) and
/// `comment` (arXiv's, accepted and not stored). Any other field is refused by name (docs/records.md).
/// </summary>
public static class PaperRecordReader
{
    public const int MaxTitleChars = PaperLimits.MaxTitleChars, MaxAbstractChars = PaperLimits.MaxAbstractChars;

    /// <summary>The fields a record may hold (case-sensitive, as they are read).</summary>
    public static readonly IReadOnlyList<string> Fields = ["id", "title", "abstract", "authors", "url", "date", "listing_date", "categories", "vector", "comment"];

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
        // An unknown field is refused, not dropped: arXiv's `summary` read as no abstract stored an empty one.
        foreach (var property in e.EnumerateObject())
            if (!Fields.Contains(property.Name, StringComparer.Ordinal))
                throw new InvalidDataException($"{where}: {PaperVec.Json.JsonFields.Unknown(property.Name, Fields)}");
        string title = Text(e, "title", where)?.Trim() ?? "";
        string abstractText = Text(e, "abstract", where)?.Trim() ?? "";
        if (title.Length == 0) throw new InvalidDataException($"{where}: record has no title");
        // Title-only records are refused: search, similar and recommendations all read the abstract.
        if (abstractText.Length == 0) throw new InvalidDataException($"{where}: record has no abstract (a title alone is not stored; PaperVec searches abstracts)");
        DateOnly? date = null;
        if (e.TryGetProperty("date", out _) && e.TryGetProperty("listing_date", out _))
            throw new InvalidDataException($"{where}: record has both 'date' and 'listing_date'; give one");
        string? dateText = Text(e, "date", where) ?? Text(e, "listing_date", where);
        if (dateText != null) date = IsoDate(dateText) ?? throw new InvalidDataException($"{where}: date '{dateText}' is not an ISO 8601 date YYYY-MM-DD");
        float[]? vector = null;
        // A vector that is not an array was dropped without a word (and the paper embedded instead): refused by name.
        if (e.TryGetProperty("vector", out var v) && v.ValueKind is not (JsonValueKind.Array or JsonValueKind.Null))
            throw new InvalidDataException($"{where}: 'vector' must be an array of numbers");
        if (v.ValueKind == JsonValueKind.Array)
        {
            vector = new float[v.GetArrayLength()];
            int i = 0;
            foreach (var x in v.EnumerateArray())
            {
                if (x.ValueKind != JsonValueKind.Number) throw new InvalidDataException($"{where}: 'vector' holds a non-number");
                // 1e39 is valid JSON but no float (it reads as Infinity): named here rather than as a "non-finite length".
                if (!x.TryGetSingle(out float value) || !float.IsFinite(value)) throw new InvalidDataException($"{where}: 'vector' holds {x.GetRawText()}, outside a float's range");
                vector[i++] = value;
            }
            double norm = Math.Sqrt(vector.Sum(x => (double)x * x));
            if (norm == 0 || double.IsNaN(norm) || double.IsInfinity(norm)) throw new InvalidDataException($"{where}: 'vector' has zero or non-finite length");
            for (i = 0; i < vector.Length; i++) vector[i] = (float)(vector[i] / norm);
        }
        return new IncomingPaper(title, abstractText)
        {
            SourceId = Text(e, "id", where), Authors = ListOrText(e, "authors", where), Url = Text(e, "url", where),
            Categories = ListOrText(e, "categories", where), Date = date, Vector = vector,
        };
    }

    /// <summary>
    /// YYYY-MM-DD, or an ISO 8601 date-time (its date is taken); nothing else: "03/04/2026" is
    /// March 4th to some readers and April 3rd to others, so it is refused rather than guessed.
    /// </summary>
    public static DateOnly? IsoDate(string text)
    {
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        if (text.Length < 10 || !DateOnly.TryParseExact(text.AsSpan(0, 10), "yyyy-MM-dd", ci, System.Globalization.DateTimeStyles.None, out var date)) return null;
        if (text.Length == 10) return date;
        return text[10] == 'T' && DateTimeOffset.TryParse(text, ci, System.Globalization.DateTimeStyles.RoundtripKind | System.Globalization.DateTimeStyles.AssumeUniversal, out _) ? date : null;
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
