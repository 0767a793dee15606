using System.Globalization;
using Lucene.Net.Analysis;
using Lucene.Net.Codecs;
using Lucene.Net.Analysis.En;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Lucene.Net.Util;
using Directory = Lucene.Net.Store.Directory;

namespace PaperVec.Lexical;

/// <summary>
/// BM25 over each paper's title and abstract, on Lucene.Net (.NET's full-text engine), kept in step
/// with the store by <see cref="Storage.PaperDatabase"/>: every applied write updates it, every
/// checkpoint commits it with the log sequence it covers (<see cref="CommittedSequence"/>), and
/// recovery replays the log from the checkpoint into it, or rebuilds it from the store when its
/// commit is missing, damaged or behind the checkpoint. Searches see applied writes through a
/// near-real-time reader refreshed on demand.
///
/// Analysis: Lucene's English analyzer (standard tokenizer, possessives, lower case, English stop
/// words, Porter stemming); BM25 with k1 = 0.9, b = 0.4. Both chosen by measurement on SciFact
/// (README, Search quality).
/// </summary>
public sealed class LexicalIndex : IDisposable
{
    const LuceneVersion Version = LuceneVersion.LUCENE_48;
    const string KeyTerm = "key", KeyValue = "keyv", Text = "text", SequenceData = "papervec.nextSequence";
    public const float K1 = 0.9f, B = 0.4f;

    readonly Directory _directory;
    // Query analysis outlives any one index (a rebuild swaps the index while queries are analysed); Lucene analyzers are thread-safe.
    static readonly Analyzer _analyzer = new EnglishAnalyzer(Version);
    readonly IndexWriter _writer;
    readonly SearcherManager _searchers;
    readonly Similarity _similarity = new BM25Similarity(K1, B);
    volatile bool _changed;

    public string Path { get; }

    LexicalIndex(string path, Directory directory, IndexWriter writer)
    {
        Path = path;
        _directory = directory;
        _writer = writer;
        _searchers = new SearcherManager(writer, applyAllDeletes: true, new SimilarityFactory(_similarity));
    }

