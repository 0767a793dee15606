using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using PaperVec.Ingest;
using PaperVec.Duplicates;
using PaperVec.Storage;

namespace PaperVec.Bench.Evaluation;

/// <summary>One generated listing: the text a digest shows and the work (corpus paper) it really is.</summary>
public sealed record GeneratedListing(string Title, string Abstract, string WorkId);

/// <summary>A generated daily digest, renderable in the format users receive.</summary>
public sealed record GeneratedDigest(string Name, DateOnly Date, IReadOnlyList<GeneratedListing> Listings)
{
    /// <summary>The digest's text: header lines, the date line, then title / blank / abstract hard-wrapped at ~80 columns.</summary>
    public string ToText()
    {
        var sb = new StringBuilder("new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nbyAK and the research community\n\n");
        sb.Append(Date.ToString("MMM d, yyyy", CultureInfo.InvariantCulture)).Append("\n\n");
        foreach (var l in Listings)
        {
            sb.Append(l.Title).Append("\n\n");
            int column = 0;
            foreach (var word in l.Abstract.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (column > 0 && column + word.Length > 80) { sb.Append('\n'); column = 0; }
                else if (column > 0) { sb.Append(' '); column++; }
                sb.Append(word);
                column += word.Length;
            }
            sb.Append("\n\n");
        }
        return sb.ToString();
    }
}

public sealed record DuplicateDigestSetOptions
{
    public int Digests { get; init; } = 10;
    public int PapersPerDigest { get; init; } = 40;
    /// <summary>Share of each later digest's listings that are earlier papers again (verbatim, revised or retitled, in equal parts).</summary>
    public double ReappearShare { get; init; } = 0.2;
    /// <summary>Share of each later digest's listings that are new papers on the topic of an earlier one (the hard negatives).</summary>
    public double SameTopicShare { get; init; } = 0.3;
    public int Seed { get; init; } = 1;
    public DateOnly FirstDate { get; init; } = new(2025, 4, 1);
}

/// <summary>
/// Builds an evaluation set for duplicate detection from real abstracts: digests on consecutive days in
/// which some earlier papers reappear verbatim, with a revised abstract (a sentence dropped or added,
/// numbers changed) or under a reworded title, mixed with unrelated papers and papers that share a
/// topic (and title words) with an earlier one. The truth is each listing's work id.
/// </summary>
public static class DuplicateDigestSet
{
    public static List<GeneratedDigest> Generate(IReadOnlyList<IncomingPaper> corpus, DuplicateDigestSetOptions options)
    {
        var random = new Random(options.Seed);
        // Texts as a digest shows them: whitespace collapsed (the parser trims and joins lines).
        var pool = corpus.Select(p => p with { Title = PaperIdentity.CollapseWhitespace(p.Title), Abstract = PaperIdentity.CollapseWhitespace(p.Abstract) })
            .Where(p => p.Abstract.Length > 200 && PaperIdentity.NormalizeTitle(p.Title).Length > 0)
            .DistinctBy(p => PaperIdentity.NormalizeTitle(p.Title)).ToList();
        Shuffle(pool, random);
        var topics = new TopicNeighbours(pool);
        // The corpus itself holds a few near-copies: two arXiv ids by the same authors sharing many sentences
        // (e.g. 2510.25378 / 2511.08877). Whether those are one work is unknown, so they are neither fresh
        // papers nor negatives here. Authorship, which the finder never looks at, is what singles them out.
        var used = NearCopiesInCorpus(pool, topics);
        int nextFresh = 0;
        int Fresh()
        {
            while (used.Contains(nextFresh)) nextFresh++;
            if (nextFresh >= pool.Count) throw new ArgumentException("the corpus is too small for this many digests");
            used.Add(nextFresh);
            return nextFresh;
        }

        var latest = new Dictionary<int, GeneratedListing>(); // work -> its latest listed text
        var digests = new List<GeneratedDigest>();
        for (int d = 0; d < options.Digests; d++)
        {
            var listings = new List<GeneratedListing>();
            var inThisDigest = new HashSet<int>();
            int reappear = d == 0 ? 0 : (int)Math.Round(options.PapersPerDigest * options.ReappearShare);
            int sameTopic = d == 0 ? 0 : (int)Math.Round(options.PapersPerDigest * options.SameTopicShare);
            var earlier = latest.Keys.ToList();
            for (int i = 0; i < reappear && earlier.Count > 0; i++)
            {
                int work = earlier[random.Next(earlier.Count)];
                if (!inThisDigest.Add(work)) continue;
                var previous = latest[work];
                var listing = (i % 3) switch
                {
                    0 => previous,
                    1 => previous with { Abstract = Revise(previous.Abstract, random) },
                    _ => previous with { Title = Retitle(previous.Title, random), Abstract = random.Next(2) == 0 ? previous.Abstract : Revise(previous.Abstract, random) },
                };
                listings.Add(listing);
                latest[work] = listing;
            }
            for (int i = 0; i < sameTopic && earlier.Count > 0; i++)
            {
                int anchor = earlier[random.Next(earlier.Count)];
                int? neighbour = topics.Nearest(anchor, used);
                if (neighbour is not int n) continue;
                used.Add(n);
                inThisDigest.Add(n);
                listings.Add(Listing(pool, n));
                latest[n] = listings[^1];
            }
            while (listings.Count < options.PapersPerDigest)
            {
                int n = Fresh();
                inThisDigest.Add(n);
                listings.Add(Listing(pool, n));
                latest[n] = listings[^1];
            }
            Shuffle(listings, random);
            digests.Add(new GeneratedDigest($"generated-{d + 1:000}", options.FirstDate.AddDays(d), listings));
        }
        return digests;
    }

