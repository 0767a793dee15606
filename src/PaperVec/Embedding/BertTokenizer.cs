using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PaperVec.Embedding;

/// <summary>
/// BERT WordPiece tokenizer giving the same ids as Hugging Face tokenizers for a tokenizer.json with
/// a BertNormalizer (clean text, CJK split, strip accents, lowercase), BertPreTokenizer and WordPiece
/// model. Steps, in Hugging Face's order:
///  1. added special tokens ([CLS], [MASK], ...) are matched verbatim in the raw text;
///  2. normalize: drop NUL, U+FFFD and control/format/private/unassigned chars, whitespace to ' ',
///     pad CJK ideographs with spaces, NFD and drop non-spacing marks, lowercase each char;
///  3. split on whitespace and isolate each punctuation char;
///  4. greedy longest-match WordPiece with "##" continuations; [UNK] for a word over 100 chars or
///     one with an unmatched piece;
///  5. [CLS] ... [SEP], truncated to <see cref="MaxTokens"/> in all.
/// Encoding into a caller's span allocates nothing per token: vocabulary lookups are by span, the
/// BMP normalization is a precomputed table, and the scratch buffer is pooled.
/// </summary>
public sealed class BertTokenizer
{
    /// <summary>The model's trained maximum sequence length, special tokens included.</summary>
    public const int DefaultMaxTokens = 256;
    const int MaxCharsPerWord = 100;

    // Per-BMP-char normalization: kind, and for Kind.Mapped the single output char.
    enum Kind : byte { Mapped, Removed, Space, Ideograph, Expanded }

    readonly Dictionary<string, int> _words, _continuations;
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _wordLookup, _continuationLookup;
    readonly (string Text, int Id)[] _specialTokens;
    readonly Kind[] _kinds = new Kind[65536];
    readonly char[] _mapped = new char[65536];
    readonly Dictionary<int, string> _expanded = [];
    static readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> AstralCache = new();

    public int ClsId { get; }
    public int SepId { get; }
    public int PadId { get; }
    public int UnkId { get; }
    public int MaxTokens { get; }
    public int VocabSize => _words.Count + _continuations.Count;

    public BertTokenizer(IReadOnlyDictionary<string, int> vocab, IEnumerable<(string Text, int Id)> specialTokens, int maxTokens = DefaultMaxTokens)
    {
        if (maxTokens < 2) throw new ArgumentOutOfRangeException(nameof(maxTokens), "room is needed for [CLS] and [SEP]");
        _words = new(StringComparer.Ordinal);
        _continuations = new(StringComparer.Ordinal);
        foreach (var (token, id) in vocab)
        {
            if (token.StartsWith("##", StringComparison.Ordinal)) _continuations[token[2..]] = id;
            else _words[token] = id;
        }
        _wordLookup = _words.GetAlternateLookup<ReadOnlySpan<char>>();
        _continuationLookup = _continuations.GetAlternateLookup<ReadOnlySpan<char>>();
        // Longest first, so that one special token that prefixes another cannot shadow it.
        _specialTokens = specialTokens.OrderByDescending(t => t.Text.Length).ToArray();
        int Id(string token) => vocab.TryGetValue(token, out int id) ? id : throw new InvalidDataException($"vocabulary has no {token}");
        ClsId = Id("[CLS]");
        SepId = Id("[SEP]");
        PadId = Id("[PAD]");
        UnkId = Id("[UNK]");
        MaxTokens = maxTokens;
        BuildBmpTable();
    }

