namespace PaperVec.Index;

/// <summary>One search result: the external id and its cosine similarity (dot of unit vectors).</summary>
public readonly record struct SearchHit(long Id, float Score);
