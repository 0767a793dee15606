namespace PaperVec.Index;

public sealed unsafe partial class HnswIndex
{
    const int ExactChunkRows = 256; // rows of each lane per kernel call, as in ExactIndex (PaperVec.Bench)

    public SearchHit[] SearchExact(ReadOnlySpan<float> query, int k, Func<long, bool>? filter = null)
    {
        if (k <= 0) return [];
        var buffer = new SearchHit[k];
        int found = SearchExact(query, buffer, filter);
        return found == k ? buffer : buffer[..found];
    }

    /// <summary>
    /// Exact top-k over the live nodes: every slot's row scored with the scan kernels (the rows the
    /// graph already holds are contiguous, so no second copy is kept), the best k live ones that pass
    /// the filter kept, best first. What <c>PaperDatabase</c> answers below its exact-search
    /// crossover, where scanning costs no more than the graph search and misses nothing.
    /// Runs alongside writes like <see cref="Search(ReadOnlySpan{float}, Span{SearchHit}, int, Func{long, bool}?)"/>:
    /// each kept slot's id, state and score are read again under its seqlock at the end (a node
    /// inserted or removed meanwhile may be missed or dropped, as with the graph search).
    /// </summary>
    public int SearchExact(ReadOnlySpan<float> query, Span<SearchHit> results, Func<long, bool>? filter = null)
    {
        if (query.Length != _dimension)
            throw new ArgumentException($"Query has {query.Length} floats, the index holds {_dimension}.", nameof(query));
        int k = results.Length;
        if (k == 0) return 0;
        _resizeGate.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int slots = Volatile.Read(ref _slotCount);
            var heap = new TopKHeap(k); // holds slots; ids are read under the seqlock below
            fixed (float* q = query)
            {
                ScanSlots(q, slots, heap, filter);
                Span<SearchHit> bySlot = k <= 64 ? stackalloc SearchHit[k] : new SearchHit[k];
                int held = heap.DrainBestFirst(bySlot);
                int found = 0;
                for (int i = 0; i < held; i++)
                    if (TryReadHit(q, (int)bySlot[i].Id, filter, out var hit)) results[found++] = hit;
                SortBestFirst(results[..found]);
                return found;
            }
        }
        finally { _resizeGate.ExitReadLock(); }
    }

    /// <summary>Slots [0, slots) as four lanes walked side by side (as ExactIndex in PaperVec.Bench does), a chunk of each lane per kernel call.</summary>
    void ScanSlots(float* query, int slots, TopKHeap heap, Func<long, bool>? filter)
    {
        float* scores = stackalloc float[ExactChunkRows * VectorKernels.Lanes];
        int stride = _vectors.Stride;
        int perLane = slots / VectorKernels.Lanes;
        nint laneStride = (nint)perLane * stride;
        for (int offset = 0; offset < perLane; offset += ExactChunkRows)
        {
            int rows = Math.Min(ExactChunkRows, perLane - offset);
            VectorKernels.DotFourLanes(query, _dimension, _vectors.RowPointer(offset), stride, laneStride, rows, scores);
            for (int lane = 0; lane < VectorKernels.Lanes; lane++)
                OfferLive(scores + lane * rows, lane * perLane + offset, rows, heap, filter);
        }
        int tail = VectorKernels.Lanes * perLane;
        if (tail < slots)
        {
            VectorKernels.DotMany(query, _dimension, _vectors.RowPointer(tail), stride, slots - tail, scores);
            OfferLive(scores, tail, slots - tail, heap, filter);
        }
    }

    void OfferLive(float* scores, int firstSlot, int rows, TopKHeap heap, Func<long, bool>? filter)
    {
        float threshold = heap.Threshold;
        for (int i = 0; i < rows; i++)
        {
            if (scores[i] <= threshold) continue;
            int slot = firstSlot + i;
            if (Volatile.Read(ref _states[slot]) != StateLive) continue;
            if (filter != null && !filter(_externalIds[slot])) continue;
            heap.Offer(scores[i], slot);
            threshold = heap.Threshold;
        }
    }
}
