using PaperVec.Api.Digests;
using PaperVec.Engine;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Api.Papers;

/// <summary>
/// What a reader needs beside the ranked fields (the record's own id, an arXiv id say, its authors,
/// categories and url), read from the stored papers: the search recipes shape results from the
/// compact summaries and never carry these.
/// </summary>
public static class PaperFacts
{
    public static async Task<List<SearchResult>> AddAsync(IPaperCollection papers, List<SearchResult> results)
    {
        var found = await FindAllAsync(papers, results.Select(r => r.Id));
        return results.Select((r, i) => found[i] is { } p ? r with { SourceId = p.SourceId, Authors = p.Authors, Categories = p.Categories, Url = p.Url } : r).ToList();
    }

    public static async Task<DigestView> AddAsync(IPaperCollection papers, DigestView view)
    {
        var found = await FindAllAsync(papers, view.Papers.Select(r => r.Id));
        return view with
        {
            Papers = view.Papers.Select((r, i) => found[i] is { } p ? r with { SourceId = p.SourceId, Authors = p.Authors, Categories = p.Categories, Url = p.Url } : r).ToList(),
        };
    }

    // Looked up together: on a cluster each lookup is a call to the paper's shard.
    static Task<PaperRecord?[]> FindAllAsync(IPaperCollection papers, IEnumerable<string> ids) =>
        Task.WhenAll(ids.Select(papers.FindPaperAsync));
}
