using PaperVec.Duplicates;
using PaperVec.Embedding;
using PaperVec.Storage;

namespace PaperVec.Ingest;

/// <summary>How an incoming listing relates to what was already stored.</summary>
public enum ListingStatus { New, SeenExact, Revised, Retitled }

public sealed record IngestedListing(long Key, string Title, ListingStatus Status);

/// <summary>One paper listed more than once in one ingest (same title, or same id): reported, stored once, every id kept.</summary>
public sealed record IngestTwin(long Key, string Title, IReadOnlyList<int> Positions);

public sealed record IngestResult(IReadOnlyList<IngestedListing> Listings, string? DigestId)
{
    /// <summary>Papers listed more than once in this ingest, with their 1-based positions; the last listing's text was stored.</summary>
    public IReadOnlyList<IngestTwin> Twins { get; init; } = [];

    /// <summary>The stored paper's key of each incoming paper, in input order (twins repeat a key).</summary>
    public IReadOnlyList<long> KeysByPosition { get; init; } = [];

    /// <summary>The digest record this ingest wrote (null for records): its listing hashes and copy decisions.</summary>
    public DigestRecord? Digest { get; init; }

    public int New => Listings.Count(l => l.Status == ListingStatus.New);
    public int SeenExact => Listings.Count(l => l.Status == ListingStatus.SeenExact);
    public int Revised => Listings.Count(l => l.Status == ListingStatus.Revised);
    /// <summary>New paper records that are a reworded copy of a stored paper (see DuplicateFinder).</summary>
    public int Retitled => Listings.Count(l => l.Status == ListingStatus.Retitled);
    public int AlreadySeen => SeenExact + Revised + Retitled;

    /// <summary>"12 of 44 papers already seen (9 exact, 3 revised)", and ", 1 retitled" when there are such.</summary>
    public string Summary => $"{AlreadySeen} of {Listings.Count} papers already seen ({SeenExact} exact, {Revised} revised{(Retitled > 0 ? $", {Retitled} retitled" : "")})";
}

/// <summary>
/// Turns incoming papers into stored ones: limits (<see cref="PaperLimits"/>, checked for every
/// paper before anything is written), identity, embedding of new or changed text (supplied
/// vectors are used as they are), digest membership, and one durable write per call, so a call is
/// ingested whole or not at all. Re-ingesting the same digest changes nothing.
///
/// Identity: a paper is found by its record id if that id names a stored paper, else by its title
/// (the normalized title's key, or a title the paper was retitled to), else it is new and keyed by
/// its title. Every id a client sends resolves afterwards: a new id on a stored paper becomes one
/// more alias of it, and a new title under a known id becomes a title alias, so the paper is found
/// by either title later. A paper listed twice in one call is stored once and reported as a twin.
/// </summary>
public sealed class PaperIngestor(PaperDatabase database, Embedder? embedder, string suppliedVectorsModelId = ModelChangeReembedder.SuppliedModelId)
{
    /// <summary>
    /// Vectors the caller already made with <c>embedder</c>, by embedding text (<see cref="PaperText.ForEmbedding"/>):
    /// used for every paper the plan embeds whose text is here, so embedding can happen before the
    /// write gate is taken (see <see cref="Engine.PaperCollection.IngestAsync"/>).
    /// </summary>
    public IReadOnlyDictionary<string, float[]>? Embedded { get; init; }

