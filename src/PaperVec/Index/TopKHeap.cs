namespace PaperVec.Index;

/// <summary>
/// The best <c>k</c> (score, id) pairs seen so far: a min-heap on score, so the weakest kept
/// result is at the root and a new score only costs a comparison unless it beats it.
/// </summary>
public sealed class TopKHeap
{
    float[] _scores;
    long[] _ids;

    public TopKHeap(int k)
    {
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k));
        _scores = new float[Math.Max(1, k)];
        _ids = new long[Math.Max(1, k)];
        K = k;
    }

    public int K { get; private set; }
    public int Count { get; private set; }

    /// <summary>A score must beat this to enter once the heap is full.</summary>
    public float Threshold => Count < K ? float.NegativeInfinity : _scores[0];

    public void Reset(int k)
    {
        if (k > _scores.Length) { _scores = new float[k]; _ids = new long[k]; }
        K = k;
        Count = 0;
    }

    public void Offer(float score, long id)
    {
        if (Count < K)
        {
            int i = Count++;
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (_scores[parent] <= score) break;
                _scores[i] = _scores[parent]; _ids[i] = _ids[parent];
                i = parent;
            }
            _scores[i] = score; _ids[i] = id;
        }
        else if (K > 0 && score > _scores[0])
        {
            SiftDownFromRoot(score, id, Count);
        }
    }

    void SiftDownFromRoot(float score, long id, int count)
    {
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= count) break;
            if (child + 1 < count && _scores[child + 1] < _scores[child]) child++;
            if (_scores[child] >= score) break;
            _scores[i] = _scores[child]; _ids[i] = _ids[child];
            i = child;
        }
        _scores[i] = score; _ids[i] = id;
    }

    /// <summary>Writes the kept pairs best first into <paramref name="destination"/> and empties the heap.</summary>
    public int DrainBestFirst(Span<SearchHit> destination)
    {
        int n = Count;
        if (destination.Length < n) throw new ArgumentException("Destination too small.", nameof(destination));
        for (int remaining = n; remaining > 0; remaining--)
        {
            destination[remaining - 1] = new SearchHit(_ids[0], _scores[0]);
            float lastScore = _scores[remaining - 1];
            long lastId = _ids[remaining - 1];
            if (remaining > 1) SiftDownFromRoot(lastScore, lastId, remaining - 1);
        }
        Count = 0;
        return n;
    }
}
