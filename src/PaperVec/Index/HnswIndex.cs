using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace PaperVec.Index;

/// <summary>
/// Hierarchical navigable small world graph (Malkov and Yashunin) over unit vectors, scored by dot
/// product. Laid out like hnswlib: nodes are dense int slots; vectors live in one aligned
/// <see cref="VectorStore"/>; level-0 links in one flat native block of <c>1 + 2M</c> ints per slot
/// (count, then ids) next to nothing else, so an expansion touches one or two cache lines; the few
/// nodes above level 0 (about 1/M of them) own a small int array of <c>M + 1</c> ints per level.
///
/// Locking scheme:
/// <list type="bullet">
/// <item>Every slot has a version word that is both a writer lock and a seqlock. A writer makes it
/// odd (CAS), rewrites that node's lists, and makes it even again; a writer holds at most one node
/// lock at a time, so writers cannot deadlock. Readers never lock: they copy a list between two
/// reads of the version and retry if it changed or was odd, so they never see a torn list and
/// never block writers or each other.</item>
/// <item>A new node's vector, level and empty lists are written before any other node links to it,
/// and each link is published by releasing the linking node's version, so a reader that finds an id
/// finds its data complete.</item>
/// <item><c>_resizeGate</c> (reader-writer): every operation holds it shared; only growing the slot
/// arrays takes it exclusively. Pre-size with <see cref="HnswOptions.InitialCapacity"/> to avoid it.</item>
/// <item><c>_mutationGate</c> (reader-writer): Add and Remove hold it shared; <see cref="Repair"/>
/// and <see cref="Save"/> hold it exclusively, so they see no half-inserted node. Searches never
/// touch it and keep running during repair and save.</item>
/// <item><c>_idLock</c> (monitor) guards the external-id map and the free-slot stack only.</item>
/// </list>
/// Delete marks the node (never returned, still navigable); <see cref="Repair"/> later relinks
/// around deleted nodes and frees their slots for reuse.
/// </summary>
public sealed unsafe partial class HnswIndex : IDisposable
{
    const byte StateLive = 0;
    const byte StateDeleted = 1;   // unlisted but still linked: navigable, never returned
    const byte StateFree = 2;      // unlinked by Repair; slot waits for reuse
    const byte StateInserting = 3; // being linked; navigable, not yet returned
    const int MaxLevel = 31;

    readonly int _dimension;
    readonly int _m;
    readonly int _maxDegree0;
    readonly int _efConstruction;
    readonly double _levelMultiplier;
    readonly ulong _seed;
    readonly int _level0Stride;   // ints per slot in _level0: count + 2M ids
    readonly int _upperStride;    // ints per upper level: count + M ids

    VectorStore _vectors;
    int* _level0;
    int[]?[] _upper;
    byte[] _levels;
    byte[] _states;
    long[] _externalIds;
    int[] _versions;
    int _capacity;
    int _slotCount;               // slots ever handed out (high-water mark)

    readonly Dictionary<long, int> _slotById = new();
    readonly Stack<int> _freeSlots = new();
    readonly object _idLock = new();
    readonly ReaderWriterLockSlim _resizeGate = new(LockRecursionPolicy.NoRecursion);
    readonly ReaderWriterLockSlim _mutationGate = new(LockRecursionPolicy.NoRecursion);
    readonly HnswScratchPool _scratchPool;

    long _entry = -1;             // (level << 32) | slot of the entry point; -1 when empty
    int _liveCount;
    int _deletedCount;            // deleted but still linked, i.e. awaiting Repair
    long _levelDraws;
    bool _disposed;

