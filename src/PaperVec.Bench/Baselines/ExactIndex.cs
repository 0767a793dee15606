using PaperVec.Index;

namespace PaperVec.Bench.Baselines;

/// <summary>
/// Exhaustive top-k over contiguous rows of its own: the ground truth for recall in benchmarks and
/// tests. The engine's exact search for small collections scans the HNSW index's rows instead
/// (<see cref="HnswIndex.SearchExact(ReadOnlySpan{float}, int, Func{long, bool}?)"/>), so no vector is
/// held twice. Removal swaps the last row in, so rows stay dense for the scan.
/// Searches may run concurrently with each other; Add and Remove need exclusive access.
/// </summary>
public sealed unsafe class ExactIndex : IDisposable
{
    const int ChunkRows = 256;    // rows of each lane per kernel call (4 x 256 scores stay in L1)
    const int MinRowsPerThread = 1024;
    readonly VectorStore _vectors;
    readonly List<long> _ids = new();
    readonly Dictionary<long, int> _rowById = new();

    public ExactIndex(int dimension, int initialCapacity = 1024)
    {
        _vectors = new VectorStore(dimension, initialCapacity);
    }

    public int Dimension => _vectors.Dimension;
    public int Count => _vectors.Count;
    public int LiveCount => _vectors.Count;

    public void Add(long id, ReadOnlySpan<float> vector)
    {
        if (_rowById.ContainsKey(id)) throw new ArgumentException($"Id {id} is already in the index.", nameof(id));
        int row = _vectors.Append(vector);
        _ids.Add(id);
        _rowById[id] = row;
    }

    public bool Remove(long id)
    {
        if (!_rowById.Remove(id, out int row)) return false;
        int last = _vectors.Count - 1;
        _vectors.RemoveBySwappingLast(row);
        if (row != last)
        {
            _ids[row] = _ids[last];
            _rowById[_ids[row]] = row;
        }
        _ids.RemoveAt(last);
        return true;
    }

    public bool Contains(long id) => _rowById.ContainsKey(id);

    public SearchHit[] Search(ReadOnlySpan<float> query, int k, Func<long, bool>? filter = null) => Search(query, k, filter, threads: 1);

    public SearchHit[] Search(ReadOnlySpan<float> query, int k, Func<long, bool>? filter, int threads)
    {
        var hits = new SearchHit[Math.Min(k, Count)];
        int n = Search(query, hits, filter, threads);
        return n == hits.Length ? hits : hits[..n];
    }

    /// <summary>Fills <paramref name="results"/> (its length is k) best first; returns how many were found.</summary>
    public int Search(ReadOnlySpan<float> query, Span<SearchHit> results, Func<long, bool>? filter = null, int threads = 1)
    {
        if (query.Length != Dimension) throw new ArgumentException($"Query has {query.Length} floats, the index holds {Dimension}.", nameof(query));
        int k = results.Length;
        if (k == 0 || Count == 0) return 0;
        threads = Math.Clamp(threads, 1, Math.Max(1, Count / MinRowsPerThread));
        if (threads == 1)
        {
            var heap = new TopKHeap(k);
            fixed (float* q = query) ScanRange(q, 0, Count, heap, filter);
            return heap.DrainBestFirst(results);
        }

        // Each thread keeps its own heap over a contiguous slice; the heaps merge at the end.
        var heaps = new TopKHeap[threads];
        var queryCopy = query.ToArray();
        int perThread = (Count + threads - 1) / threads;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var heap = heaps[t] = new TopKHeap(k);
            int start = t * perThread, end = Math.Min(Count, start + perThread);
            fixed (float* q = queryCopy) ScanRange(q, start, end, heap, filter);
        });
        var merged = new TopKHeap(k);
        var buffer = new SearchHit[k];
        foreach (var heap in heaps)
        {
            int n = heap.DrainBestFirst(buffer);
            for (int i = 0; i < n; i++) merged.Offer(buffer[i].Score, buffer[i].Id);
        }
        return merged.DrainBestFirst(results);
    }

    /// <summary>
    /// Scans rows [start, end) as four lanes walked side by side (<see cref="VectorKernels.DotFourLanes"/>:
    /// four sequential DRAM streams read about twice as fast as one), a chunk of each lane per call.
    /// </summary>
    void ScanRange(float* query, int start, int end, TopKHeap heap, Func<long, bool>? filter)
    {
        float* scores = stackalloc float[ChunkRows * VectorKernels.Lanes];
        int perLane = (end - start) / VectorKernels.Lanes;
        nint laneStride = (nint)perLane * _vectors.Stride;
        for (int offset = 0; offset < perLane; offset += ChunkRows)
        {
            int rows = Math.Min(ChunkRows, perLane - offset);
            VectorKernels.DotFourLanes(query, Dimension, _vectors.RowPointer(start + offset), _vectors.Stride, laneStride, rows, scores);
            for (int lane = 0; lane < VectorKernels.Lanes; lane++)
                Offer(scores + lane * rows, start + lane * perLane + offset, rows, heap, filter);
        }
        int tail = start + VectorKernels.Lanes * perLane;
        if (tail < end)
        {
            VectorKernels.DotMany(query, Dimension, _vectors.RowPointer(tail), _vectors.Stride, end - tail, scores);
            Offer(scores, tail, end - tail, heap, filter);
        }
    }

    void Offer(float* scores, int firstRow, int rows, TopKHeap heap, Func<long, bool>? filter)
    {
        float threshold = heap.Threshold;
        for (int i = 0; i < rows; i++)
        {
            if (scores[i] <= threshold) continue;
            long id = _ids[firstRow + i];
            if (filter != null && !filter(id)) continue;
            heap.Offer(scores[i], id);
            threshold = heap.Threshold;
        }
    }

    public long AllocatedBytes => _vectors.AllocatedBytes + (long)_ids.Capacity * sizeof(long) + (long)_rowById.Count * 28;

    public void Dispose() => _vectors.Dispose();
}
