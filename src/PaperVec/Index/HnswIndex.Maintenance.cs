namespace PaperVec.Index;

/// <summary>What one <see cref="HnswIndex.Repair"/> did.</summary>
public readonly record struct HnswRepairReport(int FreedNodes, int RelinkedLists, int ReconnectedNodes);

public sealed unsafe partial class HnswIndex
{
    /// <summary>
    /// Unlinks deleted nodes: every live list that points at one is rebuilt with the heuristic from
    /// its live neighbours plus the deleted neighbours' live neighbours, the entry point moves to a
    /// live node, and the deleted slots go on the free list for reuse. Then any live node that
    /// level 0 cannot reach from the entry point (plain HNSW can strand a node whose in-links all
    /// got pruned) is linked from its nearest reachable node. Searches keep running; inserts and
    /// removes wait.
    /// </summary>
    public HnswRepairReport Repair()
    {
        _mutationGate.EnterWriteLock();
        _resizeGate.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var scratch = RentScratch();
            try
            {
                int slots = _slotCount;
                var deleted = new List<int>();
                for (int s = 0; s < slots; s++) if (_states[s] == StateDeleted) deleted.Add(s);
                int relinked = 0;
                if (deleted.Count > 0)
                {
                    MoveEntryToLiveNode(); // first, so the searches below start from a live node
                    for (int node = 0; node < slots; node++)
                    {
                        if (_states[node] != StateLive) continue;
                        for (int level = 0; level <= _levels[node]; level++)
                            if (RelinkAroundDeleted(node, level, scratch)) relinked++;
                    }
                    MoveEntryToLiveNode();
                    lock (_idLock)
                    {
                        foreach (int node in deleted)
                        {
                            Volatile.Write(ref _states[node], StateFree);
                            _freeSlots.Push(node);
                        }
                    }
                    Interlocked.Add(ref _deletedCount, -deleted.Count);
                }
                int reconnected = ReconnectUnreachable();
                return new HnswRepairReport(deleted.Count, relinked, reconnected);
            }
            finally { _scratchPool.Return(scratch); }
        }
        finally
        {
            _resizeGate.ExitReadLock();
            _mutationGate.ExitWriteLock();
        }
    }

    bool RelinkAroundDeleted(int node, int level, HnswScratch scratch)
    {
        int* list = ListPointer(node, level, out int maxDegree);
        if (list == null) return false;
        int count = list[0];
        bool pointsAtDead = false;
        for (int i = 0; i < count; i++) if (_states[list[1 + i]] != StateLive) { pointsAtDead = true; break; }
        if (!pointsAtDead) return false;

        // Candidates: live neighbours, and the live neighbours of each dead neighbour (two hops).
        // When the dead are so dense that this leaves few, a layer search adds more, so no live
        // node is left without a way out.
        int searched = CountLiveWithinTwoHops(list, count, level, maxDegree) < Math.Max(2, maxDegree / 4)
            ? SearchLiveNeighbors(node, level, scratch) : 0;
        var visited = scratch.Visited;
        visited.StartNewSearch();
        visited.TryVisit(node);
        int candidates = 0;
        scratch.EnsurePrune(maxDegree * (maxDegree + 1) + 1 + searched);
        for (int i = 0; i < searched; i++)
            if (visited.TryVisit(scratch.SortedNodes[i])) scratch.PruneNodes[candidates++] = scratch.SortedNodes[i];
        for (int i = 0; i < count; i++)
        {
            int neighbor = list[1 + i];
            if (_states[neighbor] == StateLive)
            {
                if (visited.TryVisit(neighbor)) scratch.PruneNodes[candidates++] = neighbor;
                continue;
            }
            int* second = ListPointer(neighbor, level, out _);
            if (second == null) continue;
            int secondCount = Math.Min(second[0], maxDegree);
            for (int j = 0; j < secondCount; j++)
            {
                int hop = second[1 + j];
                if (_states[hop] == StateLive && visited.TryVisit(hop)) scratch.PruneNodes[candidates++] = hop;
            }
        }
        ScoreAgainst(node, scratch.PruneNodes, 0, candidates, scratch.PruneDistances);
        Array.Sort(scratch.PruneDistances, scratch.PruneNodes, 0, candidates);
        int kept = SelectByHeuristic(scratch.PruneNodes, scratch.PruneDistances, candidates, maxDegree, scratch.PruneSelected, scratch.PruneSelectedDistances);
        WriteList(node, level, scratch.PruneSelected, kept);
        return true;
    }

    int CountLiveWithinTwoHops(int* list, int count, int level, int maxDegree)
    {
        int live = 0;
        for (int i = 0; i < count; i++)
        {
            int neighbor = list[1 + i];
            if (_states[neighbor] == StateLive) { live++; continue; }
            int* second = ListPointer(neighbor, level, out _);
            if (second == null) continue;
            for (int j = 0; j < Math.Min(second[0], maxDegree); j++) if (_states[second[1 + j]] == StateLive) live++;
        }
        return live;
    }

    /// <summary>Live nodes near <paramref name="node"/> on <paramref name="level"/>, found by a search from the entry point, into scratch.SortedNodes.</summary>
    int SearchLiveNeighbors(int node, int level, HnswScratch scratch)
    {
        long entry = Volatile.Read(ref _entry);
        if (entry < 0 || (int)(entry >> 32) < level) return 0;
        float* query = _vectors.RowPointer(node);
        int current = (int)entry;
        float currentDistance = Distance(query, current);
        for (int l = (int)(entry >> 32); l > level; l--) GreedyClosest(query, ref current, ref currentDistance, l, scratch);
        SearchLayer(query, current, currentDistance, _efConstruction, level, scratch, constructing: false, filter: null);
        return DrainNearestFirst(scratch.Results, scratch, node);
    }

    void MoveEntryToLiveNode()
    {
        long entry = Volatile.Read(ref _entry);
        if (entry >= 0 && _states[(int)entry] == StateLive) return;
        int best = -1;
        for (int node = 0; node < _slotCount; node++)
            if (_states[node] == StateLive && (best < 0 || _levels[node] > _levels[best])) best = node;
        Volatile.Write(ref _entry, best < 0 ? -1 : Pack(best, _levels[best]));
    }

    /// <summary>Links every live node that level 0 cannot reach from the entry point; returns how many.</summary>
    int ReconnectUnreachable()
    {
        int reconnected = 0;
        // A link added to a full list replaces that list's farthest entry, which can strand it in
        // turn, so sweep until a pass finds nothing (in practice one or two passes).
        for (int pass = 0; pass < 8; pass++)
        {
            var reached = ReachableOnLevel0();
            if (reached == null) return reconnected;
            int fixedThisPass = 0;
            for (int node = 0; node < _slotCount; node++)
            {
                if (_states[node] != StateLive || reached[node]) continue;
                int nearestWithRoom = -1, nearest = -1;
                float nearestWithRoomDistance = float.MaxValue, nearestDistance = float.MaxValue;
                for (int other = 0; other < _slotCount; other++)
                {
                    if (!reached[other] || _states[other] == StateFree) continue;
                    float distance = DistanceBetween(node, other);
                    if (distance < nearestDistance) { nearestDistance = distance; nearest = other; }
                    if (distance < nearestWithRoomDistance && _level0[(nint)other * _level0Stride] < _maxDegree0)
                    {
                        nearestWithRoomDistance = distance;
                        nearestWithRoom = other;
                    }
                }
                if (nearest < 0) continue;
                int source = nearestWithRoom >= 0 ? nearestWithRoom : nearest;
                AddOrReplaceFarthest(source, node);
                MarkReachable(node, reached);
                fixedThisPass++;
            }
            reconnected += fixedThisPass;
            if (fixedThisPass == 0) break;
        }
        return reconnected;
    }

    void AddOrReplaceFarthest(int source, int target)
    {
        LockNode(source);
        int* list = _level0 + (nint)source * _level0Stride;
        int count = list[0];
        if (count < _maxDegree0)
        {
            list[1 + count] = target;
            list[0] = count + 1;
        }
        else
        {
            int farthest = 0;
            float farthestDistance = float.MinValue;
            for (int i = 0; i < count; i++)
            {
                float distance = DistanceBetween(source, list[1 + i]);
                if (distance > farthestDistance) { farthestDistance = distance; farthest = i; }
            }
            list[1 + farthest] = target;
        }
        UnlockNode(source);
    }

    // Reachability buffers, reused: the database repairs after every parallel insert batch, and a
    // fresh bool[n] plus a growing Stack<int> cost 2.3 MB on the large-object heap each time at 200k
    // nodes (a gen2 collection every second or so under bulk ingest). Every caller holds the
    // mutation gate exclusively, so one pair serves them all.
    bool[] _reached = [];
    int[] _reachStack = [];

    /// <summary>
    /// Level-0 reachability from the entry point through every linked (non-free) node, indexed by
    /// slot (valid below the slot count; the array is reused by the next call); null for an empty graph.
    /// </summary>
    bool[]? ReachableOnLevel0()
    {
        long entry = Volatile.Read(ref _entry);
        if (entry < 0) return null;
        int slots = _slotCount;
        if (_reached.Length < slots) _reached = new bool[Math.Max(slots, _reached.Length * 3 / 2)];
        else Array.Clear(_reached, 0, slots); // slots never shrink, so nothing above them was ever set
        if (_reachStack.Length < slots) _reachStack = new int[Math.Max(slots, _reachStack.Length * 3 / 2)];
        MarkReachable((int)entry, _reached);
        return _reached;
    }

    /// <summary>Marks every node reachable from <paramref name="start"/> (depth first; each node is pushed at most once, so the stack never outgrows the slot count).</summary>
    void MarkReachable(int start, bool[] reached)
    {
        if (reached[start]) return;
        int slots = _slotCount;
        int[] stack = _reachStack;
        int depth = 0;
        reached[start] = true;
        stack[depth++] = start;
        while (depth > 0)
        {
            int node = stack[--depth];
            int* list = _level0 + (nint)node * _level0Stride;
            int count = Math.Min(list[0], _maxDegree0);
            for (int i = 0; i < count; i++)
            {
                int next = list[1 + i];
                if ((uint)next >= (uint)slots || reached[next] || _states[next] == StateFree) continue;
                reached[next] = true;
                stack[depth++] = next;
            }
        }
    }

    /// <summary>Live nodes that level 0 cannot reach from the entry point (0 after <see cref="Repair"/>).</summary>
    public int CountUnreachableLiveNodes()
    {
        _mutationGate.EnterWriteLock();
        _resizeGate.EnterReadLock();
        try
        {
            var reached = ReachableOnLevel0();
            int unreachable = 0;
            for (int node = 0; node < _slotCount; node++)
                if (_states[node] == StateLive && (reached == null || !reached[node])) unreachable++;
            return unreachable;
        }
        finally
        {
            _resizeGate.ExitReadLock();
            _mutationGate.ExitWriteLock();
        }
    }

    /// <summary>
    /// Throws <see cref="InvalidOperationException"/> naming the first broken invariant: degrees
    /// within bounds, no self or duplicate links, no link to a freed slot or to a node below the
    /// link's level, entry point on the top level, live count and id map consistent.
    /// </summary>
    public void CheckIntegrity()
    {
        _mutationGate.EnterWriteLock();
        _resizeGate.EnterReadLock();
        try
        {
            string? problem = FindIntegrityProblem();
            if (problem != null) throw new InvalidOperationException("HNSW integrity: " + problem);
        }
        finally
        {
            _resizeGate.ExitReadLock();
            _mutationGate.ExitWriteLock();
        }
    }

    string? FindIntegrityProblem()
    {
        int slots = _slotCount;
        int live = 0, deleted = 0, topLevel = -1;
        for (int node = 0; node < slots; node++)
        {
            byte state = _states[node];
            if (state > StateFree) return $"slot {node} has state {state}";
            if (state == StateFree) continue;
            if (state == StateLive) live++; else deleted++;
            int nodeLevel = _levels[node];
            if (nodeLevel > MaxLevel) return $"slot {node} has level {nodeLevel}";
            topLevel = Math.Max(topLevel, nodeLevel);
            int upperLength = _upper[node]?.Length ?? 0;
            if (upperLength != nodeLevel * _upperStride) return $"slot {node} at level {nodeLevel} has {upperLength} upper ints";
            for (int level = 0; level <= nodeLevel; level++)
            {
                int* list = ListPointer(node, level, out int maxDegree);
                int count = list[0];
                if (count < 0 || count > maxDegree) return $"slot {node} level {level} has degree {count} (max {maxDegree})";
                for (int i = 0; i < count; i++)
                {
                    int neighbor = list[1 + i];
                    if ((uint)neighbor >= (uint)slots) return $"slot {node} level {level} links to {neighbor}, outside 0..{slots - 1}";
                    if (neighbor == node) return $"slot {node} level {level} links to itself";
                    if (_states[neighbor] == StateFree) return $"slot {node} level {level} links to freed slot {neighbor}";
                    if (_levels[neighbor] < level) return $"slot {node} level {level} links to {neighbor} whose level is {_levels[neighbor]}";
                    for (int j = 0; j < i; j++)
                        if (list[1 + j] == neighbor) return $"slot {node} level {level} links to {neighbor} twice";
                }
            }
        }
        if (live != _liveCount) return $"live count {_liveCount} but {live} live slots";
        if (deleted != _deletedCount) return $"deleted count {_deletedCount} but {deleted} deleted slots";
        long entry = _entry;
        if (live + deleted == 0) return entry == -1 ? null : "empty graph has an entry point";
        if (entry < 0) return "non-empty graph has no entry point";
        int entryNode = (int)entry, entryLevel = (int)(entry >> 32);
        if ((uint)entryNode >= (uint)slots || _states[entryNode] == StateFree) return $"entry point {entryNode} is not a linked slot";
        if (entryLevel != _levels[entryNode] || entryLevel != topLevel) return $"entry level {entryLevel}, node level {_levels[entryNode]}, top level {topLevel}";
        lock (_idLock)
        {
            if (_slotById.Count != live) return $"id map holds {_slotById.Count} ids for {live} live slots";
            foreach (var (id, slot) in _slotById)
                if ((uint)slot >= (uint)slots || _states[slot] != StateLive || _externalIds[slot] != id) return $"id {id} maps to slot {slot} which does not hold it";
            foreach (int slot in _freeSlots)
                if ((uint)slot >= (uint)slots || _states[slot] != StateFree) return $"free list holds slot {slot} that is not free";
        }
        return null;
    }
}
