using System.Text.Json;
using System.Text.Json.Serialization;

namespace PaperVec.Duplicates;

/// <summary>How the listings of a group differ: not at all, in the abstract only, or in the title too.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DuplicateKind>))]
public enum DuplicateKind
{
    [JsonStringEnumMemberName("exact")] Exact,
    [JsonStringEnumMemberName("revised")] Revised,
    [JsonStringEnumMemberName("retitled")] Retitled,
}

/// <summary>
/// What `papervec dupes --json` and GET /duplicates print:
/// {"groups":[{"kind":..,"members":[{"digest":..,"date":..,"paperId":..,"title":..}],"cosine":..,"lexical":..,"rule":..}]}.
/// </summary>
public sealed record DuplicateReport(IReadOnlyList<DuplicateGroup> Groups)
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);
}

/// <summary>One digest's listing of a paper, with the title that digest gave it.</summary>
public sealed record DuplicateListing(string Digest, DateOnly Date, string PaperId, string Title);

/// <summary>
/// Listings that are the same paper, oldest first, with the evidence: the lowest cosine and lexical
/// similarity over the pairs that joined the group, and the rule that joined them.
/// </summary>
public sealed record DuplicateGroup(DuplicateKind Kind, IReadOnlyList<DuplicateListing> Members, double Cosine, double Lexical, string Rule);

/// <summary>Which digests a duplicate search looks at: a date range and/or a set of digest ids (null: all).</summary>
public sealed record DuplicateScope(DateOnly? From = null, DateOnly? To = null, IReadOnlySet<string>? Digests = null)
{
    public static readonly DuplicateScope All = new();

    public bool Includes(Storage.DigestRecord digest) =>
        (From is not { } from || digest.Date >= from) && (To is not { } to || digest.Date <= to)
        && (Digests == null || Digests.Contains(digest.Id));
}