    /// <summary>
    /// Opens (or creates) the index in <paramref name="path"/> after checking it (<see cref="Check"/>).
    /// An index that fails the check or that Lucene cannot open is named in <paramref name="damage"/>,
    /// its files are deleted and an empty index takes its place (it is derived: the caller rebuilds it
    /// from the store). papervec verify, which must not change it, reads it with <see cref="OpenReadOnly"/> instead.
    /// Throws only when the folder cannot be written at all (an I/O error).
    /// </summary>
    public static LexicalIndex Open(string path, out string? damage, Func<string, Directory>? directoryFactory = null)
    {
        damage = null;
        if (File.Exists(path))
        {
            damage = $"{path} is a file, not the lexical index's folder";
            File.Delete(path);
        }
        System.IO.Directory.CreateDirectory(path);
        var directory = directoryFactory?.Invoke(path) ?? FSDirectory.Open(path);
        try
        {
            damage ??= Check(directory);
            if (damage == null)
            {
                try { return new LexicalIndex(path, directory, NewWriter(directory, OpenMode.CREATE_OR_APPEND)); }
                catch (Exception e) { damage = $"Lucene cannot open it: {Describe(e)}"; }
            }
            // Nothing else may hold this folder (the data directory's own lock says so): the stale write lock goes too.
            Wipe(path);
            return new LexicalIndex(path, directory, NewWriter(directory, OpenMode.CREATE));
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>
    /// For papervec verify, which must not change the disk: reads the committed index in
    /// <paramref name="path"/> with a <see cref="DirectoryReader"/> only (no writer: no write.lock,
    /// no unreferenced file deleted), then works on a copy in memory, so replay and any rebuild
    /// happen there. An index Lucene cannot read is reported through <paramref name="damage"/> and
    /// replaced by an empty one in memory; a missing one is empty.
    /// </summary>
    public static LexicalIndex OpenReadOnly(string path, Action<string>? damage = null)
    {
        var memory = new RAMDirectory();
        if (System.IO.Directory.Exists(path) && System.IO.Directory.EnumerateFiles(path, "segments*").Any())
        {
            try
            {
                using var disk = FSDirectory.Open(path, NoLockFactory.GetNoLockFactory());
                using (var reader = DirectoryReader.Open(disk))
                {
                    // Only the files the commit names: leftovers of an unfinished write are not the index.
                    foreach (var file in reader.IndexCommit.FileNames)
                        disk.Copy(memory, file, file, IOContext.READ_ONCE);
                }
            }
            catch (Exception e) when (e is IOException or CorruptIndexException or IndexFormatTooOldException or IndexFormatTooNewException or ArgumentException or InvalidOperationException)
            {
                damage?.Invoke($"lexical index unreadable ({e.GetType().Name}: {e.Message.Split('\n')[0]}); it would be rebuilt from the store at the next start");
                memory.Dispose();
                memory = new RAMDirectory();
            }
        }
        return new LexicalIndex(path, memory, NewWriter(memory, OpenMode.CREATE_OR_APPEND));
    }

    /// <summary>An empty index in <paramref name="path"/>, whatever was there (its files deleted): where a rebuild starts.</summary>
    public static LexicalIndex OpenEmpty(string path, Func<string, Directory>? directoryFactory = null)
    {
        if (File.Exists(path)) File.Delete(path);
        System.IO.Directory.CreateDirectory(path);
        Wipe(path);
        var directory = directoryFactory?.Invoke(path) ?? FSDirectory.Open(path);
        try { return new LexicalIndex(path, directory, NewWriter(directory, OpenMode.CREATE)); }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>An index in memory only: stands in while the one on disk cannot be opened (its answers are not served).</summary>
    public static LexicalIndex InMemory()
    {
        var directory = new RAMDirectory();
        return new LexicalIndex("(memory)", directory, NewWriter(directory, OpenMode.CREATE));
    }

    static void Wipe(string path)
    {
        foreach (var file in System.IO.Directory.GetFiles(path)) File.Delete(file);
    }

    /// <summary>
    /// Read-only check of the last commit in <paramref name="path"/>: its commit point reads, and every
    /// file it names is whole and passes its CRC-32 footer (Lucene 4.8 writes one into every file).
    /// Null when sound or when there is no commit yet; else what is wrong, naming the file. Writes nothing.
    /// </summary>
    public static string? Check(string path)
    {
        if (File.Exists(path)) return $"{path} is a file, not the lexical index's folder";
        if (!System.IO.Directory.Exists(path)) return null;
        using var directory = FSDirectory.Open(path);
        return Check(directory);
    }

    static string? Check(Directory directory)
    {
        try
        {
            if (!DirectoryReader.IndexExists(directory)) return null;
        }
        catch (Exception e) { return $"its folder cannot be listed: {Describe(e)}"; }
        var commit = new SegmentInfos();
        try { commit.Read(directory); }
        catch (Exception e) { return $"its commit point (segments_N) cannot be read: {Describe(e)}"; }
        foreach (string file in commit.GetFiles(directory, includeSegmentsFile: true))
        {
            try
            {
                using var input = directory.OpenInput(file, IOContext.READ_ONCE);
                if (input.Length < CodecUtil.FooterLength()) return $"{file} is cut short ({input.Length} bytes)";
                CodecUtil.ChecksumEntireFile(input);
            }
            catch (FileNotFoundException) { return $"{file} is missing"; }
            catch (Exception e) when (e is EndOfStreamException or ArgumentException) { return $"{file} is cut short or damaged"; }
            catch (Exception e) { return $"{file} fails its checksum ({Describe(e)})"; }
        }
        return null;
    }

    /// <summary>An exception's type and first line, for one-line reports.</summary>
    internal static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message.Split('\n')[0].Trim()}";

    static IndexWriter NewWriter(Directory directory, OpenMode mode) =>
        new(directory, new IndexWriterConfig(Version, new EnglishAnalyzer(Version))
        {
            OpenMode = mode,
            Similarity = new BM25Similarity(K1, B),
            // Segments reach disk at checkpoints and near-real-time refreshes, not in the middle of an applied write.
            RAMBufferSizeMB = 64,
        });

    /// <summary>The log sequence the last commit covers (everything before it is in the index), or null when never committed.</summary>
    public long? CommittedSequence =>
        _writer.CommitData.TryGetValue(SequenceData, out var text) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value : null;

    /// <summary>Papers indexed, counting writes not yet committed (through a refreshed reader: the writer's own count misses buffered deletes).</summary>
    public int Count
    {
        get
        {
            RefreshIfChanged();
            var searcher = _searchers.Acquire();
            try { return searcher.IndexReader.NumDocs; }
            finally { _searchers.Release(searcher); }
        }
    }

    void RefreshIfChanged()
    {
        if (!_changed) return;
        _changed = false;
        _searchers.MaybeRefreshBlocking();
    }

    // Serialises changes with a rebuild's scan: while one runs, _touched holds the keys the write
    // path changed since it began, and the scan never overwrites them with what it read before.
    readonly object _gate = new();
    HashSet<long>? _touched;

    /// <summary>
    /// The text field keeps each paper's term vector (terms, frequencies, positions) beside its postings:
    /// the recommender's tf-idf vectors read it instead of analysing the text again, and it is written,
    /// checksummed, committed, replayed after a crash and rebuilt with the rest of the index.
    /// </summary>
    static readonly FieldType TextWithVectors = NewTextType();

    static FieldType NewTextType()
    {
        var type = new FieldType(TextField.TYPE_NOT_STORED) { StoreTermVectors = true, StoreTermVectorPositions = true };
        type.Freeze();
        return type;
    }

    static Document NewDocument(long key, string title, string abstractText) => new()
    {
        new StringField(KeyTerm, KeyText(key), Field.Store.NO),
        new StoredField(KeyValue, key),
        new Field(Text, title + "\n" + abstractText, TextWithVectors),
    };

    /// <summary>
    /// Each key's analyzed tokens in text order (as <see cref="Tokens"/> gives them), read from its stored
    /// term vector: one entry per key, in the order asked; null for a key not indexed or indexed without
    /// a term vector (an index written before they were kept: the caller analyses the stored text).
    /// </summary>
    public List<IReadOnlyList<string>?> StoredTokens(IReadOnlyList<long> keys)
    {
        RefreshIfChanged();
        var searcher = _searchers.Acquire();
        try
        {
            var answers = new List<IReadOnlyList<string>?>(keys.Count);
            var positions = new List<(int Position, string Term)>();
            foreach (long key in keys)
            {
                answers.Add(null);
                var keyTerm = new BytesRef(KeyText(key));
                foreach (var leaf in searcher.IndexReader.Leaves)
                {
                    var reader = leaf.AtomicReader;
                    if (reader.GetTerms(KeyTerm) is not { } keyTerms) continue;
                    var keyEnum = keyTerms.GetEnumerator();
                    if (!keyEnum.SeekExact(keyTerm)) continue;
                    var docs = keyEnum.Docs(reader.LiveDocs, null, DocsFlags.NONE);
                    int doc = docs.NextDoc();
                    if (doc == DocIdSetIterator.NO_MORE_DOCS) continue;
                    if (reader.GetTermVector(doc, Text) is not { } vector || !vector.HasPositions) break;
                    positions.Clear();
                    var terms = vector.GetEnumerator();
                    DocsAndPositionsEnum? at = null;
                    while (terms.MoveNext())
                    {
                        string term = terms.Term.Utf8ToString();
                        at = terms.DocsAndPositions(null, at);
                        if (at == null || at.NextDoc() == DocIdSetIterator.NO_MORE_DOCS) continue;
                        for (int i = 0, freq = at.Freq; i < freq; i++) positions.Add((at.NextPosition(), term));
                    }
                    positions.Sort((a, b) => a.Position.CompareTo(b.Position));
                    answers[^1] = positions.Select(p => p.Term).ToArray();
                    break;
                }
            }
            return answers;
        }
        finally { _searchers.Release(searcher); }
    }

    public void Put(long key, string title, string abstractText)
    {
        var doc = NewDocument(key, title, abstractText);
        lock (_gate)
        {
            _touched?.Add(key);
            _writer.UpdateDocument(new Term(KeyTerm, KeyText(key)), doc);
            _changed = true;
        }
    }

    public void Delete(long key)
    {
        lock (_gate)
        {
            _touched?.Add(key);
            _writer.DeleteDocuments(new Term(KeyTerm, KeyText(key)));
            _changed = true;
        }
    }

    /// <summary>Empties the index and starts tracking the keys later writes change (<see cref="PutIfUntouched"/>).</summary>
    public void BeginRebuild()
    {
        lock (_gate)
        {
            _writer.DeleteAll();
            _touched = [];
            _changed = true;
        }
    }

    /// <summary>
    /// A rebuild's copy of a stored paper: added unless a write changed that key since the rebuild
    /// began (the write's version is newer than what the scan read, or the paper is gone).
    /// </summary>
    public void PutIfUntouched(long key, string title, string abstractText)
    {
        var doc = NewDocument(key, title, abstractText);
        lock (_gate)
        {
            if (_touched == null || _touched.Contains(key)) return;
            _writer.AddDocument(doc);
            _changed = true;
        }
    }

    public void EndRebuild()
    {
        lock (_gate) _touched = null;
    }

    /// <summary>
    /// Null when the index holds exactly <paramref name="keys"/> (read from its key terms, live documents
    /// only); else how it differs.
    /// </summary>
    public string? DifferenceFrom(IReadOnlySet<long> keys)
    {
        RefreshIfChanged();
        var searcher = _searchers.Acquire();
        try
        {
            int extra = 0, held = 0;
            foreach (var leaf in searcher.IndexReader.Leaves)
            {
                var reader = leaf.AtomicReader;
                if (reader.GetTerms(KeyTerm) is not { } terms) continue;
                var live = reader.LiveDocs;
                var termsEnum = terms.GetEnumerator();
                DocsEnum? docs = null;
                while (termsEnum.MoveNext())
                {
                    docs = termsEnum.Docs(live, docs, DocsFlags.NONE);
                    if (docs.NextDoc() == DocIdSetIterator.NO_MORE_DOCS) continue;
                    held++;
                    if (!long.TryParse(termsEnum.Term.Utf8ToString(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long key) || !keys.Contains(key)) extra++;
                }
            }
            int missing = keys.Count - (held - extra);
            if (extra != 0 || missing != 0) return $"it holds {held} papers, {extra} of them not in the store, and misses {missing} of the store's {keys.Count}";
            // Every paper keeps its term vector (the recommender reads them): a segment written without them is an index from before.
            int withoutVectors = searcher.IndexReader.Leaves.Where(l => l.AtomicReader.FieldInfos.FieldInfo(Text) is { HasVectors: false })
                .Sum(l => l.AtomicReader.NumDocs);
            return withoutVectors == 0 ? null : $"{withoutVectors} of its papers have no term vector (an index written before term vectors were kept)";
        }
        finally { _searchers.Release(searcher); }
    }

    static string KeyText(long key) => key.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Makes everything indexed so far durable, naming the log sequence it covers.</summary>
    public void Commit(long nextSequence)
    {
        // One commit at a time: a checkpoint's and a rebuild's would otherwise swap commit data.
        lock (_commitGate)
        {
            _writer.SetCommitData(new Dictionary<string, string> { [SequenceData] = nextSequence.ToString(CultureInfo.InvariantCulture) });
            _writer.Commit();
        }
    }

    readonly object _commitGate = new();

    /// <summary>Every analyzed token of <paramref name="text"/> in order, repeats kept (term frequencies and bigrams of a paper's term vector).</summary>
    public static IReadOnlyList<string> Tokens(string text)
    {
        var tokens = new List<string>();
        using var stream = _analyzer.GetTokenStream(Text, text);
        var term = stream.AddAttribute<ICharTermAttribute>();
        stream.Reset();
        while (stream.IncrementToken()) tokens.Add(term.ToString());
        stream.End();
        return tokens;
    }

    /// <summary>The distinct analyzed terms of <paramref name="text"/> (stemmed, stop words dropped): what BM25 matches.</summary>
    public IReadOnlyList<string> Terms(string text)
    {
        var terms = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var stream = _analyzer.GetTokenStream(Text, text);
        var term = stream.AddAttribute<ICharTermAttribute>();
        stream.Reset();
        while (stream.IncrementToken())
        {
            string t = term.ToString();
            if (seen.Add(t)) terms.Add(t);
        }
        stream.End();
        return terms;
    }

    /// <summary>
    /// The best papers for <paramref name="text"/> by BM25, best first, at most <paramref name="count"/>,
    /// those <paramref name="filter"/> drops left out (more hits are read until enough pass or none remain).
    /// </summary>
    public List<(long Key, float Score)> Search(string text, int count, Func<long, bool>? filter = null)
    {
        var terms = Terms(text);
        if (terms.Count == 0 || count <= 0) return [];
        var query = new BooleanQuery();
        foreach (var t in terms.Take(BooleanQuery.MaxClauseCount)) query.Add(new TermQuery(new Term(Text, t)), Occur.SHOULD);
        return Top(query, count, filter);
    }

    /// <summary>
    /// The best papers for weighted terms (already analyzed: a reader library's profile), best first;
    /// <paramref name="restrictTo"/>, when given, limits the answer to those papers (a digest's), which
    /// Lucene applies as a filter instead of reading every match.
    /// </summary>
    public List<(long Key, float Score)> SearchTerms(IReadOnlyList<(string Term, float Weight)> terms, int count, Func<long, bool>? filter = null,
        IReadOnlyCollection<long>? restrictTo = null)
    {
        if (terms.Count == 0 || count <= 0 || restrictTo is { Count: 0 }) return [];
        var query = new BooleanQuery();
        foreach (var (t, weight) in terms.Take(BooleanQuery.MaxClauseCount)) query.Add(new TermQuery(new Term(Text, t)) { Boost = weight }, Occur.SHOULD);
        Query search = query;
        if (restrictTo != null)
            search = new FilteredQuery(query, new Lucene.Net.Queries.TermsFilter(restrictTo.Select(k => new Term(KeyTerm, KeyText(k))).ToList()));
        return Top(search, count, filter);
    }

    /// <summary>The best <paramref name="count"/> papers for a query that pass <paramref name="filter"/>, reading deeper until enough pass.</summary>
    List<(long Key, float Score)> Top(Query query, int count, Func<long, bool>? filter)
    {
        var results = new List<(long, float)>(count);
        RefreshIfChanged();
        var searcher = _searchers.Acquire();
        try
        {
            int depth = filter == null ? count : Math.Max(count * 4, 100);
            while (true)
            {
                var top = searcher.Search(query, depth);
                results.Clear();
                foreach (var hit in top.ScoreDocs)
                {
                    long key = searcher.Doc(hit.Doc).GetField(KeyValue).GetInt64Value() ?? 0;
                    if (filter != null && !filter(key)) continue;
                    results.Add((key, hit.Score));
                    if (results.Count == count) return results;
                }
                if (top.ScoreDocs.Length < depth || depth >= top.TotalHits) return results;
                depth *= 4;
            }
        }
        finally { _searchers.Release(searcher); }
    }

    /// <summary>How many papers hold <paramref name="term"/> (an analyzed term), and how many papers there are: for term weights.</summary>
    public (int DocFreq, int Docs) DocFreq(string term)
    {
        RefreshIfChanged();
        var searcher = _searchers.Acquire();
        try { return (searcher.IndexReader.DocFreq(new Term(Text, term)), searcher.IndexReader.NumDocs); }
        finally { _searchers.Release(searcher); }
    }

    /// <summary>Closes without committing, as process death would (tests).</summary>
    internal void Abandon()
    {
        _searchers.Dispose();
        _writer.Rollback();
        _directory.Dispose();
    }

    public void Dispose()
    {
        if (_directory is RAMDirectory) { Abandon(); return; }
        _searchers.Dispose();
        _writer.Dispose();
        _directory.Dispose();
    }

    sealed class SimilarityFactory(Similarity similarity) : SearcherFactory
    {
        public override IndexSearcher NewSearcher(IndexReader reader) => new(reader) { Similarity = similarity };
    }
}

/// <summary>
/// Lexical answers cannot be given now: the lexical index is being rebuilt from the store (damaged,
/// stale or behind after a failed write). The server answers 503; hybrid search answers by meaning alone.
/// </summary>
public sealed class LexicalUnavailableException(string message) : Exception(message);
