using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace PaperVec.Storage;

/// <summary>
/// A paper's stable identity: the 64-bit key of its normalized title (Unicode NFKC, case-folded,
/// punctuation and whitespace collapsed to single spaces). Shown to users as 16 hex digits.
/// A source id (an arXiv id, say) is kept as an alias of the key, so a retitled paper with the
/// same source id stays the same paper.
/// </summary>
public static class PaperIdentity
{
    public static string NormalizeTitle(string title)
    {
        string folded = title.Normalize(NormalizationForm.FormKC).ToLowerInvariant().Replace("ß", "ss");
        var sb = new StringBuilder(folded.Length);
        bool pendingSpace = false;
        foreach (var rune in folded.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            bool keep = Rune.IsLetterOrDigit(rune) || category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
                or UnicodeCategory.MathSymbol or UnicodeCategory.OtherSymbol;
            if (!keep) { pendingSpace = sb.Length > 0; continue; }
            if (pendingSpace) { sb.Append(' '); pendingSpace = false; }
            sb.Append(rune.ToString());
        }
        return sb.ToString();
    }

    /// <summary>The key of a title: the first 8 bytes of SHA-256 of its normalized form, never 0.</summary>
    public static long KeyOfTitle(string title)
    {
        string normalized = NormalizeTitle(title);
        if (normalized.Length == 0) throw new ArgumentException("a paper needs a title with at least one letter or digit");
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(normalized), hash);
        long key = BinaryPrimitives.ReadInt64BigEndian(hash) & long.MaxValue;
        return key == 0 ? 1 : key;
    }

    /// <summary>
    /// A listing's text fingerprint: normalized title and whitespace-collapsed abstract, so re-wrapping
    /// or re-spacing a digest does not count as a revision. Never 0 (0 means unknown).
    /// </summary>
    public static ulong TextHash(string title, string abstractText)
    {
        string text = NormalizeTitle(title) + "\n" + CollapseWhitespace(abstractText);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        ulong value = BinaryPrimitives.ReadUInt64BigEndian(hash);
        return value == 0 ? 1 : value;
    }

    public static string CollapseWhitespace(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    public static string Format(long key) => key.ToString("x16");

    public static bool TryParse(string text, out long key)
    {
        key = 0;
        return text.Length == 16 && long.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out key) && key > 0;
    }
}
