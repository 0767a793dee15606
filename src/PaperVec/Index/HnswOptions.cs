namespace PaperVec.Index;

/// <summary>Build and search parameters of <see cref="HnswIndex"/> (names follow Malkov and Yashunin).</summary>
public sealed record HnswOptions
{
    /// <summary>Links per node on the upper levels; level 0 keeps twice as many.</summary>
    public int M { get; init; } = 16;

    /// <summary>Candidate list size while inserting.</summary>
    public int EfConstruction { get; init; } = 200;

    /// <summary>Candidate list size of <see cref="HnswIndex.Search(ReadOnlySpan{float}, int, Func{long, bool}?)"/> when no ef is given.</summary>
    public int DefaultEfSearch { get; init; } = 64;

    /// <summary>Seeds the level draws, so a single-threaded build is reproducible.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Slots allocated up front; growing later briefly blocks every operation.</summary>
    public int InitialCapacity { get; init; } = 1024;

    internal void Validate()
    {
        if (M < 2 || M > 256) throw new ArgumentOutOfRangeException(nameof(M), M, "M must be in 2..256.");
        if (EfConstruction < 1) throw new ArgumentOutOfRangeException(nameof(EfConstruction));
        if (DefaultEfSearch < 1) throw new ArgumentOutOfRangeException(nameof(DefaultEfSearch));
        if (InitialCapacity < 1) throw new ArgumentOutOfRangeException(nameof(InitialCapacity));
    }
}
