namespace PaperVec.Ingest;

/// <summary>One listing in a digest: a title paragraph and the abstract paragraph under it.</summary>
public sealed record DigestPaper(string Title, string Abstract, int Line);
