namespace PaperVec.Recommend;

/// <summary>A sparse vector: feature ids ascending, with their weights.</summary>
public readonly record struct SparseVector(int[] Ids, float[] Weights)
{
    public static readonly SparseVector Empty = new([], []);

    public static double Dot(SparseVector a, SparseVector b)
    {
        double sum = 0;
        for (int i = 0, j = 0; i < a.Ids.Length && j < b.Ids.Length;)
        {
            if (a.Ids[i] == b.Ids[j]) sum += (double)a.Weights[i++] * b.Weights[j++];
            else if (a.Ids[i] < b.Ids[j]) i++;
            else j++;
        }
        return sum;
    }

    /// <summary>Dot with a dense weight vector; ids past its end (terms a warm model never trained on) weigh zero.</summary>
    public double Dot(double[] dense)
    {
        double sum = 0;
        for (int i = 0; i < Ids.Length; i++)
            if (Ids[i] < dense.Length) sum += dense[Ids[i]] * Weights[i];
        return sum;
    }
}

/// <summary>
/// The tf-idf term vectors of one recommendation's papers (liked, disliked, background, candidates),
/// built from the analyzed tokens a source returns: sublinear tf (1 + ln tf) times smoothed idf
/// (ln((1 + N) / (1 + df)) + 1, scikit-learn's), unit length. Unigram idf comes from the whole
/// index (<see cref="IRecommendSource.DocFreqsAsync"/>, summed over shards on a cluster); bigrams
/// (adjacent analyzed tokens, stop words already dropped) are not indexed, so their df is counted in
/// the seeded background sample. Everything is derived from what the source returns, so a cluster
/// builds the same vectors as one node.
/// A library's space (its papers and background, trained on) is kept warm in <see cref="LibraryModelCache"/>
/// and never changes once built; each request's candidates go in an <see cref="ExtendAsync">extension</see>
/// over it (new terms get ids past the library's, where every trained weight is zero), with the
/// library's document frequencies and bigram sample, so a warm request scores as the cold one did.
/// </summary>
public sealed class TermSpace
{
    readonly TermSpace? _parent;
    readonly int _offset;
    readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    readonly List<string> _terms = [];
    readonly Dictionary<long, SparseVector> _unigrams = [], _full = [];
    readonly Dictionary<string, int> _docFreqs;
    readonly int _docs;
    readonly Dictionary<string, int> _sampleDf;
    readonly int _sampled;

    TermSpace(TermSpace? parent, Dictionary<string, int> docFreqs, int docs, Dictionary<string, int> sampleDf, int sampled)
    {
        _parent = parent;
        _offset = parent?.Dimension ?? 0;
        (_docFreqs, _docs, _sampleDf, _sampled) = (docFreqs, docs, sampleDf, sampled);
    }

    /// <summary>Features known (unigrams and bigrams): the dimension of a dense weight vector over them.</summary>
    public int Dimension => _offset + _terms.Count;
    public string Term(int id) => id < _offset ? _parent!.Term(id) : _terms[id - _offset];

    /// <summary>Unigram tf-idf vector of a paper (centroid and best match), empty for a paper not read.</summary>
    public SparseVector Unigrams(long key) => _unigrams.TryGetValue(key, out var v) ? v : _parent?.Unigrams(key) ?? SparseVector.Empty;
    /// <summary>1-2-gram tf-idf vector of a paper (the classifier's features, arxiv-sanity's recipe).</summary>
    public SparseVector Full(long key) => _full.TryGetValue(key, out var v) ? v : _parent?.Full(key) ?? SparseVector.Empty;

    bool Holds(long key) => _unigrams.ContainsKey(key) || (_parent?.Holds(key) ?? false);

    /// <summary>Rough heap size (the model cache's budget): terms, vectors and statistics.</summary>
    public long ApproximateBytes =>
        _terms.Sum(t => 56L + 2 * t.Length) + _unigrams.Values.Concat(_full.Values).Sum(v => 48L + 8 * v.Ids.Length)
        + (_docFreqs.Count + _sampleDf.Count) * 64L;

    public static async Task<TermSpace> BuildAsync(IRecommendSource source, IReadOnlyCollection<long> keys, IReadOnlyCollection<long> bigramSample)
    {
        var all = keys.Concat(bigramSample).Distinct().ToList();
        var tokens = await TokensAsync(source, all).ConfigureAwait(false);
        var unigrams = tokens.Values.SelectMany(t => t).ToHashSet(StringComparer.Ordinal);
        var (docFreqs, docs) = await source.DocFreqsAsync(unigrams).ConfigureAwait(false);
        var sampleDf = new Dictionary<string, int>(StringComparer.Ordinal);
        int sampled = 0;
        foreach (long key in bigramSample)
        {
            if (!tokens.TryGetValue(key, out var t) || t.Count == 0) continue;
            sampled++;
            foreach (var bigram in Bigrams(t).Distinct(StringComparer.Ordinal)) sampleDf[bigram] = sampleDf.GetValueOrDefault(bigram) + 1;
        }
        var space = new TermSpace(null, docFreqs, docs, sampleDf, sampled);
        space.Add(tokens);
        return space;
    }

