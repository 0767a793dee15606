using PaperVec.Index;

namespace PaperVec.Storage;

// papervec repair: every refusal of a normal open it can get past without guessing, keeping every
// intact acknowledged entry; what it kept and what it set aside is reported line by line.
public sealed partial class PaperDatabase
{
    /// <summary>What repair found, kept and moved aside, as it goes.</summary>
    sealed class Salvage
    {
        public readonly List<string> Lines = [];
        /// <summary>Problems a normal open refuses on, which repair works past.</summary>
        public readonly List<string> Problems = [];
        public bool StoreFilesMissing;
        public bool LogDamaged;
        public string? ManifestDamage;
    }

    /// <summary>
    /// The store for repair: the checkpoint checkpoint.json names when its files are there and it
    /// recovers, else the newest store checkpoint in store/checkpoints that recovers whole. Refuses
    /// when there are checkpoints but none is intact: repair cannot make up the store's papers.
    /// </summary>
    RecordStore OpenStoreForRepair(Salvage salvage)
    {
        string store = _directory.StorePath;
        RecordStore Fresh() => new(store, _options.StoreMemoryBytes, _options.DeviceFactory);
        var tried = new HashSet<Guid>();
        string? firstFailure = null;
        if (_manifest != null)
        {
            tried.Add(_manifest.StoreToken);
            if (!salvage.StoreFilesMissing)
            {
                var named = Fresh();
                try
                {
                    named.Recover(_manifest.StoreToken);
                    salvage.Lines.Add($"kept: store checkpoint {_manifest.StoreToken} (the one checkpoint.json names), {CountPapers(named)} papers");
                    return named;
                }
                catch (DataDirectoryDamagedException e)
                {
                    named.Dispose();
                    firstFailure = e.Message;
                    salvage.Problems.Add(e.Message);
                }
            }
        }
        foreach (var token in StoreCheckpointsNewestFirst().Where(t => !tried.Contains(t)))
        {
            var existed = Directory.GetFiles(store, "hlog.log.*").ToHashSet();
            var candidate = Fresh();
            string? problem = null;
            try
            {
                candidate.Recover(token);
                // A checkpoint whose log segments are gone would recover as if those papers never were.
                var missing = candidate.CheckpointFiles(token).Where(f => f.Path.StartsWith("hlog.log.", StringComparison.Ordinal) && !existed.Contains(Path.Combine(store, f.Path))).ToList();
                if (missing.Count > 0) problem = $"store checkpoint {token} needs {string.Join(", ", missing.Select(f => f.Path))}, which is missing";
            }
            catch (DataDirectoryDamagedException e) { problem = e.Message; }
            if (problem == null)
            {
                salvage.Lines.Add($"kept: store checkpoint {token} (the newest intact one in {Path.Combine(store, "checkpoints")}), {CountPapers(candidate)} papers");
                return candidate;
            }
            candidate.Dispose();
            // Recovery reads through FASTER's devices, which create a missing segment empty: take back only what this attempt created.
            foreach (var file in Directory.GetFiles(store, "hlog.log.*"))
                if (!existed.Contains(file) && new FileInfo(file).Length == 0) File.Delete(file);
            firstFailure ??= problem;
            salvage.Problems.Add(problem);
        }
        if (firstFailure != null || _manifest != null)
            throw new DataDirectoryDamagedException($"no intact store checkpoint in {Path.Combine(store, "checkpoints")}: papervec repair cannot bring back the store's papers ({firstFailure ?? "checkpoint.json names one whose files are missing"}); restore the store's files from a backup");
        salvage.Lines.Add("kept: no store checkpoint was ever written; the store is rebuilt from the write-ahead log alone");
        return Fresh();
    }

