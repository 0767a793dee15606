using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Engine;

/// <summary>
/// What the collection rules read from a collection: one node's memory, or a cluster's shards (a
/// key names its shard, a digest and a library their home shard).
/// </summary>
public interface ICollectionReads
{
    /// <summary>The key of the stored paper an id (PaperVec id or source id) names; null when none.</summary>
    Task<long?> ResolveAsync(string id);

    /// <summary>A digest's record (its whole listing order); null when none.</summary>
    Task<DigestRecord?> DigestRecordAsync(string id);

    /// <summary>Every digest, for the "no such digest" hint.</summary>
    Task<List<DigestRecord>> DigestsAsync();

    /// <summary>A stored library by its (checked) name; null when none.</summary>
    Task<ReaderLibrary?> StoredLibraryAsync(string name);

    /// <summary>A source for one recommendation (<see cref="Recommender"/>'s recipe reads and ranks through it).</summary>
    IRecommendSource RecommendSource();
}

/// <summary>A library change with its ids resolved to paper keys and its time fixed, so every replica stores the same library.</summary>
public sealed record LibraryChange(string Name, IReadOnlyList<long> Like, IReadOnlyList<long> Dislike, IReadOnlyList<long> Remove, bool Replace, DateTimeOffset At);

/// <summary>
/// The collection's rules, written once for one node and a cluster: "similar" leaves the paper itself
/// (and an excluded digest's papers) out; a recommendation's limits, resolving ids (every unknown id
/// named), one paper under two ids refused, digest candidates, a library's reader, ranking a digest
/// by a library, and resolving a library change.
/// </summary>
public static class CollectionRules
{
    /// <summary>The scope of "papers like <paramref name="key"/>": the paper itself left out, and every paper of <paramref name="excludeDigest"/> (an unknown digest refused).</summary>
    public static async Task<SearchScope> SimilarScopeAsync(ICollectionReads reads, SearchScope scope, long key, string? excludeDigest)
    {
        var exclude = new HashSet<long>(scope.Exclude) { key };
        if (!string.IsNullOrEmpty(excludeDigest))
            exclude.UnionWith((await reads.DigestRecordAsync(excludeDigest).ConfigureAwait(false)
                ?? throw new DigestNotFoundException(excludeDigest, await reads.DigestsAsync().ConfigureAwait(false))).PaperKeys);
        return scope with { Exclude = exclude };
    }

    /// <summary>Paper keys of ids (PaperVec ids or source ids); <see cref="UnknownPapersException"/> naming every id that names no stored paper.</summary>
    public static async Task<List<long>> ResolvePapersAsync(ICollectionReads reads, IReadOnlyList<string> ids)
    {
        var keys = await Task.WhenAll(ids.Select(id => reads.ResolveAsync(id?.Trim() ?? ""))).ConfigureAwait(false);
        var unknown = ids.Where((_, i) => keys[i] == null).Select(id => id ?? "").ToList();
        return unknown.Count == 0 ? keys.Select(k => k!.Value).ToList() : throw new UnknownPapersException(unknown);
    }

    /// <summary>
    /// One paper liked under one id and disliked under another (an arXiv id and its PaperVec id) is a
    /// conflict, refused naming both ids; it was silently kept as disliked only.
    /// </summary>
    public static void CheckDisjoint(IReadOnlyList<string> a, IReadOnlyList<long> aKeys, string aName, IReadOnlyList<string> b, IReadOnlyList<long> bKeys, string bName)
    {
        var first = new Dictionary<long, string>();
        for (int i = 0; i < aKeys.Count; i++) first.TryAdd(aKeys[i], a[i]);
        for (int i = 0; i < bKeys.Count; i++)
            if (first.TryGetValue(bKeys[i], out var other))
                throw new InvalidDataException($"'{other}' ({aName}) and '{b[i]}' ({bName}) are the same paper; a paper is either {aName} or {bName}");
    }

