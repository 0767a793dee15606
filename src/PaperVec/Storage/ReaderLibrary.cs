using System.Text.RegularExpressions;

namespace PaperVec.Storage;

/// <summary>
/// A reader's named library: the papers they liked and the ones they marked "not interested", by
/// paper key, in the order they were added. Stored durably with the papers (one record per name,
/// written through the log like every write) and recovered with them. A liked paper deleted later
/// stays listed and is skipped when ranking.
/// </summary>
public sealed record ReaderLibrary(string Name, IReadOnlyList<long> Liked, IReadOnlyList<long> Disliked, DateTimeOffset UpdatedAt)
{
    /// <summary>Where its recommendations from each new digest are mailed, or null (issue 29: e-mail digests).</summary>
    public LibrarySubscription? Subscription { get; init; }
    /// <summary>Digests whose message was sent (ids, oldest first; the newest <see cref="MaxMailed"/>): at most one message per digest.</summary>
    public IReadOnlyList<string> Mailed { get; init; } = [];
    public const int MaxMailed = 1000;

    /// <summary>Papers a library holds at most, liked and disliked together.</summary>
    public const int MaxPapers = 10_000;
    public const int MaxNameLength = 64;

    static readonly Regex NamePattern = new(@"\A[A-Za-z0-9_-]{1,64}\z", RegexOptions.CultureInvariant);
    // \A..\z, not ^..$: '$' also matches before a final newline, which let "a\n" through as a name.

    /// <summary>Letters, digits, '-' and '_', at most 64 characters; an <see cref="InvalidDataException"/> saying so otherwise.</summary>
    public static string CheckName(string? name) =>
        name != null && NamePattern.IsMatch(name) ? name
        : throw new InvalidDataException($"library name '{Shorten(name)}' is not valid: use 1 to {MaxNameLength} letters, digits, '-' or '_'");

    /// <summary>A change asked of a library, checked before any id is looked up: the name, how many ids, none both liked and disliked.</summary>
    public static void CheckChange(string name, IReadOnlyList<string> like, IReadOnlyList<string> dislike, IReadOnlyList<string> remove)
    {
        CheckName(name);
        if (like.Count + dislike.Count + remove.Count > MaxPapers)
            throw new InvalidDataException($"{like.Count + dislike.Count + remove.Count:N0} ids named; a library holds at most {MaxPapers:N0}");
        var overlap = like.Intersect(dislike, StringComparer.Ordinal).FirstOrDefault();
        if (overlap != null) throw new InvalidDataException($"paper '{overlap}' is named both liked and disliked");
    }

    /// <summary>This library, when it has a liked paper to recommend from; an <see cref="InvalidDataException"/> saying so otherwise.</summary>
    public ReaderLibrary RequireLiked() =>
        Liked.Count > 0 ? this : throw new InvalidDataException($"library '{Name}' has no liked papers yet: like some first");

    /// <summary>This library with <paramref name="liked"/> and <paramref name="disliked"/> added (a paper is in one list at most: the later mark wins) and <paramref name="removed"/> taken out.</summary>
    public ReaderLibrary With(IEnumerable<long> liked, IEnumerable<long> disliked, IEnumerable<long> removed, DateTimeOffset now)
    {
        var like = Liked.ToList();
        var dislike = Disliked.ToList();
        foreach (long key in removed) { like.Remove(key); dislike.Remove(key); }
        foreach (long key in liked) { dislike.Remove(key); if (!like.Contains(key)) like.Add(key); }
        foreach (long key in disliked) { like.Remove(key); if (!dislike.Contains(key)) dislike.Add(key); }
        var result = this with { Liked = like, Disliked = dislike, UpdatedAt = now };
        return result.Check();
    }

    /// <summary>
    /// This library with <paramref name="subscription"/> (null: ended); a subscription already held keeps its Since
    /// (changing the address or top does not mail old digests). <paramref name="at"/>: see <see cref="Touched"/>.
    /// </summary>
    public ReaderLibrary Subscribed(LibrarySubscription? subscription, DateTimeOffset at) =>
        this with
        {
            Subscription = subscription is null ? null : subscription with { Since = Subscription?.Since ?? subscription.Since },
            UpdatedAt = Touched(at),
        };

    /// <summary>This library with <paramref name="digestId"/> noted as mailed (the newest <see cref="MaxMailed"/> kept); itself, unchanged, when it already was.</summary>
    public ReaderLibrary WithMailed(string digestId, DateTimeOffset at) =>
        Mailed.Contains(digestId) ? this : this with { Mailed = [.. Mailed.Append(digestId).TakeLast(MaxMailed)], UpdatedAt = Touched(at) };

    // A change moves UpdatedAt strictly forward (stored to the ms): a replica catching up copies a library
    // only when its peer's is newer, so a subscription or a sent mark it missed must look newer.
    DateTimeOffset Touched(DateTimeOffset at)
    {
        var ms = DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds());
        var floor = DateTimeOffset.FromUnixTimeMilliseconds(UpdatedAt.ToUnixTimeMilliseconds() + 1);
        return ms >= floor ? ms : floor;
    }

    /// <summary>Refuses a library over <see cref="MaxPapers"/> or with a paper in both lists.</summary>
    public ReaderLibrary Check()
    {
        if (Liked.Count + Disliked.Count > MaxPapers)
            throw new InvalidDataException($"library '{Name}' would hold {Liked.Count + Disliked.Count:N0} papers; a library holds at most {MaxPapers:N0}");
        var liked = Liked.ToHashSet();
        if (Disliked.FirstOrDefault(liked.Contains) is var both and not 0) // paper keys are never 0
            throw new InvalidDataException($"paper {Storage.PaperIdentity.Format(both)} is both liked and disliked in library '{Name}'");
        return this;
    }

    static string Shorten(string? s) => s == null ? "" : s.Length <= 80 ? s : s[..80] + "…";
}

/// <summary>
/// A library's e-mail subscription: the address, how many papers per message, and since when (only
/// digests ingested after it are mailed: subscribing does not mail the whole history).
/// </summary>
public sealed record LibrarySubscription(string Email, int Top, DateTimeOffset Since)
{
    public const int MaxTop = 100;
    public const int MaxEmailLength = 254;

    /// <summary>A plausible single address (local@domain, no spaces or control characters, no display name) and a top of 1..100.</summary>
    public static LibrarySubscription Check(string? email, int top, DateTimeOffset since)
    {
        email = email?.Trim();
        if (string.IsNullOrEmpty(email) || email.Length > MaxEmailLength || email.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>' or ',' or ';' or '"')
            || email.IndexOf('@') is var at && (at <= 0 || at != email.LastIndexOf('@') || at == email.Length - 1 || !email[(at + 1)..].Contains('.')))
            throw new InvalidDataException($"'{(email is { Length: > 60 } ? email[..60] + "..." : email)}' is not an e-mail address (local@domain)");
        if (top < 1 || top > MaxTop) throw new InvalidDataException($"top must be from 1 to {MaxTop}");
        // Stored to the millisecond: the acknowledged subscription is the one read back after a restart.
        return new LibrarySubscription(email, top, DateTimeOffset.FromUnixTimeMilliseconds(since.ToUnixTimeMilliseconds()));
    }
}
