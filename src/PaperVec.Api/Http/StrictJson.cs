using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using PaperVec.Json;

namespace PaperVec.Api.Http;

/// <summary>
/// Reads a request body as one JSON object of a known shape, strictly: an unknown field is a 400
/// naming it (and the field PaperVec calls it, for a known synonym), never ignored, so a request in
/// another API's words cannot be answered 200 with the words dropped. Ids are checked for null and empty.
/// </summary>
public static class StrictJson
{
    static readonly JsonSerializerOptions Options = new(JsonSerializerOptions.Web)
    {
        // The backstop: the field check below names the field first; this refuses any the check missed.
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    /// <summary>The fields <typeparamref name="T"/> reads, as a body spells them (camelCase).</summary>
    public static IReadOnlyList<string> FieldsOf<T>() => Options.GetTypeInfo(typeof(T)).Properties.Select(p => p.Name).ToList();

    public static T Read<T>(string text, string example) where T : class
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text); }
        catch (JsonException e) { throw ApiProblemException.BadRequest($"the body must be JSON like {example} ({e.Message})"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw ApiProblemException.BadRequest($"the body must be JSON like {example}: an object");
            var known = FieldsOf<T>();
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!known.Contains(property.Name, StringComparer.OrdinalIgnoreCase)) throw ApiProblemException.BadRequest(JsonFields.Unknown(property.Name, known));
                // A field given twice would silently keep the last; refuse it like a conflict.
                if (!seen.Add(property.Name)) throw ApiProblemException.BadRequest($"field '{property.Name}' is given twice");
            }
            try { return doc.RootElement.Deserialize<T>(Options) ?? throw ApiProblemException.BadRequest($"the body must be JSON like {example}"); }
            catch (JsonException e) { throw ApiProblemException.BadRequest(WrongType<T>(e, example)); }
        }
    }

    /// <summary>
    /// A field of the wrong type ("k": "abc", "liked": "ID") named with the form it takes; the
    /// serializer's own message names .NET types (System.Nullable`1[System.Int32]) instead.
    /// </summary>
    static string WrongType<T>(JsonException e, string example)
    {
        // The path is "$.k" or "$.liked[0]": its first member is the field.
        string field = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..].Split('[', '.')[0] : "";
        var property = Options.GetTypeInfo(typeof(T)).Properties.FirstOrDefault(p => p.Name.Equals(field, StringComparison.OrdinalIgnoreCase));
        if (property == null) return $"the body must be JSON like {example}";
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        string form = type == typeof(int) ? "a whole number" : type == typeof(double) ? "a number" : type == typeof(string) ? "a string"
            : typeof(IEnumerable<string?>).IsAssignableFrom(type) ? "a list of paper ids (strings)" : "another type";
        return $"field '{property.Name}' must be {form}{(type == typeof(string) || form.StartsWith("a list") ? "" : " or null")} (the body must be JSON like {example})";
    }

    /// <summary>The ids of a list field, each a non-empty string: a null or blank id is a 400 naming the field and position, not a lookup of ''.</summary>
    public static IReadOnlyList<string> Ids(IReadOnlyList<string?>? ids, string field)
    {
        if (ids == null) return [];
        for (int i = 0; i < ids.Count; i++)
            if (string.IsNullOrWhiteSpace(ids[i])) throw ApiProblemException.BadRequest($"'{field}' item {i + 1} is {(ids[i] == null ? "null" : "empty")}; each must be a paper id");
        return ids!;
    }

    /// <summary>400 naming an id given in both lists (the same spelling; the same paper under two ids is found once they resolve).</summary>
    public static void CheckDisjoint(IReadOnlyList<string> a, string aField, IReadOnlyList<string> b, string bField)
    {
        var set = a.Select(i => i.Trim()).ToHashSet(StringComparer.Ordinal);
        if (b.FirstOrDefault(i => set.Contains(i.Trim())) is { } both)
            throw ApiProblemException.BadRequest($"paper '{both.Trim()}' is in both '{aField}' and '{bField}'");
    }
}
