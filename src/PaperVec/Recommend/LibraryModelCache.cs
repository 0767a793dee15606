namespace PaperVec.Recommend;

/// <summary>
/// A library's trained parts (everything the default fusion and the term strategies train: the
/// embedding centroid, best match and classifier, the library's tf-idf space, its SVM and term
/// centroid), built once per <see cref="LibraryVersion"/> and reused by every request for it.
/// Candidates are scored against it per request.
/// </summary>
public sealed class LibraryTraining
{
    public required LibraryModel Centroid { get; init; }
    public LibraryModel? BestMatch { get; init; }
    public LibraryModel? Classifier { get; init; }
    /// <summary>The library's and its background's term space (the background's vectors dropped once trained on).</summary>
    public TermSpace? Terms { get; init; }
    public double[]? TermDirection { get; init; }
    public double TermDirectionNorm { get; init; }
    public TermClassifier? Svm { get; init; }

    /// <summary>Rough heap size, for the cache's budget.</summary>
    public long ApproximateBytes
    {
        get
        {
            long vectors = (Centroid.Liked.Count + Centroid.Disliked.Count) * (64L + 4 * (Centroid.Liked.FirstOrDefault().Vector?.Length ?? 0));
            long dense = 3 * 4L * (Centroid.Direction?.Length ?? 0);
            long kept = Terms == null ? 0 : TermSpace.KeptCandidates * TermSpace.KeptCandidateBytes; // its candidates' vectors, kept as requests come
            return 512 + vectors + dense + (Terms?.ApproximateBytes ?? 0) + kept + 8L * (TermDirection?.Length ?? 0) + 8L * (Svm?.Weights.Length ?? 0);
        }
    }
}

/// <summary>
/// What a library's training depends on: the strategy's trained components and regulariser, the
/// liked and disliked papers still stored (in their order: the background sample is seeded by it),
/// and the collection's epoch (<see cref="LibraryModelCache.EpochOf"/>). A stored library and the ids
/// posted to /recommend are the same version when they name the same papers.
/// </summary>
public readonly record struct LibraryVersion(string Text)
{
    public static LibraryVersion Of(IEnumerable<LibraryComponent> components, double regularization, IEnumerable<long> liked, IEnumerable<long> disliked, long epoch) =>
        new($"{string.Join(',', components.Order())}|{regularization:R}|{epoch}|{string.Join(',', liked)}|{string.Join(',', disliked)}");
}

/// <summary>
/// Library models kept warm, in the engine (one per collection: a node's, or a cluster coordinator's,
/// whose model then serves every shard's ranking). Bounded by an approximate byte budget, least
/// recently used out first. Concurrent first requests for one version train it once. Counters
/// (<see cref="Trainings"/>, <see cref="Hits"/>) make reuse observable.
/// </summary>
public sealed class LibraryModelCache(long maxBytes = LibraryModelCache.DefaultMaxBytes)
{
    /// <summary>512 MiB: a 50-paper library's trained parts are a few MB (its background's vocabulary, the SVM's weights, its candidates' vectors), so a hundred or more warm libraries.</summary>
    public const long DefaultMaxBytes = 512L << 20;

    /// <summary>
    /// "Enough new papers" for a new model: the epoch advances each time the stored paper count moves by
    /// 5% (log-spaced buckets). Below that, every idf moves by under ln(1.05) = 0.05 from the count, and
    /// the background sample (bottom-k by hash) has taken in under about 5% new papers.
    /// </summary>
    public const double EpochDrift = 0.05;

    readonly object _lock = new();
    readonly Dictionary<LibraryVersion, LinkedListNode<Entry>> _entries = [];
    readonly LinkedList<Entry> _recent = new();
    long _bytes, _trainings, _hits;

    sealed class Entry(LibraryVersion version)
    {
        public LibraryVersion Version { get; } = version;
        public Task<LibraryTraining> Training { get; set; } = null!;
        /// <summary>Trained and counted (its bytes known): only such an entry is evicted.</summary>
        public bool Settled { get; set; }
        public long Bytes { get; set; }
    }

    public long MaxBytes { get; } = maxBytes > 0 ? maxBytes : throw new ArgumentOutOfRangeException(nameof(maxBytes), "the model cache needs a positive byte budget");
    /// <summary>Models trained (each a cache miss).</summary>
    public long Trainings => Interlocked.Read(ref _trainings);
    /// <summary>Requests served by a model already trained (or in training).</summary>
    public long Hits => Interlocked.Read(ref _hits);
    public int Count { get { lock (_lock) return _entries.Count; } }
    public long Bytes { get { lock (_lock) return _bytes; } }

    /// <summary>The collection's epoch for <paramref name="papers"/> stored papers (see <see cref="EpochDrift"/>).</summary>
    public static long EpochOf(int papers) => papers <= 1 ? 0 : (long)Math.Floor(Math.Log(papers) / Math.Log(1 + EpochDrift));

    /// <summary>The model of <paramref name="version"/>, trained by <paramref name="train"/> only when none is kept.</summary>
    public Task<LibraryTraining> GetOrTrainAsync(LibraryVersion version, Func<Task<LibraryTraining>> train)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(version, out var node))
            {
                _recent.Remove(node);
                _recent.AddFirst(node);
                Interlocked.Increment(ref _hits);
                return node.Value.Training;
            }
            var entry = new Entry(version);
            _entries[version] = _recent.AddFirst(entry);
            Interlocked.Increment(ref _trainings);
            // Assigned under the lock, which the training's own settling takes: it always sees its task.
            entry.Training = TrainAsync(entry, train);
            return entry.Training;
        }
    }

    /// <summary>Trains (off the caller's lock) and settles before the model is handed out, so a finished request sees the cache's new state.</summary>
    async Task<LibraryTraining> TrainAsync(Entry entry, Func<Task<LibraryTraining>> train)
    {
        await Task.Yield();
        LibraryTraining trained;
        try
        {
            trained = await train().ConfigureAwait(false);
        }
        catch
        {
            // A failed training is forgotten: the next request trains again.
            lock (_lock)
                if (_entries.TryGetValue(entry.Version, out var failed) && failed.Value == entry)
                {
                    _entries.Remove(entry.Version);
                    _recent.Remove(failed);
                }
            throw;
        }
        Settle(entry, trained.ApproximateBytes);
        return trained;
    }

    /// <summary>A trained model counts its bytes and evicts the least recently used.</summary>
    void Settle(Entry entry, long bytes)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(entry.Version, out var node) || node.Value != entry) return; // cleared meanwhile
            entry.Bytes = bytes;
            entry.Settled = true;
            _bytes += bytes;
            // The newest stays even when it alone is over budget: the request that trained it is using it.
            for (var at = _recent.Last; _bytes > MaxBytes && at != null;)
            {
                var previous = at.Previous;
                if (at != node && at.Value.Settled) // one still training has no size yet: it settles itself
                {
                    _recent.Remove(at);
                    _entries.Remove(at.Value.Version);
                    _bytes -= at.Value.Bytes;
                }
                at = previous;
            }
        }
    }

    /// <summary>Forgets every trained model (a test's or a tool's fresh start); ones still training finish and are kept.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            foreach (var settled in _recent.Where(e => e.Settled).ToList())
            {
                _entries.Remove(settled.Version);
                _recent.Remove(settled);
                _bytes -= settled.Bytes;
            }
        }
    }
}
