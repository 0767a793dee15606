using System.Globalization;
using Lucene.Net.Analysis;
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
    readonly Analyzer _analyzer = new EnglishAnalyzer(Version);
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
    /// Opens (or creates) the index in <paramref name="path"/>. An index Lucene cannot open is
    /// reported through <paramref name="damage"/> and replaced by an empty one (it is derived: the
    /// caller rebuilds it from the store).
    /// </summary>
    public static LexicalIndex Open(string path, Action<string>? damage = null)
    {
        System.IO.Directory.CreateDirectory(path);
        var directory = FSDirectory.Open(path);
        try { return new LexicalIndex(path, directory, NewWriter(directory, OpenMode.CREATE_OR_APPEND)); }
        catch (Exception e) when (e is IOException or CorruptIndexException or IndexFormatTooOldException or IndexFormatTooNewException or LockObtainFailedException)
        {
            damage?.Invoke($"lexical index unreadable ({e.GetType().Name}: {e.Message.Split('\n')[0]}); rebuilding it from the store");
            // Clear the stale write lock too: nothing else may hold this directory (the data directory's own lock says so).
            foreach (var file in System.IO.Directory.GetFiles(path)) File.Delete(file);
            return new LexicalIndex(path, directory, NewWriter(directory, OpenMode.CREATE));
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

    public void Put(long key, string title, string abstractText)
    {
        var doc = new Document
        {
            new StringField(KeyTerm, KeyText(key), Field.Store.NO),
            new StoredField(KeyValue, key),
            new TextField(Text, title + "\n" + abstractText, Field.Store.NO),
        };
        _writer.UpdateDocument(new Term(KeyTerm, KeyText(key)), doc);
        _changed = true;
    }

    public void Delete(long key)
    {
        _writer.DeleteDocuments(new Term(KeyTerm, KeyText(key)));
        _changed = true;
    }

    public void DeleteAll()
    {
        _writer.DeleteAll();
        _changed = true;
    }

    static string KeyText(long key) => key.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Makes everything indexed so far durable, naming the log sequence it covers.</summary>
    public void Commit(long nextSequence)
    {
        _writer.SetCommitData(new Dictionary<string, string> { [SequenceData] = nextSequence.ToString(CultureInfo.InvariantCulture) });
        _writer.Commit();
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
        _analyzer.Dispose();
        _directory.Dispose();
    }

    public void Dispose()
    {
        _searchers.Dispose();
        _writer.Dispose();
        _analyzer.Dispose();
        _directory.Dispose();
    }

    sealed class SimilarityFactory(Similarity similarity) : SearcherFactory
    {
        public override IndexSearcher NewSearcher(IndexReader reader) => new(reader) { Similarity = similarity };
    }
}
