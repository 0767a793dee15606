namespace PaperVec.Engine;

/// <summary>Ids a request named that name no stored paper (HTTP 404 naming them).</summary>
public sealed class UnknownPapersException(IReadOnlyList<string> ids)
    : KeyNotFoundException($"no stored paper has id {string.Join(", ", ids.Take(20).Select(i => $"'{i}'"))}{(ids.Count > 20 ? $" (and {ids.Count - 20} more)" : "")}")
{
    public IReadOnlyList<string> Ids { get; } = ids;
}
