namespace PaperVec.Search;

/// <summary>A liked paper a recommendation is close to: the "because you liked ..." of a result.</summary>
public sealed record LikedMatch(string Id, string Title, double Similarity);