    /// <summary>Corpus papers with the same authors as one of their topic neighbours and a quarter of its word shingles or more (the later of each pair).</summary>
    static HashSet<int> NearCopiesInCorpus(List<IncomingPaper> pool, TopicNeighbours topics)
    {
        var shingles = new ulong[pool.Count][];
        ulong[] Shingles(int i) => shingles[i] ??= Duplicates.LexicalSimilarity.ShinglesOf(pool[i].Title, pool[i].Abstract);
        var nearCopies = new HashSet<int>();
        for (int i = 0; i < pool.Count; i++)
            foreach (int j in topics.Nearest(i, 3))
                if (j > i && pool[i].Authors is { Length: > 0 } authors && authors == pool[j].Authors
                    && Duplicates.LexicalSimilarity.Jaccard(Shingles(i), Shingles(j)) >= 0.25)
                    nearCopies.Add(j);
        return nearCopies;
    }

    static GeneratedListing Listing(List<IncomingPaper> pool, int i) => new(pool[i].Title, pool[i].Abstract, pool[i].SourceId ?? $"work-{i}");

    /// <summary>The kind two listings of the same work have to each other.</summary>
    public static DuplicateKind KindBetween(GeneratedListing a, GeneratedListing b) =>
        PaperIdentity.NormalizeTitle(a.Title) != PaperIdentity.NormalizeTitle(b.Title) ? DuplicateKind.Retitled
        : PaperIdentity.TextHash(a.Title, a.Abstract) != PaperIdentity.TextHash(b.Title, b.Abstract) ? DuplicateKind.Revised
        : DuplicateKind.Exact;

    // ---- revisions ---------------------------------------------------------------------------

    static readonly string[] AddedSentences =
    [
        "Code and data are publicly available.",
        "We also release an extended benchmark to support future research.",
        "Extensive ablation studies confirm the contribution of each component.",
        "This version corrects an error in the experimental section.",
        "Our results hold across three additional datasets.",
        "We further discuss the limitations of the approach and directions for future work.",
    ];

    static readonly Regex SentenceEnd = new(@"(?<=[.!?])\s+(?=[A-Z])", RegexOptions.Compiled);
    static readonly Regex Number = new(@"\b\d+(\.\d+)?\b", RegexOptions.Compiled);

    /// <summary>A v2 abstract: one or two of: a sentence dropped, a sentence added, the numbers changed.</summary>
    public static string Revise(string abstractText, Random random)
    {
        var sentences = SentenceEnd.Split(abstractText).ToList();
        int edits = 1 + random.Next(2);
        string before = abstractText;
        for (int e = 0; e < edits; e++)
        {
            switch (random.Next(3))
            {
                case 0 when sentences.Count >= 3:
                    sentences.RemoveAt(1 + random.Next(sentences.Count - 1));
                    break;
                case 1 when Number.IsMatch(string.Join(' ', sentences)):
                    sentences = sentences.Select(s => Number.Replace(s, m => ChangeNumber(m.Value, random))).ToList();
                    break;
                default:
                    sentences.Insert(1 + random.Next(sentences.Count), AddedSentences[random.Next(AddedSentences.Length)]);
                    break;
            }
        }
        string revised = PaperIdentity.CollapseWhitespace(string.Join(' ', sentences));
        return revised == before ? revised + " " + AddedSentences[0] : revised;
    }

