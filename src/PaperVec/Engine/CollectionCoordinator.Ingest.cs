using PaperVec.Duplicates;
using PaperVec.Embedding;
using PaperVec.Ingest;
using PaperVec.Search;
using PaperVec.Storage;

namespace PaperVec.Engine;

// Ingest over shards: the coordinator checks limits, routes each paper to the shard of the stored paper it
// is, embeds what the shards ask for (shards store), and, for a digest that spans shards, settles reworded
// copies across shards and writes the digest's manifest last on its home shard (a digest is listed once all
// its papers are durable). Identity within a shard (versions, twins, aliases) is the shard's (PaperIngestor).
public partial class CollectionCoordinator
{
    Task<IngestResult> IPaperCollection.IngestAsync(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest, DateOnly? defaultDate) =>
        IngestAsync(papers, digest, defaultDate);

    /// <summary>
    /// Ingests papers (a digest's when <paramref name="digest"/> is given, else records) as one durable write per shard.
    /// Papers without a vector need the model (<see cref="ModelNotReadyException"/>); bad input is an
    /// <see cref="InvalidDataException"/> naming the paper and field, before anything is written.
    /// </summary>
    /// <param name="embedded">Vectors made ahead by <see cref="EmbedAheadAsync"/> (a bulk ingest embeds its next batch while this one commits); null: made here.</param>
    public async Task<IngestResult> IngestAsync(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest = null, DateOnly? defaultDate = null,
        EmbeddedTexts? embedded = null)
    {
        bool needsModel = papers.Any(p => p.Vector == null);
        if (needsModel && _embedder == null) throw new ModelNotReadyException("the model is not loaded, and these papers carry no vectors");
        var at = DateTimeOffset.UtcNow;
        if (_shards.Length == 1)
        {
            // Papers nothing stored answers to are embedded before the shard's write gate, so other writes are not held behind it.
            if (needsModel) embedded ??= await EmbedAheadAsync(papers, digest).ConfigureAwait(false);
            return await _shards[0].IngestAsync(new ShardIngest(papers, digest, defaultDate, embedded, at)).ConfigureAwait(false);
        }
        for (int i = 0; i < papers.Count; i++) PaperLimits.Check(papers[i], digest != null ? $"paper {i + 1} of the digest" : $"record {i + 1}");
        var owners = await OwnersAsync(papers).ConfigureAwait(false);
        var groups = Enumerable.Range(0, papers.Count).GroupBy(i => owners[i]).ToList();
        if (needsModel && embedded == null)
        {
            var texts = await Task.WhenAll(groups.Select(g => _shards[g.Key].TextsToEmbedAsync(g.Select(i => papers[i]).ToList(), digest))).ConfigureAwait(false);
            embedded = Embed(texts.SelectMany(t => t).Distinct(StringComparer.Ordinal).ToList());
        }
        var results = await Task.WhenAll(groups.Select(g =>
            _shards[g.Key].IngestAsync(new ShardIngest(g.Select(i => papers[i]).ToList(), digest, defaultDate, embedded, at)))).ConfigureAwait(false);

        // One node's result shape, in the caller's order.
        var keyAt = new long[papers.Count];
        var listingAt = new IngestedListing[papers.Count];
        var byKey = new Dictionary<long, IngestedListing>();
        var hashes = new Dictionary<long, ulong>();
        var copies = new Dictionary<long, long>();
        for (int g = 0; g < groups.Count; g++)
        {
            var result = results[g];
            int j = 0;
            foreach (int i in groups[g])
            {
                keyAt[i] = result.KeysByPosition[j];
                if (digest == null) listingAt[i] = result.Listings[j];
                j++;
            }
            foreach (var listing in result.Listings) byKey[listing.Key] = listing;
            if (result.Digest is { } part)
                for (int k = 0; k < part.PaperKeys.Count; k++) { hashes[part.PaperKeys[k]] = part.ListingHash(k); copies[part.PaperKeys[k]] = part.StoredCopy(k); }
        }
        var order = keyAt.Distinct().ToList();
        if (digest != null)
        {
            // A new paper that its shard found no reworded copy of may still be one of a paper on
            // another shard: the same rule over every shard (papers new in this ingest left out, as
            // one node has not stored them yet when it decides).
            var fresh = order.Where(k => byKey[k].Status == ListingStatus.New).ToHashSet();
            foreach (long key in fresh.Where(k => copies.GetValueOrDefault(k) == 0).ToList())
            {
                int last = Array.LastIndexOf(keyAt, key); // a twin's last listing is the text stored
                var paper = papers[last];
                var vector = paper.Vector ?? (await ShardOf(key).FindPaperAsync(PaperIdentity.Format(key)).ConfigureAwait(false))?.Vector;
                if (vector == null || await StoredCopyElsewhereAsync(vector, paper.Title, paper.Abstract, fresh).ConfigureAwait(false) is not long copy) continue;
                copies[key] = copy;
                byKey[key] = byKey[key] with { Status = ListingStatus.Retitled };
            }
        }
        var listings = digest == null ? listingAt.ToList() : order.Select(key => byKey[key]).ToList();
        var twins = Enumerable.Range(0, papers.Count).GroupBy(i => keyAt[i]).Where(g => g.Count() > 1)
            .Select(g => new IngestTwin(g.Key, byKey[g.Key].Title, g.Select(i => i + 1).ToList())).ToList();
        DigestRecord? manifest = null;
        if (digest != null)
        {
            manifest = new DigestRecord(digest.Id, digest.Date, digest.Source, order, DateTimeOffset.UtcNow)
            {
                ListingHashes = order.Select(k => hashes.GetValueOrDefault(k)).ToList(),
                StoredCopies = order.Select(k => copies.GetValueOrDefault(k)).ToList(),
            };
            await _shards[Routing.HomeShardOf(digest.Id)].PutDigestAsync(manifest).ConfigureAwait(false);
        }
        return new IngestResult(listings, digest?.Id) { Twins = twins, KeysByPosition = keyAt, Digest = manifest };
    }