    /// <summary>Loads the vocabulary and special tokens of a Hugging Face tokenizer.json.</summary>
    public static BertTokenizer Load(string tokenizerJsonPath, int maxTokens = DefaultMaxTokens)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(tokenizerJsonPath));
        var root = doc.RootElement;
        var model = root.GetProperty("model");
        if (model.GetProperty("type").GetString() != "WordPiece")
            throw new InvalidDataException($"{tokenizerJsonPath}: not a WordPiece tokenizer");
        var normalizer = root.GetProperty("normalizer");
        if (normalizer.GetProperty("type").GetString() != "BertNormalizer" || !normalizer.GetProperty("lowercase").GetBoolean())
            throw new InvalidDataException($"{tokenizerJsonPath}: only a lowercasing BertNormalizer is supported");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in model.GetProperty("vocab").EnumerateObject()) vocab[entry.Name] = entry.Value.GetInt32();
        var special = new List<(string, int)>();
        if (root.TryGetProperty("added_tokens", out var added))
            foreach (var token in added.EnumerateArray())
                special.Add((token.GetProperty("content").GetString()!, token.GetProperty("id").GetInt32()));
        return new BertTokenizer(vocab, special, maxTokens);
    }

    /// <summary>Ids of <paramref name="text"/> with [CLS] and [SEP], truncated to <see cref="MaxTokens"/>.</summary>
    public int[] Encode(string text) => Encode(text, MaxTokens);

    public int[] Encode(string text, int maxTokens)
    {
        var buffer = ArrayPool<int>.Shared.Rent(Math.Min(maxTokens, text.Length * 2 + 4));
        try
        {
            int count = Encode(text, buffer, maxTokens);
            return buffer.AsSpan(0, count).ToArray();
        }
        finally { ArrayPool<int>.Shared.Return(buffer); }
    }

    /// <summary>Writes the ids into <paramref name="ids"/> (which must hold min(maxTokens, 2 chars per input char + 2)) and returns how many.</summary>
    public int Encode(ReadOnlySpan<char> text, Span<int> ids, int maxTokens)
    {
        if (maxTokens < 2) throw new ArgumentOutOfRangeException(nameof(maxTokens));
        int limit = Math.Min(maxTokens, ids.Length) - 1; // keep one slot for [SEP]
        int count = 0;
        ids[count++] = ClsId;
        char[] scratch = ArrayPool<char>.Shared.Rent(Math.Max(16, text.Length * 3 + 8));
        try
        {
            while (text.Length > 0 && count < limit)
            {
                int specialAt = FindSpecialToken(text, out int specialId, out int specialLength);
                var plain = specialAt < 0 ? text : text[..specialAt];
                if (!plain.IsEmpty)
                {
                    int normalized = Normalize(plain, ref scratch);
                    count = AddWords(scratch.AsSpan(0, normalized), ids, count, limit);
                }
                if (specialAt < 0) break;
                if (count < limit) ids[count++] = specialId;
                text = text[(specialAt + specialLength)..];
            }
        }
        finally { ArrayPool<char>.Shared.Return(scratch); }
        ids[count++] = SepId;
        return count;
    }

    /// <summary>Number of tokens, [CLS] and [SEP] included, before truncation is applied at <paramref name="maxTokens"/>.</summary>
    public int CountTokens(string text, int maxTokens = int.MaxValue)
    {
        var buffer = ArrayPool<int>.Shared.Rent(Math.Min(maxTokens, text.Length * 2 + 4));
        try { return Encode(text, buffer, maxTokens); }
        finally { ArrayPool<int>.Shared.Return(buffer); }
    }

    int FindSpecialToken(ReadOnlySpan<char> text, out int id, out int length)
    {
        int searchFrom = 0;
        while (true)
        {
            int at = text[searchFrom..].IndexOf('[');
            if (at < 0 || _specialTokens.Length == 0) { id = length = 0; return -1; }
            at += searchFrom;
            foreach (var (token, tokenId) in _specialTokens)
            {
                if (text[at..].StartsWith(token, StringComparison.Ordinal))
                {
                    id = tokenId;
                    length = token.Length;
                    return at;
                }
            }
            searchFrom = at + 1;
        }
    }

    // Writes the normalized text into scratch (grown if needed) and returns its length.
    int Normalize(ReadOnlySpan<char> text, ref char[] scratch)
    {
        int n = 0;
        for (int i = 0; i < text.Length;)
        {
            if (scratch.Length - n < 8) Grow(ref scratch, n);
            char c = text[i];
            if (!char.IsSurrogate(c))
            {
                i++;
                switch (_kinds[c])
                {
                    case Kind.Mapped: scratch[n++] = _mapped[c]; break;
                    case Kind.Removed: break;
                    case Kind.Space: scratch[n++] = ' '; break;
                    case Kind.Ideograph: scratch[n++] = ' '; scratch[n++] = _mapped[c]; scratch[n++] = ' '; break;
                    case Kind.Expanded: n = Append(_expanded[c], ref scratch, n); break;
                }
                continue;
            }
            // Outside the BMP (or a lone surrogate, which becomes U+FFFD and is dropped).
            Rune.DecodeFromUtf16(text[i..], out Rune rune, out int consumed);
            i += consumed;
            n = Append(AstralCache.GetOrAdd(rune.Value, NormalizeRune), ref scratch, n);
        }
        return n;
    }

    static int Append(string s, ref char[] scratch, int n)
    {
        if (scratch.Length - n < s.Length) Grow(ref scratch, n, s.Length);
        s.CopyTo(scratch.AsSpan(n));
        return n + s.Length;
    }

    static void Grow(ref char[] scratch, int used, int extra = 8)
    {
        var bigger = ArrayPool<char>.Shared.Rent(Math.Max(scratch.Length * 2, used + extra + 8));
        scratch.AsSpan(0, used).CopyTo(bigger);
        ArrayPool<char>.Shared.Return(scratch);
        scratch = bigger;
    }

    // Splits on spaces, isolates punctuation and appends each word's WordPiece ids.
    int AddWords(ReadOnlySpan<char> normalized, Span<int> ids, int count, int limit)
    {
        int start = 0;
        for (int i = 0; i <= normalized.Length && count < limit;)
        {
            if (i == normalized.Length) { count = AddWordPieces(normalized[start..i], ids, count, limit); break; }
            int width = char.IsHighSurrogate(normalized[i]) && i + 1 < normalized.Length ? 2 : 1;
            int cp = width == 2 ? char.ConvertToUtf32(normalized[i], normalized[i + 1]) : normalized[i];
            if (IsWhitespace(cp))
            {
                count = AddWordPieces(normalized[start..i], ids, count, limit);
                start = i + width;
            }
            else if (IsPunctuation(cp))
            {
                count = AddWordPieces(normalized[start..i], ids, count, limit);
                count = AddWordPieces(normalized.Slice(i, width), ids, count, limit);
                start = i + width;
            }
            i += width;
        }
        return count;
    }

    int AddWordPieces(ReadOnlySpan<char> word, Span<int> ids, int count, int limit)
    {
        if (word.IsEmpty || count >= limit) return count;
        int runes = 0;
        foreach (var _ in word.EnumerateRunes()) if (++runes > MaxCharsPerWord) break;
        if (runes > MaxCharsPerWord) { ids[count++] = UnkId; return count; }

        int first = count;
        for (int start = 0; start < word.Length;)
        {
            int end = word.Length, id = -1;
            var lookup = start == 0 ? _wordLookup : _continuationLookup;
            while (end > start)
            {
                if (lookup.TryGetValue(word[start..end], out id)) break;
                end--;
                if (end > start && char.IsLowSurrogate(word[end]) && char.IsHighSurrogate(word[end - 1])) end--;
                id = -1;
            }
            if (id < 0) { ids[first] = UnkId; return first + 1; }
            // Pieces past the limit are dropped, as truncation would drop them.
            if (count < limit) ids[count++] = id;
            start = end;
        }
        return count;
    }

    static bool IsWhitespace(int cp) => cp is ' ' or '\t' or '\n' or '\r' || (cp > 127 && Rune.IsWhiteSpace(new Rune(cp)));

    // BERT's punctuation: all ASCII non-alphanumeric printable symbols, plus Unicode P* categories.
    static bool IsPunctuation(int cp)
    {
        if (cp is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126) return true;
        if (cp < 128) return false;
        return CharUnicodeInfo.GetUnicodeCategory(cp) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    // Characters the cleanup step deletes: NUL, U+FFFD, control, format, private-use and surrogate
    // code points except \t \n \r. Unassigned code points and noncharacters are kept, as in Hugging Face.
    static bool IsRemoved(int cp)
    {
        if (cp is 0 or 0xFFFD) return true;
        if (cp is '\t' or '\n' or '\r') return false;
        return CharUnicodeInfo.GetUnicodeCategory(cp) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;
    }

    // BERT's "Chinese character" blocks: CJK Unified Ideographs, extensions and compatibility ideographs.
    static bool IsIdeograph(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F or >= 0x2B920 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;

    // The normalized form of one code point, as a string: "" removed, " " whitespace.
    static string NormalizeRune(int cp)
    {
        if (IsRemoved(cp)) return "";
        if (IsWhitespace(cp)) return " ";
        string s = char.ConvertFromUtf32(cp);
        string decomposed;
        try { decomposed = s.IsNormalized(NormalizationForm.FormD) ? s : s.Normalize(NormalizationForm.FormD); }
        catch (ArgumentException) { decomposed = s; } // unassigned or noncharacter: no decomposition, kept as is
        var sb = new StringBuilder(decomposed.Length + 2);
        foreach (var rune in decomposed.EnumerateRunes())
        {
            if (Rune.GetUnicodeCategory(rune) == UnicodeCategory.NonSpacingMark) continue;
            sb.Append(Rune.ToLowerInvariant(rune).ToString());
        }
        string result = sb.ToString();
        return IsIdeograph(cp) ? $" {result} " : result;
    }

    void BuildBmpTable()
    {
        for (int c = 0; c < 65536; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF) { _kinds[c] = Kind.Removed; continue; }
            string normalized = NormalizeRune(c);
            if (normalized.Length == 0) _kinds[c] = Kind.Removed;
            else if (normalized == " ") _kinds[c] = Kind.Space;
            else if (IsIdeograph(c) && normalized.Length == 3) { _kinds[c] = Kind.Ideograph; _mapped[c] = normalized[1]; }
            else if (normalized.Length == 1) { _kinds[c] = Kind.Mapped; _mapped[c] = normalized[0]; }
            else { _kinds[c] = Kind.Expanded; _expanded[c] = normalized; }
        }
    }
}
