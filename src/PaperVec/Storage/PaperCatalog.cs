using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;

namespace PaperVec.Storage;

/// <summary>
/// What the query path needs from the store, in memory (see <see cref="PaperSummary"/> for why): a
/// summary per paper, the source-id aliases, the title aliases of retitled papers, the digests and
/// the readers' libraries; id resolution and the recommender's bottom-k sample read them.
/// It is derived data: <see cref="PaperDatabase"/> fills it from the store at recovery and applies
/// each durable write to it in log order, after the store, so it never shows what is not durable.
/// </summary>
public sealed class PaperCatalog
{
    readonly ConcurrentDictionary<long, PaperSummary> _summaries = new();
    readonly ConcurrentDictionary<string, long> _aliases = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<long, long> _titleAliases = new();
    readonly ConcurrentDictionary<string, DigestRecord> _digests = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, ReaderLibrary> _libraries = new(StringComparer.Ordinal);

    internal PaperCatalog() { }

    /// <summary>Papers in the catalog (the store's papers once recovery finished).</summary>
    public int Count => _summaries.Count;

    /// <summary>Whether <paramref name="key"/> is a stored paper.</summary>
    public bool Contains(long key) => _summaries.ContainsKey(key);

    /// <summary>Every stored paper's key (a live view: writes applied meanwhile may show).</summary>
    public ICollection<long> Keys => _summaries.Keys;

    public long? KeyOfSourceId(string sourceId) => _aliases.TryGetValue(sourceId, out long key) ? key : null;

    /// <summary>
    /// The stored paper a title names: the paper keyed by it, else the paper that was retitled to
    /// it (a title alias), else null.
    /// </summary>
    public long? KeyOfTitle(long titleKey) =>
        _summaries.ContainsKey(titleKey) ? titleKey : _titleAliases.TryGetValue(titleKey, out long key) && _summaries.ContainsKey(key) ? key : null;

    /// <summary>Every source id that names <paramref name="key"/>.</summary>
    public List<string> SourceIdsOf(long key) => _aliases.Where(a => a.Value == key).Select(a => a.Key).ToList();

    /// <summary>Every (source id, paper key) alias, for checks.</summary>
    public IReadOnlyDictionary<string, long> SourceIdAliases => _aliases;

    /// <summary>Every (title key, paper key) title alias, for checks and deletes.</summary>
    public IReadOnlyDictionary<long, long> TitleAliases => _titleAliases;

    /// <summary>The paper's key by PaperVec id or source id (an arXiv id also in its prefixed, versioned or URL forms), from memory (null when no such paper is stored).</summary>
    public long? ResolveId(string id)
    {
        if (PaperIdentity.TryParse(id, out long key) && _summaries.ContainsKey(key)) return key;
        if (KeyOfSourceId(id) is long aliased && _summaries.ContainsKey(aliased)) return aliased;
        // arXiv:2503.11677, 2503.11677v2, https://arxiv.org/abs/2503.11677: the same paper as the record id 2503.11677.
        foreach (var form in ArxivIdForms.Candidates(id))
            if (KeyOfSourceId(form) is long byForm && _summaries.ContainsKey(byForm)) return byForm;
        return null;
    }

    /// <summary>Title, first-seen date and snippet of a stored paper, from memory: what search results show.</summary>
    public PaperSummary? Summary(long key) => _summaries.TryGetValue(key, out var summary) ? summary : null;

    /// <summary>When a paper was first seen (for date filters on the search path), from memory.</summary>
    public DateOnly? FirstSeen(long key) => _summaries.TryGetValue(key, out var summary) ? summary.FirstSeen : null;

    /// <summary>An ingested digest, from memory (digests are few: one a day per source).</summary>
    public DigestRecord? GetDigest(string id) => _digests.TryGetValue(id, out var digest) ? digest : null;

    /// <summary>Every ingested digest, oldest first, from memory.</summary>
    public List<DigestRecord> Digests() =>
        _digests.Values.OrderBy(d => d.Date).ThenBy(d => d.Id, StringComparer.Ordinal).ToList();

    /// <summary>A reader's library by name, from memory (null when there is none).</summary>
    public ReaderLibrary? GetLibrary(string name) => _libraries.TryGetValue(name, out var library) ? library : null;

    /// <summary>Every reader's library, by name.</summary>
    public List<ReaderLibrary> Libraries() => _libraries.Values.OrderBy(l => l.Name, StringComparer.Ordinal).ToList();