    /// <summary>Full checkpoints (both halves present) in the store, newest first.</summary>
    IEnumerable<Guid> StoreCheckpointsNewestFirst()
    {
        string root = Path.Combine(_directory.StorePath, "checkpoints");
        string log = Path.Combine(root, "cpr-checkpoints"), index = Path.Combine(root, "index-checkpoints");
        if (!Directory.Exists(log)) return [];
        return Directory.GetDirectories(log)
            .Select(d => (Dir: d, Ok: Guid.TryParse(Path.GetFileName(d), out var token), Token: token))
            .Where(c => c.Ok && Directory.Exists(Path.Combine(index, c.Token.ToString())))
            .OrderByDescending(c => File.Exists(Path.Combine(c.Dir, "info.dat.0")) ? File.GetLastWriteTimeUtc(Path.Combine(c.Dir, "info.dat.0")) : DateTime.MinValue)
            .Select(c => c.Token).ToList();
    }

    static int CountPapers(RecordStore store)
    {
        int papers = 0;
        store.ScanLatest(PaperPrefix, (_, _) => papers++);
        return papers;
    }

    /// <summary>
    /// Replays every intact entry the log holds after the store's checkpoint, reading the segment
    /// files directly (<see cref="WalSalvage"/>): past damaged bytes, a cut or missing segment and a
    /// missing commit record. Entries the store already holds are skipped by sequence number when
    /// checkpoint.json says where it stands; without it every entry is replayed, which rewrites the
    /// same whole records. Returns the next sequence number and the address after the last entry used.
    /// </summary>
    (long Next, int Replayed, long AppliedEnd) ReplayForRepair(Salvage salvage, HnswIndex? index, List<string> skipped)
    {
        string wal = _directory.WalPath;
        long? committed = null, begin = null;
        if (WriteAheadLog.HasCommitRecord(wal))
        {
            try
            {
                using var log = new WriteAheadLog(wal, readOnly: true);
                (committed, begin) = (log.CommittedUntilAddress, log.BeginAddress);
            }
            catch (DataDirectoryDamagedException e) { salvage.Problems.Add(e.Message); }
        }
        long from = begin ?? WalSalvage.FirstSegmentAddress(wal) ?? WalSalvage.FirstAddress;
        long until = committed ?? WalSalvage.EndOfFiles(wal);
        if (committed == null)
        {
            salvage.LogDamaged |= until > from;
            if (until > from) salvage.Lines.Add($"note: the log has no readable commit record, so every intact entry up to the end of its files (address {until}) was used; the last ones may never have been acknowledged");
        }

        long? expected = _manifest?.NextSequence;
        long appliedEnd = from;
        int replayed = 0, papers = 0, deletes = 0, already = 0;
        var kept = new List<long>();
        var lost = new List<string>();
        var gaps = new List<WalSalvage.Gap>();
        bool manifestAddressFound = _manifest == null || _manifest.WalAddress <= from;
        foreach (var entry in WalSalvage.Scan(wal, from, until, gaps))
        {
            if (!manifestAddressFound) manifestAddressFound = entry.Address == _manifest!.WalAddress || entry.NextAddress == _manifest.WalAddress;
            if (expected is long e && entry.Sequence < e) { already++; appliedEnd = entry.NextAddress; continue; }
            if (expected is long gapFrom && entry.Sequence > gapFrom) lost.Add(Range(gapFrom, entry.Sequence - 1) + " (their bytes are damaged or gone)");
            expected = entry.Sequence + 1;
            WriteBatch batch;
            try { batch = WriteBatch.Decode(entry.Payload); }
            catch (InvalidDataException ex) { lost.Add($"{entry.Sequence} at address {entry.Address} (checksum verifies but it does not decode: {ex.Message})"); continue; }
            if (batch.Changes.FirstOrDefault(c => c.Paper is { } p && (p.Vector.Length != _options.Dimension || p.Key <= 0)) is { Paper: { } bad })
            {
                lost.Add($"{entry.Sequence} at address {entry.Address} (holds an invalid paper, {bad.Vector.Length}-d vector)");
                continue;
            }
            batch = WithoutUnstorable(batch, entry.Sequence, skipped);
            if (index != null) ApplyToIndex(index, batch);
            ApplyToStore(batch);
            papers += batch.Changes.Count(c => c.Kind == WriteBatch.Kind.PutPaper);
            deletes += batch.Changes.Count(c => c.Kind == WriteBatch.Kind.DeletePaper);
            kept.Add(entry.Sequence);
            appliedEnd = entry.NextAddress;
            replayed++;
        }
        if (gaps.Count > 0 && gaps[^1].To >= until && gaps[^1].From >= appliedEnd)
            lost.Add($"from {expected?.ToString() ?? "the first"} on, as many as the unreadable end of the log held (addresses {gaps[^1].From}..{gaps[^1].To})");
        salvage.LogDamaged |= gaps.Count > 0 || lost.Count > 0;
        // A normal open replays from checkpoint.json's address; one that is not where an entry starts refuses, so say why repair set it right.
        if (!manifestAddressFound && _manifest!.WalAddress < until)
            salvage.Problems.Add($"checkpoint.json's log address {_manifest.WalAddress} is not where a log entry starts (damaged?); entries were matched by sequence number instead and it is rewritten");

        if (already > 0) salvage.Lines.Add($"skipped: {already} log entries the store checkpoint already holds");
        salvage.Lines.Add(kept.Count == 0 ? "kept: no log entries after the store checkpoint"
            : $"kept: log entries {Ranges(kept)} ({kept.Count} entries: {papers} papers written, {deletes} deleted)");
        foreach (var gap in gaps) salvage.Lines.Add($"unreadable: log addresses {gap.From}..{gap.To} ({gap.Why})");
        foreach (var l in lost) salvage.Lines.Add($"lost: log entries {l}");
        return (expected ?? 0, replayed, appliedEnd);
    }

