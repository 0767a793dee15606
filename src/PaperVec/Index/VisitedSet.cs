namespace PaperVec.Index;

/// <summary>
/// Which nodes a search has touched, as one ushort stamp per node: starting a search bumps the
/// epoch instead of clearing the array, so the clear costs O(n) only once per 65,535 searches.
/// </summary>
sealed unsafe class VisitedSet
{
    ushort[] _stamps = [];
    ushort* _base;
    ushort _epoch;

    public int Capacity => _stamps.Length;

    public void EnsureCapacity(int nodes)
    {
        if (nodes <= _stamps.Length) return;
        // Pinned so the hot loop indexes a raw pointer without bounds checks.
        _stamps = GC.AllocateArray<ushort>(Math.Max(nodes, _stamps.Length * 3 / 2), pinned: true);
        fixed (ushort* p = _stamps) _base = p;
        _epoch = 0;
    }

    public void StartNewSearch()
    {
        if (++_epoch == 0)
        {
            Array.Clear(_stamps);
            _epoch = 1;
        }
    }

    /// <summary>Marks <paramref name="node"/>; false when it was already marked in this search.</summary>
    public bool TryVisit(int node)
    {
        ushort* stamp = _base + node;
        if (*stamp == _epoch) return false;
        *stamp = _epoch;
        return true;
    }

    public bool IsVisited(int node) => _base[node] == _epoch;
}