    /// <summary>
    /// Up to <paramref name="count"/> stored paper keys drawn at random, none of <paramref name="excluded"/>:
    /// the keys with the smallest seeded hash (a bottom-k sample), so the same seed and papers give the
    /// same sample whatever order memory holds them in, in one pass without sorting.
    /// </summary>
    public List<long> SampleKeys(int count, int seed, IReadOnlySet<long>? excluded = null)
    {
        var largest = new PriorityQueue<long, ulong>(count + 1, Comparer<ulong>.Create((a, b) => b.CompareTo(a)));
        foreach (long key in _summaries.Keys)
        {
            if (excluded?.Contains(key) == true) continue;
            ulong hash = SampleHash(key, seed);
            if (largest.Count < count) largest.Enqueue(key, hash);
            else if (largest.TryPeek(out _, out ulong top) && hash < top) largest.EnqueueDequeue(key, hash);
        }
        var sample = new List<long>(largest.Count);
        while (largest.TryDequeue(out long key, out _)) sample.Add(key);
        sample.Reverse();
        return sample;
    }

    /// <summary>
    /// The seeded hash <see cref="SampleKeys"/> orders papers by (smallest first): a cluster merges its
    /// shards' samples by it into the sample one node would draw.
    /// </summary>
    public static ulong SampleHash(long key, int seed)
    {
        ulong z = (ulong)key ^ (ulong)(uint)seed * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL; // SplitMix64's finaliser
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    // ---- kept in step by the durable core -------------------------------------------------------

    internal void Clear()
    {
        _summaries.Clear();
        _aliases.Clear();
        _titleAliases.Clear();
        _digests.Clear();
        _libraries.Clear();
    }

    /// <summary>The record prefixes the catalog is rebuilt from at recovery.</summary>
    internal static readonly byte[] Prefixes = [PaperDatabase.PaperPrefix, PaperDatabase.AliasPrefix, PaperDatabase.TitleAliasPrefix, PaperDatabase.DigestPrefix, PaperDatabase.LibraryPrefix];

    /// <summary>One stored record of <see cref="Prefixes"/>, read at recovery (its checksum already verified by the store).</summary>
    internal void Load(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        switch (key[0])
        {
            case PaperDatabase.LibraryPrefix:
                var library = RecordCodec.ReadLibrary(value);
                _libraries[library.Name] = library;
                break;
            case PaperDatabase.DigestPrefix:
                var digest = RecordCodec.ReadDigest(value);
                _digests[digest.Id] = digest;
                break;
            case PaperDatabase.AliasPrefix:
                _aliases[Encoding.UTF8.GetString(key[1..])] = BinaryPrimitives.ReadInt64LittleEndian(value);
                break;
            case PaperDatabase.TitleAliasPrefix:
                _titleAliases[BinaryPrimitives.ReadInt64LittleEndian(key[1..])] = BinaryPrimitives.ReadInt64LittleEndian(value);
                break;
            default:
                var summary = RecordCodec.ReadPaperSummary(value);
                _summaries[summary.Key] = summary;
                break;
        }
    }

    /// <summary>One change of a durable write, applied after the store took it (log order).</summary>
    internal void Apply(in WriteBatch.Change change)
    {
        switch (change.Kind)
        {
            case WriteBatch.Kind.PutPaper: _summaries[change.Key] = PaperSummary.Of(change.Paper!); break;
            case WriteBatch.Kind.DeletePaper: _summaries.TryRemove(change.Key, out _); break;
            case WriteBatch.Kind.PutAlias: _aliases[change.Alias!] = change.Key; break;
            case WriteBatch.Kind.DeleteAlias: _aliases.TryRemove(change.Alias!, out _); break;
            case WriteBatch.Kind.PutTitleAlias: _titleAliases[change.TitleKey] = change.Key; break;
            case WriteBatch.Kind.DeleteTitleAlias: _titleAliases.TryRemove(change.TitleKey, out _); break;
            case WriteBatch.Kind.PutDigest: _digests[change.Digest!.Id] = change.Digest; break;
            case WriteBatch.Kind.DeleteDigest: _digests.TryRemove(change.Alias!, out _); break;
            case WriteBatch.Kind.PutLibrary: _libraries[change.Library!.Name] = change.Library; break;
            case WriteBatch.Kind.DeleteLibrary: _libraries.TryRemove(change.Alias!, out _); break;
        }
    }
}
