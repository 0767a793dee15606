using System.Runtime.CompilerServices;

namespace PaperVec.Index;

/// <summary>
/// Binary min-heap of (key, node) with parallel arrays, reused across searches so steady-state
/// searches allocate nothing. A max-heap is the same heap fed negated keys.
/// </summary>
sealed class DistanceHeap
{
    float[] _keys;
    int[] _nodes;

    public DistanceHeap(int capacity)
    {
        _keys = new float[Math.Max(16, capacity)];
        _nodes = new int[Math.Max(16, capacity)];
    }

    public int Count { get; private set; }
    public float TopKey => _keys[0];
    public int TopNode => _nodes[0];

    public void Clear() => Count = 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(float key, int node)
    {
        if (Count == _keys.Length) GrowArrays();
        var keys = _keys;
        var nodes = _nodes;
        int i = Count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (keys[parent] <= key) break;
            keys[i] = keys[parent];
            nodes[i] = nodes[parent];
            i = parent;
        }
        keys[i] = key;
        nodes[i] = node;
    }

    public void Pop()
    {
        int last = --Count;
        if (last == 0) return;
        float key = _keys[last];
        int node = _nodes[last];
        var keys = _keys;
        var nodes = _nodes;
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= last) break;
            if (child + 1 < last && keys[child + 1] < keys[child]) child++;
            if (keys[child] >= key) break;
            keys[i] = keys[child];
            nodes[i] = nodes[child];
            i = child;
        }
        keys[i] = key;
        nodes[i] = node;
    }

    void GrowArrays()
    {
        Array.Resize(ref _keys, _keys.Length * 2);
        Array.Resize(ref _nodes, _nodes.Length * 2);
    }
}
