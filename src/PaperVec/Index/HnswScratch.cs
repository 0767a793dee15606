namespace PaperVec.Index;

/// <summary>
/// Everything one search or insert needs besides the graph, rented from <see cref="HnswScratchPool"/>
/// so that a search in steady state allocates nothing. Buffers only grow (on index growth or a
/// larger ef than before).
/// </summary>
sealed class HnswScratch
{
    public readonly VisitedSet Visited = new();
    /// <summary>Nodes to expand, nearest on top.</summary>
    public readonly DistanceHeap Candidates = new(256);
    /// <summary>Best nodes so far under negated distance, so the worst kept is on top.</summary>
    public readonly DistanceHeap Results = new(256);

    /// <summary>One node's neighbour list, copied out under its version check.</summary>
    public readonly int[] Neighbors;

    /// <summary>A layer's result sorted nearest first (insert) or the k best (search).</summary>
    public int[] SortedNodes = new int[256];
    public float[] SortedDistances = new float[256];

    /// <summary>The heuristic's picks for the inserted node.</summary>
    public readonly int[] Selected;
    public readonly float[] SelectedDistances;

    /// <summary>A full neighbour's list plus the newcomer, while it is being pruned.</summary>
    public int[] PruneNodes;
    public float[] PruneDistances;
    public readonly int[] PruneSelected;
    public readonly float[] PruneSelectedDistances;

    public HnswScratch(int maxDegree)
    {
        Neighbors = GC.AllocateArray<int>(maxDegree, pinned: true);
        Selected = new int[maxDegree + 1];
        SelectedDistances = new float[maxDegree + 1];
        PruneNodes = new int[maxDegree + 1];
        PruneDistances = new float[maxDegree + 1];
        PruneSelected = new int[maxDegree + 1];
        PruneSelectedDistances = new float[maxDegree + 1];
    }

    /// <summary>A copy of an indexed vector used as the query (search by id); pinned, sized on first use.</summary>
    public float[] Query = [];

    public float[] EnsureQuery(int dimension)
    {
        if (Query.Length != dimension) Query = GC.AllocateArray<float>(dimension, pinned: true);
        return Query;
    }

    public void EnsureSorted(int count)
    {
        if (SortedNodes.Length >= count) return;
        SortedNodes = new int[count];
        SortedDistances = new float[count];
    }

    public void EnsurePrune(int count)
    {
        if (PruneNodes.Length >= count) return;
        PruneNodes = new int[count];
        PruneDistances = new float[count];
    }
}

/// <summary>A lock-free bag of <see cref="HnswScratch"/>: renting and returning are one exchange each.</summary>
sealed class HnswScratchPool(int maxDegree)
{
    readonly HnswScratch?[] _slots = new HnswScratch?[Math.Max(8, 2 * Environment.ProcessorCount)];

    public HnswScratch Rent()
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            var scratch = Interlocked.Exchange(ref _slots[i], null);
            if (scratch != null) return scratch;
        }
        return new HnswScratch(maxDegree);
    }

    public void Return(HnswScratch scratch)
    {
        for (int i = 0; i < _slots.Length; i++)
            if (Interlocked.CompareExchange(ref _slots[i], scratch, null) == null) return;
    }
}