    public HnswIndex(int dimension, HnswOptions? options = null)
    {
        options ??= new HnswOptions();
        options.Validate();
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension));
        Options = options;
        _dimension = dimension;
        _m = options.M;
        _maxDegree0 = 2 * options.M;
        _efConstruction = options.EfConstruction;
        _levelMultiplier = 1.0 / Math.Log(options.M);
        _seed = options.Seed;
        _level0Stride = 1 + _maxDegree0;
        _upperStride = 1 + _m;
        _scratchPool = new HnswScratchPool(_maxDegree0);

        int capacity = options.InitialCapacity;
        _vectors = new VectorStore(dimension, capacity);
        _level0 = AllocateLevel0(capacity);
        _upper = new int[]?[capacity];
        _levels = new byte[capacity];
        _states = new byte[capacity];
        _externalIds = new long[capacity];
        _versions = new int[capacity];
        _capacity = capacity;
        _slotById.EnsureCapacity(capacity);
    }

    public HnswOptions Options { get; }
    public int Dimension => _dimension;

    /// <summary>Nodes in the graph: live ones plus deleted ones that <see cref="Repair"/> has not unlinked yet.</summary>
    public int Count => Volatile.Read(ref _slotCount) - FreeSlotCount;

    public int LiveCount => Volatile.Read(ref _liveCount);

    /// <summary>Deleted nodes still linked into the graph.</summary>
    public int DeletedCount => Volatile.Read(ref _deletedCount);

    int FreeSlotCount { get { lock (_idLock) return _freeSlots.Count; } }

    int* AllocateLevel0(int capacity)
    {
        nuint bytes = (nuint)capacity * (nuint)_level0Stride * sizeof(int);
        return (int*)NativeBlock.AllocateZeroed(bytes, 64);
    }

    // ---- public operations -------------------------------------------------------------------

    public void Add(long id, ReadOnlySpan<float> vector)
    {
        if (vector.Length != _dimension)
            throw new ArgumentException($"Vector has {vector.Length} floats, the index holds {_dimension}.", nameof(vector));
        _mutationGate.EnterReadLock();
        try
        {
            int slot = AcquireSlotHoldingResizeGate(id);
            try
            {
                int level = DrawLevel();
                InitializeSlot(slot, id, level, vector);
                var scratch = RentScratch();
                try { Link(slot, level, scratch); }
                finally { _scratchPool.Return(scratch); }
                // Remove may have marked it deleted meanwhile; then it stays deleted.
                if (Interlocked.CompareExchange(ref _states[slot], StateLive, StateInserting) == StateInserting)
                    Interlocked.Increment(ref _liveCount);
            }
            finally { _resizeGate.ExitReadLock(); }
        }
        finally { _mutationGate.ExitReadLock(); }
    }

    /// <summary>Replaces the vector of <paramref name="id"/> (delete + insert).</summary>
    public void Update(long id, ReadOnlySpan<float> vector)
    {
        Remove(id);
        Add(id, vector);
    }

    /// <summary>Marks <paramref name="id"/> deleted: never returned again, still used to navigate until <see cref="Repair"/>.</summary>
    public bool Remove(long id)
    {
        _mutationGate.EnterReadLock();
        _resizeGate.EnterReadLock();
        try
        {
            int slot;
            lock (_idLock)
            {
                if (!_slotById.Remove(id, out slot)) return false;
            }
            byte previous = Interlocked.Exchange(ref _states[slot], StateDeleted);
            if (previous == StateLive) Interlocked.Decrement(ref _liveCount);
            Interlocked.Increment(ref _deletedCount);
            return true;
        }
        finally
        {
            _resizeGate.ExitReadLock();
            _mutationGate.ExitReadLock();
        }
    }

    public bool Contains(long id)
    {
        lock (_idLock) return _slotById.ContainsKey(id);
    }

    /// <summary>
    /// Copies the indexed vector of <paramref name="id"/> (false when it is not indexed), so callers
    /// that hold only an id need no store read. Re-checked after the copy: a slot freed and reused
    /// meanwhile is copied again.
    /// </summary>
    public bool TryCopyVector(long id, Span<float> destination)
    {
        if (destination.Length < _dimension) throw new ArgumentException($"destination holds {destination.Length} floats, vectors have {_dimension}");
        _resizeGate.EnterReadLock();
        try
        {
            while (true)
            {
                int slot;
                lock (_idLock) if (!_slotById.TryGetValue(id, out slot)) return false;
                new ReadOnlySpan<float>(_vectors.RowPointer(slot), _dimension).CopyTo(destination);
                lock (_idLock) if (_slotById.TryGetValue(id, out int now) && now == slot) return true;
            }
        }
        finally { _resizeGate.ExitReadLock(); }
    }

    public SearchHit[] Search(ReadOnlySpan<float> query, int k, Func<long, bool>? filter = null) =>
        Search(query, k, Options.DefaultEfSearch, filter);

    public SearchHit[] Search(ReadOnlySpan<float> query, int k, int ef, Func<long, bool>? filter = null)
    {
        if (k <= 0) return [];
        var buffer = new SearchHit[k];
        int found = Search(query, buffer, ef, filter);
        return found == k ? buffer : buffer[..found];
    }

    /// <summary>
    /// Fills <paramref name="results"/> (k = its length) with the best live matches, best first, and
    /// returns how many it found. Allocates nothing in steady state. With a filter, the search keeps
    /// expanding until it holds ef accepted nodes instead of post-filtering ef candidates, so recall
    /// holds at low selectivity at the cost of visiting more nodes.
    /// </summary>
    public int Search(ReadOnlySpan<float> query, Span<SearchHit> results, int ef, Func<long, bool>? filter = null)
    {
        if (query.Length != _dimension)
            throw new ArgumentException($"Query has {query.Length} floats, the index holds {_dimension}.", nameof(query));
        int k = results.Length;
        if (k == 0) return 0;
        ef = Math.Max(ef, k);
        _resizeGate.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            long entry = Volatile.Read(ref _entry);
            if (entry < 0) return 0;
            var scratch = RentScratch();
            try
            {
                fixed (float* q = query)
                {
                    SearchFromTop(q, entry, ef, scratch, filter);
                    return CollectHits(q, results, scratch, filter);
                }
            }
            finally { _scratchPool.Return(scratch); }
        }
        finally { _resizeGate.ExitReadLock(); }
    }

    /// <summary>
    /// Papers like an indexed one: fills <paramref name="results"/> with the best live matches to
    /// the vector of <paramref name="id"/> (itself included unless the filter drops it) and returns
    /// how many, or -1 when <paramref name="id"/> is not indexed. The search starts on level 0 at
    /// the node itself, already the nearest point to its own vector, instead of descending from the
    /// entry point and walking across the graph to it: fewer rows scored per answer for the same
    /// neighbourhood (measured in src/PaperVec/Index/README.md).
    /// </summary>
    public int SearchSimilar(long id, Span<SearchHit> results, int ef, Func<long, bool>? filter = null)
    {
        int k = results.Length;
        ef = Math.Max(ef, k);
        _resizeGate.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int slot;
            lock (_idLock) if (!_slotById.TryGetValue(id, out slot)) return -1;
            var scratch = RentScratch();
            try
            {
                fixed (float* q = scratch.EnsureQuery(_dimension))
                {
                    if (!TryCopyNode(slot, id, q, out byte state)) return -1; // freed and reused meanwhile
                    if (k == 0) return 0;
                    if (state == StateLive)
                        SearchLayer(q, slot, Distance(q, slot), ef, 0, scratch, constructing: false, filter);
                    else
                    {
                        // Still being linked (its list may be partial) or deleted: start from the top as any query does.
                        long entry = Volatile.Read(ref _entry);
                        if (entry < 0) return 0;
                        SearchFromTop(q, entry, ef, scratch, filter);
                    }
                    return CollectHits(q, results, scratch, filter);
                }
            }
            finally { _scratchPool.Return(scratch); }
        }
        finally { _resizeGate.ExitReadLock(); }
    }

    /// <summary>Greedy descent from the entry point through the upper levels, then the ef-wide search of level 0.</summary>
    void SearchFromTop(float* query, long entry, int ef, HnswScratch scratch, Func<long, bool>? filter)
    {
        int current = (int)entry;
        float currentDistance = Distance(query, current);
        for (int level = (int)(entry >> 32); level > 0; level--)
            GreedyClosest(query, ref current, ref currentDistance, level, scratch);
        SearchLayer(query, current, currentDistance, ef, 0, scratch, constructing: false, filter);
    }

    /// <summary>Copies a node's vector and state under its seqlock; false when the slot no longer holds <paramref name="id"/>.</summary>
    bool TryCopyNode(int node, long id, float* destination, out byte state)
    {
        ref int version = ref _versions[node];
        while (true)
        {
            int before = Volatile.Read(ref version);
            if ((before & 1) != 0) { Thread.SpinWait(4); continue; }
            long holder = _externalIds[node];
            state = Volatile.Read(ref _states[node]);
            Unsafe.CopyBlockUnaligned(destination, _vectors.RowPointer(node), (uint)(_dimension * sizeof(float)));
            Volatile.ReadBarrier();
            if (Volatile.Read(ref version) != before) continue;
            return holder == id && state != StateFree;
        }
    }

    /// <summary>The k = results.Length best of a finished level-0 search, best first, as they are now.</summary>
    int CollectHits(float* query, Span<SearchHit> results, HnswScratch scratch, Func<long, bool>? filter)
    {
        int k = results.Length;
        var heap = scratch.Results;
        while (heap.Count > k) heap.Pop();
        int held = heap.Count;
        scratch.EnsureSorted(held);
        for (int i = held - 1; i >= 0; i--)
        {
            scratch.SortedNodes[i] = heap.TopNode;
            heap.Pop();
        }
        // Read each hit's id and score together, as they are now: Repair may have freed a
        // node's slot during the search and an insert reused it, so the slot may hold
        // another paper than the one scored (checked by the concurrency stress test).
        int found = 0;
        for (int i = 0; i < held; i++)
            if (TryReadHit(query, scratch.SortedNodes[i], filter, out var hit)) results[found++] = hit;
        SortBestFirst(results[..found]);
        return found;
    }

    /// <summary>
    /// The external id and score of <paramref name="node"/> read under its seqlock (an insert
    /// writes id and vector while holding the node lock); false when the node is no longer live
    /// or its id fails the filter.
    /// </summary>
    bool TryReadHit(float* query, int node, Func<long, bool>? filter, out SearchHit hit)
    {
        ref int version = ref _versions[node];
        while (true)
        {
            int before = Volatile.Read(ref version);
            if ((before & 1) != 0) { Thread.SpinWait(4); continue; }
            long id = _externalIds[node];
            byte state = Volatile.Read(ref _states[node]);
            float score = VectorKernels.Dot(query, _vectors.RowPointer(node), _dimension);
            Volatile.ReadBarrier();
            if (Volatile.Read(ref version) != before) continue;
            hit = new SearchHit(id, score);
            return state == StateLive && (filter == null || filter(id));
        }
    }

    /// <summary>Insertion sort by score, best first: k is small and the hits are almost always in order already.</summary>
    static void SortBestFirst(Span<SearchHit> hits)
    {
        for (int i = 1; i < hits.Length; i++)
        {
            var hit = hits[i];
            int j = i - 1;
            while (j >= 0 && hits[j].Score < hit.Score)
            {
                hits[j + 1] = hits[j];
                j--;
            }
            hits[j + 1] = hit;
        }
    }

    // ---- slots -------------------------------------------------------------------------------

    /// <summary>Maps the id to a free or new slot and returns with the resize gate held shared.</summary>
    int AcquireSlotHoldingResizeGate(long id)
    {
        while (true)
        {
            _resizeGate.EnterReadLock();
            if (_disposed)
            {
                _resizeGate.ExitReadLock();
                throw new ObjectDisposedException(nameof(HnswIndex));
            }
            int slot = -1;
            bool duplicate = false;
            lock (_idLock)
            {
                if (_slotById.ContainsKey(id)) duplicate = true;
                else if (_freeSlots.Count > 0) slot = _freeSlots.Pop();
                else if (_slotCount < _capacity)
                {
                    slot = _slotCount;
                    _vectors.SetCount(slot + 1);
                    Volatile.Write(ref _slotCount, slot + 1);
                }
                if (slot >= 0) _slotById[id] = slot;
            }
            if (slot >= 0) return slot;
            _resizeGate.ExitReadLock();
            if (duplicate) throw new ArgumentException($"Id {id} is already in the index; use Update to replace it.", nameof(id));
            Grow();
        }
    }

    void Grow()
    {
        _resizeGate.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_slotCount < _capacity || _freeSlots.Count > 0) return; // another thread grew it
            int capacity = _capacity + Math.Max(1024, _capacity / 2);
            GrowTo(capacity);
        }
        finally { _resizeGate.ExitWriteLock(); }
    }

    void GrowTo(int capacity)
    {
        _vectors.EnsureCapacity(capacity);
        int* level0 = AllocateLevel0(capacity);
        Buffer.MemoryCopy(_level0, level0, (long)capacity * _level0Stride * sizeof(int), (long)_capacity * _level0Stride * sizeof(int));
        NativeBlock.Free(_level0);
        _level0 = level0;
        Array.Resize(ref _upper, capacity);
        Array.Resize(ref _levels, capacity);
        Array.Resize(ref _states, capacity);
        Array.Resize(ref _externalIds, capacity);
        Array.Resize(ref _versions, capacity);
        _slotById.EnsureCapacity(capacity);
        _capacity = capacity;
    }

    void InitializeSlot(int slot, long id, int level, ReadOnlySpan<float> vector)
    {
        LockNode(slot);
        _states[slot] = StateInserting;
        _vectors.Write(slot, vector);
        _externalIds[slot] = id;
        _levels[slot] = (byte)level;
        _level0[(nint)slot * _level0Stride] = 0;
        _upper[slot] = level > 0 ? NewUpperLists(level) : null;
        UnlockNode(slot);
    }

    /// <summary>Upper lists are pinned (pinned object heap) because writers address them by raw pointer.</summary>
    int[] NewUpperLists(int level) => GC.AllocateArray<int>(level * _upperStride, pinned: true);

    /// <summary>Level = floor(-ln(U) / ln(M)), U drawn from a hash of (seed, draw number): reproducible, lock-free.</summary>
    int DrawLevel()
    {
        ulong draw = (ulong)Interlocked.Increment(ref _levelDraws);
        ulong bits = SplitMix64(_seed ^ (draw * 0x9E3779B97F4A7C15UL));
        double uniform = ((bits >> 11) + 1) * (1.0 / (1UL << 53)); // (0, 1]
        return Math.Min(MaxLevel, (int)(-Math.Log(uniform) * _levelMultiplier));
    }

    static ulong SplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    HnswScratch RentScratch()
    {
        var scratch = _scratchPool.Rent();
        scratch.Visited.EnsureCapacity(_capacity);
        return scratch;
    }

    // ---- node locks and list access ----------------------------------------------------------

    void LockNode(int node)
    {
        ref int version = ref _versions[node];
        var spinner = new SpinWait();
        while (true)
        {
            int current = Volatile.Read(ref version);
            if ((current & 1) == 0 && Interlocked.CompareExchange(ref version, current + 1, current) == current) return;
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    void UnlockNode(int node)
    {
        ref int version = ref _versions[node];
        Volatile.Write(ref version, version + 1);
    }

    /// <summary>The list of <paramref name="node"/> at <paramref name="level"/> (count first), or null when the node has no such level.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    int* ListPointer(int node, int level, out int maxDegree)
    {
        if (level == 0)
        {
            maxDegree = _maxDegree0;
            return _level0 + (nint)node * _level0Stride;
        }
        maxDegree = _m;
        var upper = _upper[node];
        if (upper == null || upper.Length < level * _upperStride) return null;
        return (int*)Unsafe.AsPointer(ref upper[(level - 1) * _upperStride]);
    }

    /// <summary>Copies a consistent snapshot of a neighbour list into <paramref name="destination"/>.</summary>
    int ReadNeighbors(int node, int level, int* destination)
    {
        ref int version = ref _versions[node];
        while (true)
        {
            int before = Volatile.Read(ref version);
            if ((before & 1) != 0) { Thread.SpinWait(4); continue; }
            int count;
            if (level == 0)
            {
                int* list = _level0 + (nint)node * _level0Stride;
                count = Math.Clamp(list[0], 0, _maxDegree0);
                Unsafe.CopyBlockUnaligned(destination, list + 1, (uint)count * sizeof(int));
            }
            else
            {
                var upper = _upper[node];
                int offset = (level - 1) * _upperStride;
                if (upper == null || upper.Length < offset + _upperStride) return 0;
                count = Math.Clamp(upper[offset], 0, _m);
                fixed (int* list = &upper[offset]) Unsafe.CopyBlockUnaligned(destination, list + 1, (uint)count * sizeof(int));
            }
            // The copy must complete before the version is read again (a compiler-only fence on x64).
            Volatile.ReadBarrier();
            if (Volatile.Read(ref version) == before) return count;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    float Distance(float* query, int node) => -VectorKernels.Dot(query, _vectors.RowPointer(node), _dimension);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    float DistanceBetween(int a, int b) => -VectorKernels.Dot(_vectors.RowPointer(a), _vectors.RowPointer(b), _dimension);

    /// <summary>
    /// Prefetches every cache line of a row. Called for one row at a time, just ahead of scoring it:
    /// prefetching all lines of all neighbours at once (about 15 rows x 24 lines) overflows the
    /// core's line-fill buffers, and the prefetches then stall the pipeline themselves (profiled:
    /// a third of search time sat on one prefetch instruction). Every line rather than every other
    /// one, because the adjacent-line prefetcher fills L2, not L1, and measured slower.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void PrefetchVector(int node)
    {
        if (!Sse.IsSupported) return;
        byte* row = (byte*)_vectors.RowPointer(node);
        int bytes = _dimension * sizeof(float);
        for (int offset = 0; offset < bytes; offset += 64) Sse.Prefetch0(row + offset);
    }

    /// <summary>The first line of a row only: starts the DRAM access early at the cost of one fill buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void PrefetchFirstLine(int node)
    {
        if (Sse.IsSupported) Sse.Prefetch0(_vectors.RowPointer(node));
    }

    /// <summary>
    /// Every cache line of a node's level-0 list (count + 2M ids: 132 bytes at M=16, so up to three
    /// lines), for the candidate expanded next. The first line alone left the rest to demand misses:
    /// prefetching all of them measured +8-14% QPS at ef 40-64 (four paired runs, 50k clustered).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void PrefetchLinks(int node)
    {
        if (!Sse.IsSupported) return;
        byte* list = (byte*)(_level0 + (nint)node * _level0Stride);
        int bytes = _level0Stride * sizeof(int);
        for (int offset = 0; offset < bytes; offset += 64) Sse.Prefetch0(list + offset);
        Sse.Prefetch0(list + bytes - 1);
    }

    // ---- search ------------------------------------------------------------------------------

    void GreedyClosest(float* query, ref int current, ref float currentDistance, int level, HnswScratch scratch)
    {
        fixed (int* neighbors = scratch.Neighbors)
        {
            bool improved = true;
            while (improved)
            {
                improved = false;
                int count = ReadNeighbors(current, level, neighbors);
                for (int i = 0; i < count; i++) PrefetchFirstLine(neighbors[i]);
                if (count > 0) PrefetchVector(neighbors[0]);
                for (int i = 0; i < count; i++)
                {
                    if (i + 1 < count) PrefetchVector(neighbors[i + 1]);
                    float distance = Distance(query, neighbors[i]);
                    if (distance < currentDistance)
                    {
                        currentDistance = distance;
                        current = neighbors[i];
                        improved = true;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Best-first search of one layer (the paper's algorithm 2). Leaves the best <paramref name="ef"/>
    /// accepted nodes in <c>scratch.Results</c> keyed by negated distance. Construction accepts every
    /// linked node (deleted ones too: they still navigate); queries accept live nodes that pass the
    /// filter, and keep expanding until ef of them are held, which widens the search under a filter.
    /// </summary>
    void SearchLayer(float* query, int entry, float entryDistance, int ef, int level, HnswScratch scratch, bool constructing, Func<long, bool>? filter)
    {
        var visited = scratch.Visited;
        var candidates = scratch.Candidates;
        var results = scratch.Results;
        visited.StartNewSearch();
        candidates.Clear();
        results.Clear();

        visited.TryVisit(entry);
        candidates.Push(entryDistance, entry);
        float bound = float.MaxValue;
        if (IsAccepted(entry, constructing, filter))
        {
            results.Push(-entryDistance, entry);
            bound = entryDistance;
        }

        fixed (int* neighbors = scratch.Neighbors)
        {
            while (candidates.Count > 0)
            {
                float candidateDistance = candidates.TopKey;
                if (candidateDistance > bound && results.Count >= ef) break;
                int candidate = candidates.TopNode;
                candidates.Pop();
                if (level == 0 && candidates.Count > 0) PrefetchLinks(candidates.TopNode);

                int count = ReadNeighbors(candidate, level, neighbors);
                // First pass: drop visited ids and touch the first line of the rest, so every
                // row's DRAM access has started; then each row is prefetched whole one step ahead
                // of scoring it (see PrefetchVector for why not all of them at once).
                int fresh = 0;
                for (int i = 0; i < count; i++)
                {
                    int node = neighbors[i];
                    if (!visited.TryVisit(node)) continue;
                    neighbors[fresh++] = node;
                    PrefetchFirstLine(node);
                }
                if (fresh > 0) PrefetchVector(neighbors[0]);
                for (int i = 0; i < fresh; i++)
                {
                    int node = neighbors[i];
                    if (i + 1 < fresh) PrefetchVector(neighbors[i + 1]);
                    float distance = Distance(query, node);
                    if (results.Count >= ef && distance >= bound) continue;
                    candidates.Push(distance, node);
                    if (!IsAccepted(node, constructing, filter)) continue;
                    results.Push(-distance, node);
                    if (results.Count > ef) results.Pop();
                    bound = -results.TopKey;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    bool IsAccepted(int node, bool constructing, Func<long, bool>? filter)
    {
        byte state = Volatile.Read(ref _states[node]);
        if (constructing) return state != StateFree;
        return state == StateLive && (filter == null || filter(_externalIds[node]));
    }

    // ---- insert ------------------------------------------------------------------------------

    void Link(int slot, int level, HnswScratch scratch)
    {
        while (true)
        {
            long entry = Volatile.Read(ref _entry);
            if (entry < 0)
            {
                if (Interlocked.CompareExchange(ref _entry, Pack(slot, level), -1) == -1) return;
                continue;
            }

            float* query = _vectors.RowPointer(slot);
            int current = (int)entry;
            int topLevel = (int)(entry >> 32);
            float currentDistance = Distance(query, current);
            for (int l = topLevel; l > level; l--) GreedyClosest(query, ref current, ref currentDistance, l, scratch);

            for (int l = Math.Min(level, topLevel); l >= 0; l--)
            {
                SearchLayer(query, current, currentDistance, _efConstruction, l, scratch, constructing: true, filter: null);
                int found = DrainNearestFirst(scratch.Results, scratch, slot);
                if (found == 0) continue;
                current = scratch.SortedNodes[0];
                currentDistance = scratch.SortedDistances[0];
                int selected = SelectByHeuristic(scratch.SortedNodes, scratch.SortedDistances, found, _m, scratch.Selected, scratch.SelectedDistances);
                WriteList(slot, l, scratch.Selected, selected);
                for (int i = 0; i < selected; i++)
                    LinkBack(scratch.Selected[i], slot, scratch.SelectedDistances[i], l, scratch);
            }

            // A node drawn above the current top becomes the entry point (unless a taller one won the race).
            while (level > topLevel)
            {
                long seen = Interlocked.CompareExchange(ref _entry, Pack(slot, level), entry);
                if (seen == entry) break;
                entry = seen;
                topLevel = (int)(entry >> 32);
            }
            return;
        }
    }

    static long Pack(int slot, int level) => ((long)level << 32) | (uint)slot;

    /// <summary>Empties the results heap into scratch.Sorted*, nearest first, leaving out <paramref name="exclude"/>.</summary>
    static int DrainNearestFirst(DistanceHeap results, HnswScratch scratch, int exclude)
    {
        int count = results.Count;
        scratch.EnsureSorted(count);
        int write = count;
        while (results.Count > 0)
        {
            int node = results.TopNode;
            float distance = -results.TopKey;
            results.Pop();
            if (node == exclude) continue;
            write--;
            scratch.SortedNodes[write] = node;
            scratch.SortedDistances[write] = distance;
        }
        if (write > 0)
        {
            Array.Copy(scratch.SortedNodes, write, scratch.SortedNodes, 0, count - write);
            Array.Copy(scratch.SortedDistances, write, scratch.SortedDistances, 0, count - write);
        }
        return count - write;
    }

    /// <summary>
    /// The paper's algorithm 4 (as in hnswlib): walk candidates nearest first and keep one only if
    /// it is closer to the base than to every neighbour kept so far, so links spread over
    /// directions instead of piling into one cluster.
    /// </summary>
    int SelectByHeuristic(int[] nodes, float[] distances, int count, int limit, int[] selected, float[] selectedDistances)
    {
        if (count <= limit)
        {
            Array.Copy(nodes, selected, count);
            Array.Copy(distances, selectedDistances, count);
            return count;
        }
        int kept = 0;
        for (int i = 0; i < count && kept < limit; i++)
        {
            int candidate = nodes[i];
            float toBase = distances[i];
            bool diverse = true;
            for (int j = 0; j < kept; j++)
            {
                if (DistanceBetween(candidate, selected[j]) < toBase) { diverse = false; break; }
            }
            if (!diverse) continue;
            selected[kept] = candidate;
            selectedDistances[kept] = toBase;
            kept++;
        }
        return kept;
    }

    void WriteList(int node, int level, int[] ids, int count)
    {
        LockNode(node);
        int* list = ListPointer(node, level, out int maxDegree);
        if (list != null)
        {
            count = Math.Min(count, maxDegree);
            for (int i = 0; i < count; i++) list[1 + i] = ids[i];
            list[0] = count;
        }
        UnlockNode(node);
    }

    /// <summary>Adds the reverse link neighbour → newcomer, pruning the neighbour's list with the heuristic when full.</summary>
    void LinkBack(int neighbor, int newcomer, float distance, int level, HnswScratch scratch)
    {
        LockNode(neighbor);
        try
        {
            int* list = ListPointer(neighbor, level, out int maxDegree);
            if (list == null) return;
            int count = list[0];
            for (int i = 0; i < count; i++) if (list[1 + i] == newcomer) return;
            if (count < maxDegree)
            {
                list[1 + count] = newcomer;
                list[0] = count + 1;
                return;
            }

            var nodes = scratch.PruneNodes;
            var distances = scratch.PruneDistances;
            nodes[0] = newcomer;
            distances[0] = distance;
            for (int i = 0; i < count; i++) nodes[i + 1] = list[1 + i];
            ScoreAgainst(neighbor, nodes, 1, count, distances);
            SortByDistance(nodes, distances, count + 1);
            int kept = SelectByHeuristic(nodes, distances, count + 1, maxDegree, scratch.PruneSelected, scratch.PruneSelectedDistances);
            for (int i = 0; i < kept; i++) list[1 + i] = scratch.PruneSelected[i];
            list[0] = kept;
        }
        finally { UnlockNode(neighbor); }
    }

    /// <summary>
    /// Distances from <paramref name="baseNode"/> to nodes[start..start+count), with the prefetch
    /// pattern of a search expansion: these rows are a node's links, not rows the insert's search
    /// just read, so without it they come from DRAM one after another (random 384-d rows measured
    /// here: 2.7 M/s unprefetched, 3.0 M/s prefetched one row ahead).
    /// </summary>
    void ScoreAgainst(int baseNode, int[] nodes, int start, int count, float[] distances)
    {
        float* from = _vectors.RowPointer(baseNode);
        int end = start + count;
        for (int i = start; i < end; i++) PrefetchFirstLine(nodes[i]);
        if (count > 0) PrefetchVector(nodes[start]);
        for (int i = start; i < end; i++)
        {
            if (i + 1 < end) PrefetchVector(nodes[i + 1]);
            distances[i] = Distance(from, nodes[i]);
        }
    }

    /// <summary>Insertion sort: lists hold at most 2M + 1 entries.</summary>
    static void SortByDistance(int[] nodes, float[] distances, int count)
    {
        for (int i = 1; i < count; i++)
        {
            float d = distances[i];
            int n = nodes[i];
            int j = i - 1;
            while (j >= 0 && distances[j] > d)
            {
                distances[j + 1] = distances[j];
                nodes[j + 1] = nodes[j];
                j--;
            }
            distances[j + 1] = d;
            nodes[j + 1] = n;
        }
    }

    // ---- memory ------------------------------------------------------------------------------

    /// <summary>Bytes held by the index, by part, and per node in the graph.</summary>
    public HnswMemoryUsage MemoryUsage()
    {
        _resizeGate.EnterReadLock();
        try
        {
            long vectors = _vectors.AllocatedBytes;
            long level0 = (long)_capacity * _level0Stride * sizeof(int);
            long upper = (long)_capacity * IntPtr.Size;
            for (int i = 0; i < _slotCount; i++)
                if (_upper[i] is { } array) upper += 24 + (long)array.Length * sizeof(int); // array header + ints
            long metadata = (long)_capacity * (sizeof(byte) + sizeof(byte) + sizeof(long) + sizeof(int))
                + _reached.Length + (long)_reachStack.Length * sizeof(int); // Repair's reused buffers
            long idMap;
            lock (_idLock) idMap = (long)_slotById.EnsureCapacity(0) * 28; // entry (24) + bucket (4)
            return new HnswMemoryUsage(vectors, level0, upper, metadata, idMap, Math.Max(1, Count));
        }
        finally { _resizeGate.ExitReadLock(); }
    }

    public void Dispose()
    {
        _resizeGate.EnterWriteLock();
        try
        {
            if (_disposed) return;
            _disposed = true;
            _vectors.Dispose();
            NativeBlock.Free(_level0);
            _level0 = null;
            _entry = -1;
        }
        finally { _resizeGate.ExitWriteLock(); }
    }
}

/// <summary>Memory of an <see cref="HnswIndex"/> in bytes.</summary>
public readonly record struct HnswMemoryUsage(long Vectors, long Level0Links, long UpperLinks, long Metadata, long IdMap, int Nodes)
{
    public long Total => Vectors + Level0Links + UpperLinks + Metadata + IdMap;
    public double BytesPerVector => (double)Total / Nodes;
}