    /// <summary>Candidates' vectors a library space keeps (projected on its vocabulary), so a warm library's repeated pool is not read and weighted again.</summary>
    public const int KeptCandidates = 1024;
    /// <summary>Rough bytes of one kept candidate (both vectors, about 60 terms of a 200-word abstract within the library's vocabulary).</summary>
    public const long KeptCandidateBytes = 1024;

    readonly System.Collections.Concurrent.ConcurrentDictionary<long, (SparseVector Unigrams, SparseVector Full)> _kept = new();

    /// <summary>
    /// This space with <paramref name="keys"/>' vectors added (a request's candidates), weighted by this
    /// space's statistics (terms it never saw have their document frequencies read now). A candidate's
    /// vector keeps only the terms this space knows: normalised first, over all its terms, then projected,
    /// which changes no score (every trained weight and every library paper's vector is zero outside this
    /// vocabulary). This space keeps them (up to <see cref="KeptCandidates"/>) for the next request; it is not otherwise changed.
    /// </summary>
    public async Task<TermSpace> ExtendAsync(IRecommendSource source, IReadOnlyCollection<long> keys)
    {
        var extended = new TermSpace(this, _docFreqs, _docs, _sampleDf, _sampled);
        var missing = new List<long>();
        foreach (long key in keys.Distinct())
        {
            if (Holds(key)) continue;
            if (_kept.TryGetValue(key, out var kept)) (extended._unigrams[key], extended._full[key]) = kept;
            else missing.Add(key);
        }
        if (missing.Count == 0) return extended;
        var tokens = await TokensAsync(source, missing).ConfigureAwait(false);
        var unseen = tokens.Values.SelectMany(t => t).Where(t => !_docFreqs.ContainsKey(t)).ToHashSet(StringComparer.Ordinal);
        var docFreqs = _docFreqs;
        if (unseen.Count > 0)
        {
            docFreqs = new Dictionary<string, int>(_docFreqs, StringComparer.Ordinal);
            foreach (var (term, df) in (await source.DocFreqsAsync(unseen).ConfigureAwait(false)).DocFreqs) docFreqs[term] = df;
        }
        var scratch = new TermSpace(this, docFreqs, _docs, _sampleDf, _sampled);
        scratch.Add(tokens);
        foreach (var (key, unigrams) in scratch._unigrams)
        {
            var projected = (Project(unigrams, Dimension), Project(scratch._full[key], Dimension));
            (extended._unigrams[key], extended._full[key]) = projected;
            if (_kept.Count < KeptCandidates) _kept.TryAdd(key, projected);
        }
        return extended;
    }

    static SparseVector Project(SparseVector v, int dimension)
    {
        int n = 0;
        while (n < v.Ids.Length && v.Ids[n] < dimension) n++; // ids ascending: the known ones come first
        return n == v.Ids.Length ? v : new SparseVector(v.Ids[..n], v.Weights[..n]);
    }

    /// <summary>Drops the vectors of <paramref name="keys"/> (the background, once trained on); their terms keep their ids.</summary>
    public void Forget(IEnumerable<long> keys)
    {
        foreach (long key in keys) { _unigrams.Remove(key); _full.Remove(key); }
    }

    static async Task<Dictionary<long, IReadOnlyList<string>>> TokensAsync(IRecommendSource source, List<long> keys)
    {
        var tokenLists = keys.Count == 0 ? [] : await source.TermsOfAsync(keys).ConfigureAwait(false);
        var tokens = new Dictionary<long, IReadOnlyList<string>>(keys.Count);
        for (int i = 0; i < keys.Count && i < tokenLists.Count; i++) tokens[keys[i]] = tokenLists[i];
        return tokens;
    }

    void Add(Dictionary<long, IReadOnlyList<string>> tokens)
    {
        foreach (var (key, t) in tokens)
        {
            if (t.Count == 0) continue;
            var uni = Counts(t);
            _unigrams[key] = Vector(uni, term => Idf(_docFreqs.GetValueOrDefault(term), _docs));
            var full = new Dictionary<string, int>(uni, StringComparer.Ordinal);
            foreach (var bigram in Bigrams(t)) full[bigram] = full.GetValueOrDefault(bigram) + 1;
            _full[key] = Vector(full, term => term.Contains(' ') ? Idf(_sampleDf.GetValueOrDefault(term), _sampled) : Idf(_docFreqs.GetValueOrDefault(term), _docs));
        }
    }