    static string Range(long from, long to) => from == to ? $"{from}" : $"{from}..{to}";

    /// <summary>Sorted sequence numbers as runs: "4..9, 12, 14..20".</summary>
    static string Ranges(List<long> sequences)
    {
        var runs = new List<string>();
        for (int i = 0; i < sequences.Count;)
        {
            int j = i;
            while (j + 1 < sequences.Count && sequences[j + 1] == sequences[j] + 1) j++;
            runs.Add(Range(sequences[i], sequences[j]));
            i = j + 1;
        }
        return string.Join(", ", runs);
    }

    /// <summary>
    /// Makes what repair kept durable before anything moves (the new checkpoint.json points into the
    /// old log, which is not truncated, so a crash here leaves a directory repair handles again), then
    /// moves a damaged log aside (never deleted) for a fresh one and checkpoints into that.
    /// A damaged checkpoint.json is copied aside before the new one replaces it.
    /// </summary>
    void FinishRepair(Salvage salvage)
    {
        string stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss");
        if (salvage.ManifestDamage != null && File.Exists(_directory.ManifestPath))
        {
            string copy = $"{_directory.ManifestPath}.damaged-{stamp}";
            File.Copy(_directory.ManifestPath, copy);
            salvage.Lines.Add($"moved aside: the damaged {_directory.ManifestPath} to {copy}");
        }
        WaitAtOpenOrClose(CheckpointAsync()); // _wal is not open: nothing is truncated
        if (salvage.LogDamaged && Directory.Exists(_directory.WalPath))
        {
            string aside = _directory.WalPath + $".damaged-{stamp}";
            Directory.Move(_directory.WalPath, aside);
            salvage.Lines.Add($"moved aside: the damaged write-ahead log {_directory.WalPath} to {aside} (kept, never deleted)");
        }
        Directory.CreateDirectory(_directory.WalPath);
        _wal = OpenWriteAheadLog(_directory.WalPath, _options);
        _wal.ResumeAt(_nextToApply);
        if (salvage.LogDamaged)
        {
            _appliedEnd = _wal.TailAddress;
            WaitAtOpenOrClose(CheckpointAsync()); // checkpoint.json now points into the fresh log
        }
        salvage.Lines.Add($"now: {PaperCount} papers; checkpoint.json written; the next entry is number {_nextToApply}");
    }
}
