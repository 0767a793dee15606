namespace PaperVec.Storage;

/// <summary>What <see cref="PaperDatabase.Verify"/> checked and found wrong.</summary>
public sealed record VerifyReport(IReadOnlyList<string> Checked, IReadOnlyList<string> Problems)
{
    public bool Sound => Problems.Count == 0;
}

// papervec verify: read everything, check it, change nothing.
public sealed partial class PaperDatabase
{
    /// <summary>
    /// Reads every record and checks it against the rest: what opening found (files, checksums,
    /// sequence), every paper resolving by key through the store's hash table and decoding, the
    /// index holding exactly the store's papers, every alias and title alias resolving, every
    /// digest decoding. Open with <see cref="OpenMode.Verify"/> so nothing is written.
    /// </summary>
    public VerifyReport Verify()
    {
        var done = new List<string>();
        var problems = new List<string>(Recovery.Damage);
        done.Add($"opened: {(Recovery.FromCheckpoint ? "checkpoint" : "no checkpoint")}, {Recovery.ReplayedBatches} log entries replayed and their checksums verified");

        int papers = 0, unreadable = 0;
        foreach (var key in _catalog.Keys)
        {
            try
            {
                if (GetPaper(key) is { } paper && paper.Key == key) papers++;
                else if (++unreadable <= 5) problems.Add($"paper {PaperIdentity.Format(key)} is listed in the store's log but its key does not resolve (hash table damaged?)");
            }
            catch (InvalidDataException e) { if (++unreadable <= 5) problems.Add($"paper {PaperIdentity.Format(key)} does not decode: {e.Message}"); }
            catch (RecordDamagedException e) { if (++unreadable <= 5) problems.Add(e.Message); }
        }
        if (unreadable > 5) problems.Add($"... {unreadable} papers in all do not resolve or decode");
        done.Add($"{papers} papers resolve by key and decode");

        if (!IndexMatchesStore(out string mismatch)) problems.Add($"index and store differ: {mismatch}");
        else done.Add($"index holds exactly the store's {_index.LiveCount} papers");
        try { _index.CheckIntegrity(); done.Add("index graph integrity"); }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException) { problems.Add($"index graph: {e.Message}"); }

        int dangling = 0;
        foreach (var (alias, key) in _catalog.SourceIdAliases)
            if (!_catalog.Contains(key) && ++dangling <= 5) problems.Add($"id '{alias}' names paper {PaperIdentity.Format(key)}, which is not stored");
        foreach (var (titleKey, key) in _catalog.TitleAliases)
            if (!_catalog.Contains(key) && ++dangling <= 5) problems.Add($"title alias {PaperIdentity.Format(titleKey)} names paper {PaperIdentity.Format(key)}, which is not stored");
        done.Add($"{_catalog.SourceIdAliases.Count} ids and {_catalog.TitleAliases.Count} title aliases checked");

        try { done.Add($"{_catalog.Digests().Count} digests decode"); }
        catch (InvalidDataException e) { problems.Add($"a digest does not decode: {e.Message}"); }
        CheckDigestMembership(done, problems);
        return new VerifyReport(done, problems);
    }

    /// <summary>
    /// Digests and their papers agree: a paper naming a digest that is not stored (a digest delete half
    /// applied, or a lost record) is a problem. A digest listing a paper that is gone is counted, not a
    /// problem: deleting one paper leaves its digests' history as it was (the views skip it).
    /// </summary>
    void CheckDigestMembership(List<string> done, List<string> problems)
    {
        int orphaned = 0, gone = 0, checkedPapers = 0;
        foreach (var key in _catalog.Keys)
        {
            PaperRecord? paper;
            try { paper = GetPaper(key); }
            catch (Exception e) when (e is InvalidDataException or RecordDamagedException) { continue; } // reported above
            if (paper == null) continue;
            checkedPapers++;
            foreach (var digestId in paper.Digests)
                if (_catalog.GetDigest(digestId) == null && ++orphaned <= 5)
                    problems.Add($"paper {paper.Id} ('{Shorten(paper.Title)}') lists digest {digestId}, which is not stored (deleted, or its record lost)");
        }
        if (orphaned > 5) problems.Add($"... {orphaned} papers in all list a digest that is not stored");
        foreach (var digest in _catalog.Digests())
            foreach (long key in digest.PaperKeys)
                if (!_catalog.Contains(key)) gone++;
        done.Add($"{checkedPapers} papers' digests are stored; {gone} digest listings name papers deleted since (kept as the digests' history)");
    }
}