    static double Idf(int df, int docs) => Math.Log((1.0 + docs) / (1.0 + df)) + 1;

    static Dictionary<string, int> Counts(IReadOnlyList<string> tokens)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in tokens) counts[t] = counts.GetValueOrDefault(t) + 1;
        return counts;
    }

    static IEnumerable<string> Bigrams(IReadOnlyList<string> tokens)
    {
        for (int i = 1; i < tokens.Count; i++) yield return tokens[i - 1] + " " + tokens[i];
    }

    int IdOf(string term)
    {
        if (_parent != null && _parent.TryId(term, out int known)) return known;
        if (!_ids.TryGetValue(term, out int id))
        {
            _ids[term] = id = _offset + _terms.Count;
            _terms.Add(term);
        }
        return id;
    }

    bool TryId(string term, out int id) => _ids.TryGetValue(term, out id) || (_parent != null && _parent.TryId(term, out id));

    SparseVector Vector(Dictionary<string, int> counts, Func<string, double> idf)
    {
        var entries = new List<(int Id, float Weight)>(counts.Count);
        double norm = 0;
        foreach (var (term, count) in counts)
        {
            double w = (1 + Math.Log(count)) * idf(term);
            entries.Add((IdOf(term), (float)w));
            norm += w * w;
        }
        entries.Sort((a, b) => a.Id.CompareTo(b.Id));
        float scale = norm > 0 ? (float)(1 / Math.Sqrt(norm)) : 0;
        return new SparseVector(entries.Select(e => e.Id).ToArray(), entries.Select(e => e.Weight * scale).ToArray());
    }
}

/// <summary>
/// arxiv-sanity's per-reader classifier on sparse tf-idf rows: a linear SVM (squared hinge, L2, the
/// bias regularised as liblinear's intercept feature), C = 0.1, classes balanced (each class weighs
/// n / (2 n_class)), trained by Nesterov-accelerated gradient descent with the step from the known
/// smoothness constant (rows are unit vectors), a fixed number of passes.
/// </summary>
public sealed class TermClassifier
{
    public const double C = 0.1;
    public required double[] Weights { get; init; }
    public required double Bias { get; init; }

    public double Score(SparseVector x) => x.Dot(Weights) + Bias;

    /// <summary><paramref name="negativeWeights"/>: relative weights within the negative class (a disliked paper can count more than a background one).</summary>
    public static TermClassifier Train(int dimension, IReadOnlyList<SparseVector> positives, IReadOnlyList<SparseVector> negatives, IReadOnlyList<double> negativeWeights, int passes = 300)
    {
        int n = positives.Count + negatives.Count;
        var rows = positives.Concat(negatives).ToList();
        var labels = new double[n];
        var weights = new double[n];
        double negativeTotal = negativeWeights.Sum();
        for (int i = 0; i < positives.Count; i++) { labels[i] = 1; weights[i] = n / 2.0 / positives.Count; }
        for (int i = 0; i < negatives.Count; i++)
        {
            labels[positives.Count + i] = -1;
            weights[positives.Count + i] = negativeTotal > 0 ? n / 2.0 * negativeWeights[i] / negativeTotal : 0;
        }
        var w = new double[dimension];
        var previous = new double[dimension];
        var look = new double[dimension];
        var gradient = new double[dimension];
        double b = 0, previousB = 0;
        // f = 0.5 |w|^2 + 0.5 b^2 + C sum c_i max(0, 1 - y_i (w.x_i + b))^2; its gradient is L-Lipschitz with L = 1 + 2 C sum c_i (|x_i|^2 + 1).
        double step = 1 / (1 + 2 * C * weights.Sum() * 2);
        for (int pass = 1; pass <= passes; pass++)
        {
            double momentum = (pass - 1.0) / (pass + 2.0);
            for (int j = 0; j < dimension; j++) look[j] = w[j] + momentum * (w[j] - previous[j]);
            double lookB = b + momentum * (b - previousB);
            Array.Copy(look, gradient, dimension);
            double gradientB = lookB;
            for (int i = 0; i < n; i++)
            {
                double margin = labels[i] * (rows[i].Dot(look) + lookB);
                if (margin >= 1) continue;
                double g = -2 * C * weights[i] * (1 - margin) * labels[i];
                var x = rows[i];
                for (int k = 0; k < x.Ids.Length; k++) gradient[x.Ids[k]] += g * x.Weights[k];
                gradientB += g;
            }
            Array.Copy(w, previous, dimension);
            previousB = b;
            for (int j = 0; j < dimension; j++) w[j] = look[j] - step * gradient[j];
            b = lookB - step * gradientB;
        }
        return new TermClassifier { Weights = w, Bias = b };
    }
}
