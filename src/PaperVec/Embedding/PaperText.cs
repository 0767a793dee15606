namespace PaperVec.Embedding;

/// <summary>
/// The one rule for what text represents a paper: its title, one space, then its abstract, the
/// convention behind the model's published retrieval scores. Queries are embedded as given.
/// </summary>
public static class PaperText
{
    public static string ForEmbedding(string title, string? abstractText)
    {
        title = title.Trim();
        string body = abstractText?.Trim() ?? "";
        return body.Length == 0 ? title : title.Length == 0 ? body : title + " " + body;
    }
}