    /// <summary>
    /// Embeds, with the attached model, the papers without a vector that no stored paper answers to (each shard
    /// says which), without taking any write gate; <see cref="IngestAsync"/> uses the result. Empty when no model is attached.
    /// </summary>
    public async Task<EmbeddedTexts> EmbedAheadAsync(IReadOnlyList<IncomingPaper> papers, PaperIngestor.DigestInfo? digest = null)
    {
        if (_embedder == null) return new EmbeddedTexts("", new Dictionary<string, float[]>(StringComparer.Ordinal));
        IReadOnlyList<string> texts;
        if (_shards.Length == 1) texts = await _shards[0].TextsToEmbedAsync(papers, digest).ConfigureAwait(false);
        else
        {
            var owners = await OwnersAsync(papers).ConfigureAwait(false);
            var parts = await Task.WhenAll(Enumerable.Range(0, papers.Count).GroupBy(i => owners[i])
                .Select(g => _shards[g.Key].TextsToEmbedAsync(g.Select(i => papers[i]).ToList(), digest))).ConfigureAwait(false);
            texts = parts.SelectMany(t => t).Distinct(StringComparer.Ordinal).ToList();
        }
        return Embed(texts);
    }

    EmbeddedTexts Embed(IReadOnlyList<string> texts)
    {
        var embedder = _embedder ?? throw new ModelNotReadyException("the model is not loaded, and these papers carry no vectors");
        var made = texts.Count > 0 ? embedder.Embed(texts.ToList()) : [];
        var vectors = new Dictionary<string, float[]>(texts.Count, StringComparer.Ordinal);
        for (int i = 0; i < texts.Count; i++) vectors[texts[i]] = made[i];
        return new EmbeddedTexts(embedder.ModelId, vectors);
    }

    /// <summary>
    /// The shard each paper goes to: the shard of the stored paper it is, found as one node's ingest
    /// finds it (its source id, then its title or a title it was retitled to, on any shard), else
    /// the shard of its own title's key (a new paper).
    /// </summary>
    async Task<int[]> OwnersAsync(IReadOnlyList<IncomingPaper> papers)
    {
        string[] sourceIds = papers.Select(p => p.SourceId).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
        long[] titleKeys = papers.Select(p => PaperIdentity.KeyOfTitle(p.Title)).Distinct().ToArray();
        var bySourceId = new Dictionary<string, long>(StringComparer.Ordinal);
        var byTitle = new Dictionary<long, long>();
        foreach (var known in await ScatterAsync(s => s.KnownKeysAsync(sourceIds, titleKeys)).ConfigureAwait(false))
        {
            for (int i = 0; i < sourceIds.Length; i++) if (known.BySourceId[i] != 0) bySourceId[sourceIds[i]] = known.BySourceId[i];
            for (int i = 0; i < titleKeys.Length; i++) if (known.ByTitle[i] != 0) byTitle[titleKeys[i]] = known.ByTitle[i];
        }
        return papers.Select(p =>
        {
            long titleKey = PaperIdentity.KeyOfTitle(p.Title);
            long key = p.SourceId is { } sid && bySourceId.TryGetValue(sid, out long s) ? s : byTitle.GetValueOrDefault(titleKey, titleKey);
            // A source id new to the collection listed twice in this write names one paper: the first listing's.
            if (p.SourceId is { } id) bySourceId.TryAdd(id, key);
            return Routing.ShardOf(key);
        }).ToArray();
    }

    /// <summary>
    /// The stored paper (none of <paramref name="exclude"/>) a text is a reworded copy of, by
    /// <see cref="DuplicateFinder.StoredCopyOfAsync"/>'s rule over every shard: the nearest papers
    /// of the union at or above the candidate cosine, best first, the first whose wording overlaps.
    /// </summary>
    async Task<long?> StoredCopyElsewhereAsync(float[] vector, string title, string abstractText, IReadOnlySet<long> exclude)
    {
        var settings = new DuplicateSettings();
        var scope = new SearchScope { K = settings.Neighbours, Exclude = exclude.ToHashSet() };
        var query = new SearchQuery("", vector, SearchMode.Semantic);
        var parts = await ScatterAsync(s => s.RankingAsync(query, SearchMode.Semantic, scope, settings.Neighbours)).ConfigureAwait(false);
        ulong[]? shingles = null;
        foreach (var hit in ShardedSearchSource.Merge(parts, settings.Neighbours))
        {
            if (hit.Score < settings.CandidateCosine) break;
            if (await FindPaperAsync(PaperIdentity.Format(hit.Key)).ConfigureAwait(false) is not { } candidate) continue;
            shingles ??= LexicalSimilarity.ShinglesOf(title, abstractText);
            if (DuplicateFinder.Confirm(settings, 0, hit.Key, hit.Score, shingles, LexicalSimilarity.ShinglesOf(candidate.Title, candidate.Abstract)) != null) return hit.Key;
        }
        return null;
    }
}