    /// <summary>
    /// The embedding texts of the papers that carry no vector and that no stored paper answers to
    /// (by record id or title): the ones an ingest will surely embed, if nothing is written before it.
    /// Limits are checked first, so bad input fails before any embedding.
    /// </summary>
    public static List<string> TextsLikelyToEmbed(PaperDatabase database, IReadOnlyList<IncomingPaper> incoming, DigestInfo? digest)
    {
        for (int i = 0; i < incoming.Count; i++)
            PaperLimits.Check(incoming[i], digest != null ? $"paper {i + 1} of the digest" : $"record {i + 1}");
        var texts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var paper in incoming)
        {
            if (paper.Vector != null) continue;
            if (paper.SourceId is { } sid && database.Catalog.KeyOfSourceId(sid) != null) continue;
            if (database.Catalog.KeyOfTitle(PaperIdentity.KeyOfTitle(paper.Title)) != null) continue;
            texts.Add(PaperText.ForEmbedding(paper.Title, paper.Abstract));
        }
        return texts.ToList();
    }

    public sealed record DigestInfo(string Id, DateOnly Date, string Source)
    {
        /// <summary>A parsed digest's identity: its date and source name ("2025-03-11/daily-papers").</summary>
        public static DigestInfo Of(ParsedDigest digest, string source) => new($"{digest.Date:yyyy-MM-dd}/{source}", digest.Date, source);
    }

    /// <summary>The papers of a parsed digest, each dated by the digest.</summary>
    public static List<IncomingPaper> PapersOf(ParsedDigest digest) =>
        digest.Papers.Select(p => new IncomingPaper(p.Title, p.Abstract) { Date = digest.Date }).ToList();

    /// <summary>Ingests as one durable write; reads what is stored without blocking a thread on disk.</summary>
    public async Task<IngestResult> IngestAsync(IReadOnlyList<IncomingPaper> incoming, DigestInfo? digest = null, DateOnly? defaultDate = null)
    {
        var (batch, result) = await PlanAsync(incoming, digest, defaultDate).ConfigureAwait(false);
        await database.CommitAsync(batch).ConfigureAwait(false);
        return result;
    }

    /// <summary>Identity, embedding and the one write batch of an ingest; nothing is written yet.</summary>
    async Task<(WriteBatch Batch, IngestResult Result)> PlanAsync(IReadOnlyList<IncomingPaper> incoming, DigestInfo? digest, DateOnly? defaultDate)
    {
        var today = defaultDate ?? digest?.Date ?? DateOnly.FromDateTime(DateTime.UtcNow);
        var planned = new Dictionary<long, PaperRecord>();
        var listings = new List<IngestedListing>();
        var listed = new HashSet<long>();
        var toEmbed = new List<(long Key, string Text)>();
        var batch = new WriteBatch();
        var positions = new Dictionary<long, List<int>>();
        var plannedIds = new Dictionary<string, long>(StringComparer.Ordinal);
        var sourceIds = new List<(string Id, long Key)>();
        var titleAliases = new Dictionary<long, long>();
        var keysByPosition = new List<long>(incoming.Count);

        for (int i = 0; i < incoming.Count; i++)
            PaperLimits.Check(incoming[i], digest != null ? $"paper {i + 1} of the digest" : $"record {i + 1}");
        for (int position = 1; position <= incoming.Count; position++)
        {
            var paper = incoming[position - 1];
            long titleKey = PaperIdentity.KeyOfTitle(paper.Title);
            long key = (paper.SourceId is { } sid ? (plannedIds.TryGetValue(sid, out long pk) ? pk : database.Catalog.KeyOfSourceId(sid)) : null)
                ?? (planned.ContainsKey(titleKey) ? titleKey : (long?)null)
                ?? (titleAliases.TryGetValue(titleKey, out long ak) ? ak : (long?)null)
                ?? database.Catalog.KeyOfTitle(titleKey)
                ?? titleKey;
            if (paper.SourceId != null) { plannedIds[paper.SourceId] = key; sourceIds.Add((paper.SourceId, key)); }
            // Retitled under a known id: the new title names the paper from now on (unless it is another paper's).
            if (titleKey != key && !planned.ContainsKey(titleKey) && database.Catalog.KeyOfTitle(titleKey) == null) titleAliases[titleKey] = key;
            (positions.TryGetValue(key, out var at) ? at : positions[key] = []).Add(position);
            keysByPosition.Add(key);
            var existing = planned.TryGetValue(key, out var p) ? p : await database.GetPaperAsync(key).ConfigureAwait(false);
            var digests = existing?.Digests.ToList() ?? [];
            if (digest != null && !digests.Contains(digest.Id)) digests.Add(digest.Id);

            ListingStatus status;
            PaperRecord record;
            string modelId = paper.Vector != null ? suppliedVectorsModelId : embedder?.ModelId ?? throw new InvalidOperationException("no embedder: records must carry vectors");
            if (existing == null)
            {
                status = ListingStatus.New;
                record = NewRecord(key, paper, digests, paper.Date ?? today, modelId);
            }
            else if (SameText(existing, paper) && (paper.Vector == null || existing.Vector.AsSpan().SequenceEqual(paper.Vector))
                || paper.Vector == null && LostText(existing, paper))
            {
                status = ListingStatus.SeenExact;
                record = existing with
                {
                    Digests = digests,
                    SourceId = existing.SourceId ?? paper.SourceId,
                    FirstSeen = paper.Date is DateOnly d && d < existing.FirstSeen ? d : existing.FirstSeen,
                };
            }
            else
            {
                status = ListingStatus.Revised;
                record = NewRecord(key, paper, digests, existing.FirstSeen, modelId) with
                {
                    SourceId = paper.SourceId ?? existing.SourceId,
                    Authors = paper.Authors ?? existing.Authors,
                    Url = paper.Url ?? existing.Url,
                    Categories = paper.Categories ?? existing.Categories,
                    PreviousVersions = WithPreviousVersion(existing, PaperIdentity.TextHash(paper.Title, paper.Abstract)),
                };
            }
            if (record.Vector.Length == 0) toEmbed.Add((key, PaperText.ForEmbedding(record.Title, record.Abstract)));
            planned[key] = record;
            if (listed.Add(key) || digest == null) listings.Add(new IngestedListing(key, record.Title, status));
        }

        if (toEmbed.Count > 0)
        {
            if (embedder == null) throw new InvalidOperationException("no embedder: records must carry vectors");
            var missing = toEmbed.Where(t => Embedded?.ContainsKey(t.Text) != true).ToList();
            var vectors = missing.Count > 0 ? embedder.Embed(missing.Select(t => t.Text).ToList()) : [];
            for (int i = 0; i < missing.Count; i++) planned[missing[i].Key] = planned[missing[i].Key] with { Vector = vectors[i] };
            foreach (var (key, text) in toEmbed)
                if (Embedded?.TryGetValue(text, out var vector) == true) planned[key] = planned[key] with { Vector = vector };
        }
        // A digest's new record may still be a stored paper under a reworded title: say so (it stays its own
        // record), and keep the decision with the digest so its view need not search again. Record files
        // (bulk loads with their own ids) skip this search.
        var copies = new Dictionary<long, long>();
        var laterDigests = new Dictionary<string, DigestRecord>(StringComparer.Ordinal);
        if (digest != null)
        {
            var finder = new DuplicateFinder(database);
            for (int i = 0; i < listings.Count; i++)
            {
                var paper = planned[listings[i].Key];
                // The view looks for a copy only where no earlier digest listed the paper itself.
                if (listings[i].Status != ListingStatus.New && ListedBefore(paper, digest)) continue;
                if (await finder.StoredCopyOfAsync(paper.Vector, paper.Title, paper.Abstract, paper.Key).ConfigureAwait(false) is not { } copy) continue;
                copies[paper.Key] = copy.Paper.Key;
                if (listings[i].Status == ListingStatus.New) listings[i] = listings[i] with { Status = ListingStatus.Retitled };
                MarkLaterListings(copy.Paper, paper.Key, digest, laterDigests);
            }
        }
        foreach (var record in planned.Values)
        {
            batch.PutPaper(FitToStore(record));
            if (record.SourceId != null && database.Catalog.KeyOfSourceId(record.SourceId) != record.Key && !plannedIds.ContainsKey(record.SourceId))
                batch.PutAlias(record.SourceId, record.Key);
        }
        foreach (var (id, key) in sourceIds.DistinctBy(s => s.Id))
            if (database.Catalog.KeyOfSourceId(id) != key) batch.PutAlias(id, key);
        foreach (var (titleKey, key) in titleAliases) batch.PutTitleAlias(titleKey, key);
        if (embedder != null && toEmbed.Count > 0 && database.ModelId == null) batch.PutModelId(embedder.ModelId);
        DigestRecord? digestRecord = null;
        if (digest != null)
        {
            var keys = listings.Select(l => l.Key).Distinct().ToList();
            digestRecord = new DigestRecord(digest.Id, digest.Date, digest.Source, keys, DateTimeOffset.UtcNow)
            {
                ListingHashes = keys.Select(k => planned[k].TextHash).ToList(),
                StoredCopies = keys.Select(k => copies.GetValueOrDefault(k)).ToList(),
            };
            batch.PutDigest(digestRecord);
            foreach (var later in laterDigests.Values) batch.PutDigest(later);
        }
        var twins = positions.Where(p => p.Value.Count > 1).Select(p => new IngestTwin(p.Key, planned[p.Key].Title, p.Value)).ToList();
        return (batch, new IngestResult(listings, digest?.Id) { Twins = twins, KeysByPosition = keysByPosition, Digest = digestRecord });
    }

    /// <summary>Whether a digest dated before <paramref name="digest"/> listed the paper (then no copy is looked for).</summary>
    bool ListedBefore(PaperRecord paper, DigestInfo digest) =>
        paper.Digests.Any(id => id != digest.Id && database.Catalog.GetDigest(id) is { } d && d.Date < digest.Date);

    /// <summary>
    /// Digests ingested before but dated after this one (a backfill) that listed <paramref name="copy"/>
    /// as new: this listing is now its earlier copy, so their views name it, as a search at view time
    /// would. Only where such a digest listed the copy with no earlier digest and no copy of its own.
    /// </summary>
    void MarkLaterListings(PaperRecord copy, long copyOf, DigestInfo digest, Dictionary<string, DigestRecord> laterDigests)
    {
        foreach (string id in copy.Digests)
        {
            if (id == digest.Id || (laterDigests.TryGetValue(id, out var later) ? later : database.Catalog.GetDigest(id)) is not { } stored) continue;
            if (stored.Date <= digest.Date || !stored.HasStoredCopies) continue; // older layouts decide at view time
            int index = stored.PaperKeys.ToList().IndexOf(copy.Key);
            if (index < 0 || stored.StoredCopy(index) != 0) continue;
            if (copy.Digests.Any(other => other != id && database.Catalog.GetDigest(other) is { } d && d.Date < stored.Date)) continue;
            var updated = stored.StoredCopies.ToArray();
            updated[index] = copyOf;
            laterDigests[id] = stored with { StoredCopies = updated };
        }
    }

    /// <summary>Drops the oldest previous versions until the record fits a store record (its own fields are capped by <see cref="PaperLimits"/>).</summary>
    static PaperRecord FitToStore(PaperRecord record)
    {
        while (record.PreviousVersions.Count > 0 && RecordCodec.PaperSize(record) > RecordStore.MaxValueBytes)
            record = record with { PreviousVersions = record.PreviousVersions.Skip(1).ToList() };
        return record;
    }

    static bool SameText(PaperRecord existing, IncomingPaper paper) => existing.TextHash == PaperIdentity.TextHash(paper.Title, paper.Abstract);

    /// <summary>
    /// Whether the listing is the stored paper with text lost on the way (a paragraph the copy or its
    /// parse dropped): the same title and an abstract that is the stored one with one run of words cut
    /// (its start, its end or a middle paragraph). Such a listing is the same paper, never a revision
    /// that would replace the longer stored abstract; a revision that changes words is still one.
    /// </summary>
    internal static bool LostText(PaperRecord existing, IncomingPaper paper)
    {
        if (PaperIdentity.NormalizeTitle(existing.Title) != PaperIdentity.NormalizeTitle(paper.Title)) return false;
        var stored = existing.Abstract.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var incoming = paper.Abstract.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (incoming.Length == 0 || incoming.Length >= stored.Length) return false;
        int prefix = 0;
        while (prefix < incoming.Length && incoming[prefix] == stored[prefix]) prefix++;
        // Cut off mid-word ("... the mod"): the last word is the start of the stored one.
        if (prefix == incoming.Length - 1 && stored[prefix].StartsWith(incoming[prefix], StringComparison.Ordinal)) return true;
        int suffix = 0;
        while (suffix < incoming.Length - prefix && incoming[^(suffix + 1)] == stored[^(suffix + 1)]) suffix++;
        if (prefix + suffix != incoming.Length) return false; // words changed: a revision
        // One run of words is missing. An author's revision drops whole sentences; a broken copy cuts
        // mid-sentence or loses a large share (a whole paragraph, the tail). Only the latter is lost text.
        int removedEnd = stored.Length - suffix;
        bool wholeSentences = (prefix == 0 || EndsSentence(stored[prefix - 1])) && EndsSentence(stored[removedEnd - 1]);
        return !wholeSentences || (removedEnd - prefix) * 10 >= stored.Length * 3;
    }

    static bool EndsSentence(string word) => word.Length > 0 && word[^1] is '.' or '!' or '?';

    /// <summary>The existing record's versions plus its current text, without the incoming text, newest kept.</summary>
    static List<PaperVersion> WithPreviousVersion(PaperRecord existing, ulong incomingHash)
    {
        var versions = existing.PreviousVersions.Append(new PaperVersion(existing.Title, existing.Abstract, existing.Vector))
            .Where(v => v.TextHash != incomingHash)
            .DistinctBy(v => v.TextHash)
            .ToList();
        return versions.Skip(Math.Max(0, versions.Count - PaperRecord.MaxPreviousVersions)).ToList();
    }

    static PaperRecord NewRecord(long key, IncomingPaper paper, List<string> digests, DateOnly firstSeen, string modelId) => new()
    {
        Key = key, Title = paper.Title, Abstract = paper.Abstract, SourceId = paper.SourceId, Authors = paper.Authors,
        Url = paper.Url, Categories = paper.Categories, FirstSeen = firstSeen, Digests = digests, ModelId = modelId,
        Vector = paper.Vector ?? [],
    };
}
