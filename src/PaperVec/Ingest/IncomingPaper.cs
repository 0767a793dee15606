namespace PaperVec.Ingest;

/// <summary>A paper as it arrives, from a digest listing or a JSON record, before it has an identity.</summary>
public sealed record IncomingPaper(string Title, string Abstract)
{
    public string? SourceId { get; init; }
    public string? Authors { get; init; }
    public string? Url { get; init; }
    public string? Categories { get; init; }
    public DateOnly? Date { get; init; }
    /// <summary>A vector supplied with the record (unit length after normalization); null means embed it.</summary>
    public float[]? Vector { get; init; }
}