    /// <summary>
    /// Papers for a reader who liked <paramref name="liked"/> and not <paramref name="disliked"/> (ids), best first
    /// (<see cref="Recommender"/>); <paramref name="digestId"/> limits candidates to that digest's papers. Bad requests
    /// (no liked paper, over <see cref="RecommendQuery.MaxIds"/> ids, an unknown digest) are refused before any id is looked up.
    /// </summary>
    public static async Task<List<SearchResult>> RecommendAsync(ICollectionReads reads, IReadOnlyList<string> liked, IReadOnlyList<string> disliked, SearchScope scope,
        string? digestId, RecommendStrategy strategy)
    {
        Recommender.CheckRequest(liked.Count, disliked.Count);
        var candidates = digestId == null ? null : await DigestPapersAsync(reads, digestId).ConfigureAwait(false);
        var likedKeys = await ResolvePapersAsync(reads, liked).ConfigureAwait(false);
        var dislikedKeys = await ResolvePapersAsync(reads, disliked).ConfigureAwait(false);
        CheckDisjoint(liked, likedKeys, "liked", disliked, dislikedKeys, "disliked");
        var query = new RecommendQuery(likedKeys, dislikedKeys) { Strategy = strategy, Diversity = scope.Diversity, Candidates = candidates };
        return await Recommender.RankAsync(reads.RecommendSource(), query, scope).ConfigureAwait(false);
    }

    /// <summary>Papers ranked for the reader whose library is <paramref name="libraryName"/> (null when there is no such library).</summary>
    public static async Task<List<SearchResult>?> RecommendForLibraryAsync(ICollectionReads reads, string libraryName, SearchScope scope, string? digestId)
    {
        if ((await reads.StoredLibraryAsync(ReaderLibrary.CheckName(libraryName)).ConfigureAwait(false))?.RequireLiked() is not { } library) return null;
        var candidates = digestId == null ? null : await DigestPapersAsync(reads, digestId).ConfigureAwait(false);
        var query = new RecommendQuery(library.Liked, library.Disliked) { Diversity = scope.Diversity, Candidates = candidates };
        return await Recommender.RankAsync(reads.RecommendSource(), query, scope).ConfigureAwait(false);
    }

    /// <summary>
    /// Every paper of a digest still stored, ordered by a reader's library: score and "because you
    /// liked" each (the library's own papers are ranked too, as they are listed). Null when there is no such library.
    /// </summary>
    public static async Task<List<SearchResult>?> RankDigestAsync(ICollectionReads reads, string digestId, string libraryName)
    {
        if ((await reads.StoredLibraryAsync(ReaderLibrary.CheckName(libraryName)).ConfigureAwait(false))?.RequireLiked() is not { } library) return null;
        var candidates = await DigestPapersAsync(reads, digestId).ConfigureAwait(false);
        var query = new RecommendQuery(library.Liked, library.Disliked) { Candidates = candidates, IncludeLibrary = true };
        return await Recommender.RankAsync(reads.RecommendSource(), query, new SearchScope { K = Math.Clamp(candidates.Count, 1, SearchScope.MaxK) }).ConfigureAwait(false);
    }

    /// <summary>
    /// A library change (or, with <paramref name="replace"/>, the whole library) checked and resolved to paper keys:
    /// unknown ids named, one paper under two ids refused; a paper deleted since it was liked can still be taken out by its PaperVec id.
    /// </summary>
    public static async Task<LibraryChange> ResolveChangeAsync(ICollectionReads reads, string name, IReadOnlyList<string> like, IReadOnlyList<string> dislike,
        IReadOnlyList<string> remove, bool replace)
    {
        ReaderLibrary.CheckChange(name, like, dislike, remove);
        var likeKeys = await ResolvePapersAsync(reads, like).ConfigureAwait(false);
        var dislikeKeys = await ResolvePapersAsync(reads, dislike).ConfigureAwait(false);
        CheckDisjoint(like, likeKeys, replace ? "liked" : "like", dislike, dislikeKeys, replace ? "disliked" : "dislike");
        var removeKeys = new List<long>(remove.Count);
        foreach (var id in remove)
            removeKeys.Add(await reads.ResolveAsync(id).ConfigureAwait(false) ?? (PaperIdentity.TryParse(id, out long key) ? key : throw new UnknownPapersException([id])));
        return new LibraryChange(name, likeKeys, dislikeKeys, removeKeys, replace, DateTimeOffset.UtcNow);
    }

    static async Task<HashSet<long>> DigestPapersAsync(ICollectionReads reads, string digestId) =>
        await reads.DigestRecordAsync(digestId).ConfigureAwait(false) is { } digest ? [.. digest.PaperKeys]
            : throw new DigestNotFoundException(digestId, await reads.DigestsAsync().ConfigureAwait(false));
}
