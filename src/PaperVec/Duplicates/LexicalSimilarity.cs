using PaperVec.Storage;

namespace PaperVec.Duplicates;

/// <summary>
/// Word-shingle Jaccard similarity: the share of 3-word sequences two texts have in common. Embeddings
/// say "same topic"; shingles say "same wording", which is what separates a revised or retitled copy of
/// a paper from a different paper on the same subject (Grad-CAM vs. Smooth Grad-CAM++ share a topic,
/// not sentences).
/// </summary>
public static class LexicalSimilarity
{
    public const int ShingleWords = 3;

    /// <summary>The sorted, distinct 64-bit hashes of the text's word 3-shingles (case- and punctuation-folded).</summary>
    public static ulong[] Shingles(string text)
    {
        var words = PaperIdentity.NormalizeTitle(text).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0) return [];
        int count = Math.Max(1, words.Length - ShingleWords + 1);
        var hashes = new ulong[count];
        for (int i = 0; i < count; i++)
        {
            ulong h = 14695981039346656037UL; // FNV-1a over the words of the shingle
            for (int w = i; w < Math.Min(words.Length, i + ShingleWords); w++)
            {
                foreach (char c in words[w]) h = (h ^ c) * 1099511628211UL;
                h = (h ^ ' ') * 1099511628211UL;
            }
            hashes[i] = h;
        }
        Array.Sort(hashes);
        int distinct = hashes.Length == 0 ? 0 : 1;
        for (int i = 1; i < hashes.Length; i++)
            if (hashes[i] != hashes[distinct - 1]) hashes[distinct++] = hashes[i];
        return hashes[..distinct];
    }

    /// <summary>|A ∩ B| / |A ∪ B| of two sorted distinct shingle sets; 0 when both are empty.</summary>
    public static double Jaccard(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        if (a.Length == 0 && b.Length == 0) return 0;
        int i = 0, j = 0, common = 0;
        while (i < a.Length && j < b.Length)
        {
            if (a[i] == b[j]) { common++; i++; j++; }
            else if (a[i] < b[j]) i++;
            else j++;
        }
        return (double)common / (a.Length + b.Length - common);
    }

    /// <summary>The text a paper is compared by: title and abstract together.</summary>
    public static ulong[] ShinglesOf(string title, string abstractText) => Shingles(title + " " + abstractText);
}
