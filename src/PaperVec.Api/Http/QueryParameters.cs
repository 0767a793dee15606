using System.Globalization;
using PaperVec.Search;

namespace PaperVec.Api.Http;

/// <summary>
/// Query-string values parsed by hand, so a bad one is a 400 whose detail names the parameter and
/// what it must be (the framework's binding failures carry no such detail).
/// </summary>
public static class QueryParameters
{
    /// <summary>An empty value is the value left out, as for every parameter here (a form sends "k=" for an empty field).</summary>
    public static int K(string? text)
    {
        if (string.IsNullOrEmpty(text)) return 10;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int k) || k is < 1 or > SearchScope.MaxK)
            throw ApiProblemException.BadRequest($"k must be a whole number within 1..{SearchScope.MaxK} (got '{text}')");
        return k;
    }

    public static DateOnly? Date(string? text, string name)
    {
        if (string.IsNullOrEmpty(text)) return null;
        if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            throw ApiProblemException.BadRequest($"{name} must be a date YYYY-MM-DD (got '{text}')");
        return date;
    }

    public static int? Year(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int year) || year is < PaperVec.Ingest.DigestParseOptions.MinYear or > PaperVec.Ingest.DigestParseOptions.MaxYear)
            throw ApiProblemException.BadRequest($"year must be a year within {PaperVec.Ingest.DigestParseOptions.MinYear}..{PaperVec.Ingest.DigestParseOptions.MaxYear}, such as 2025 (got '{text}')");
        return year;
    }

    /// <summary>Maximal marginal relevance: 0 (none, the default) .. 1.</summary>
    public static double Diversity(string? text)
    {
        if (string.IsNullOrEmpty(text)) return 0;
        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double d) || double.IsNaN(d) || d is < 0 or > 1)
            throw ApiProblemException.BadRequest($"diversity must be a number within 0..1 (got '{text}')");
        return d;
    }

    public static double Diversity(double? value) =>
        value is null ? 0 : value is >= 0 and <= 1 && !double.IsNaN(value.Value) ? value.Value : throw ApiProblemException.BadRequest($"diversity must be a number within 0..1 (got {value})");

    public static void CheckRange(DateOnly? from, DateOnly? to)
    {
        if (from > to) throw ApiProblemException.BadRequest($"from ({from:yyyy-MM-dd}) is after to ({to:yyyy-MM-dd})");
    }
}