    static string ChangeNumber(string number, Random random)
    {
        if (number.Contains('.'))
        {
            double value = double.Parse(number, CultureInfo.InvariantCulture) + 0.1 * (1 + random.Next(9));
            int decimals = number.Length - number.IndexOf('.') - 1;
            return value.ToString("F" + decimals, CultureInfo.InvariantCulture);
        }
        return (long.Parse(number, CultureInfo.InvariantCulture) + 1 + random.Next(9)).ToString(CultureInfo.InvariantCulture);
    }

    static readonly (string From, string To)[] Synonyms =
    [
        ("approach", "method"), ("method", "technique"), ("novel", "new"), ("using", "with"), ("via", "through"),
        ("towards", "toward"), ("framework", "system"), ("efficient", "fast"), ("robust", "reliable"),
        ("large language models", "LLMs"), ("LLMs", "large language models"), ("analysis", "study"),
        ("improving", "enhancing"), ("enhancing", "improving"), ("evaluation", "assessment"), ("benchmark", "testbed"),
        ("learning", "training"), ("model", "architecture"), ("detection", "recognition"), ("generation", "synthesis"),
    ];

    static readonly string[] Prefixes = ["Towards ", "On ", "Revisiting ", "Rethinking "];

    /// <summary>A reworded title: subtitle and main title swapped or the name dropped, synonyms, or a new lead word.</summary>
    public static string Retitle(string title, Random random)
    {
        string result = title;
        int colon = title.IndexOf(": ", StringComparison.Ordinal);
        if (colon > 0 && random.Next(2) == 0)
        {
            string head = title[..colon], tail = title[(colon + 2)..];
            result = random.Next(2) == 0 ? $"{char.ToUpperInvariant(tail[0])}{tail[1..]}: {head}" : char.ToUpperInvariant(tail[0]) + tail[1..];
        }
        int replaced = 0;
        foreach (var (from, to) in Synonyms)
        {
            if (replaced >= 2) break;
            var pattern = new Regex($@"\b{Regex.Escape(from)}\b", RegexOptions.IgnoreCase);
            if (pattern.IsMatch(result) && random.Next(3) > 0)
            {
                result = pattern.Replace(result, to, 1);
                replaced++;
            }
        }
        if (PaperIdentity.NormalizeTitle(result) == PaperIdentity.NormalizeTitle(title) || random.Next(4) == 0)
            result = Prefixes[random.Next(Prefixes.Length)] + char.ToLowerInvariant(result[0]) + result[1..];
        return PaperIdentity.CollapseWhitespace(result);
    }

    static void Shuffle<T>(List<T> list, Random random)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }

    /// <summary>Papers whose titles and abstracts share the most rare words with a given one (IDF-weighted overlap).</summary>
    sealed class TopicNeighbours
    {
        readonly List<string[]> _words = [];
        readonly Dictionary<string, List<int>> _postings = [];

        public TopicNeighbours(List<IncomingPaper> pool)
        {
            foreach (var p in pool)
            {
                var words = PaperIdentity.NormalizeTitle(p.Title + " " + p.Abstract).Split(' ').Where(w => w.Length > 3).Distinct().ToArray();
                _words.Add(words);
            }
            for (int i = 0; i < _words.Count; i++)
                foreach (var w in _words[i])
                {
                    if (!_postings.TryGetValue(w, out var list)) _postings[w] = list = [];
                    list.Add(i);
                }
        }

        public int? Nearest(int anchor, HashSet<int> exclude) => Scores(anchor, exclude) is { Count: > 0 } scores ? scores.MaxBy(s => s.Value).Key : null;

        public IEnumerable<int> Nearest(int anchor, int count) => Scores(anchor, []).OrderByDescending(s => s.Value).Take(count).Select(s => s.Key);

        Dictionary<int, double> Scores(int anchor, HashSet<int> exclude)
        {
            // The anchor's 16 rarest words that some other paper shares say most about its topic.
            var scores = new Dictionary<int, double>();
            foreach (var w in _words[anchor].Where(w => _postings[w].Count > 1).OrderBy(w => _postings[w].Count).Take(16))
            {
                var list = _postings[w];
                double idf = Math.Log((double)_words.Count / list.Count);
                foreach (int other in list)
                    if (other != anchor && !exclude.Contains(other)) scores[other] = scores.GetValueOrDefault(other) + idf;
            }
            return scores;
        }
    }
}
