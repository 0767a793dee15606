using System.Buffers.Binary;
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
        /// <summary>checkpoint.json's checksums of the store log do not match its bytes.</summary>
        public bool StoreLogDamaged;
        /// <summary>The store was rebuilt from the records the salvage kept (the damaged one is moved aside).</summary>
        public bool StoreRebuilt;
        /// <summary>Store records lost to damage (key, report line): reported once the log's replay shows whether it wrote them again.</summary>
        public readonly List<(byte[] Key, string Line)> StoreLost = [];
        /// <summary>Store keys the log's replay wrote or deleted.</summary>
        public readonly HashSet<string> Replayed = new(StringComparer.Ordinal);
        public bool LogDamaged;
        public string? ManifestDamage;
    }

    /// <summary>
    /// The store for repair. The log range of the store checkpoint (the one checkpoint.json names, or
    /// without it the newest whose info.dat reads) is first read by <see cref="StoreLogSalvage"/>,
    /// which checks every page against checkpoint.json's chunk checksums and every record against its
    /// own; FASTER never reads damaged bytes. When all of it is intact and the checkpoint's files are
    /// there, FASTER recovers the checkpoint as a normal open would. Otherwise a fresh store is built
    /// from the newest intact version of every key, and the damaged store folder is moved aside whole.
    /// </summary>
    async Task<RecordStore> OpenStoreForRepairAsync(Salvage salvage)
    {
        string store = _directory.StorePath;
        RecordStore Fresh() => new(store, _options.StoreMemoryBytes, _options.DeviceFactory);
        bool requireFrames = _manifest == null || _manifest.ChecksummedRecords;
        Guid? token = null;
        long begin = FirstStoreAddress, tail = FirstStoreAddress;
        IReadOnlyList<CheckpointManifest.LogChunk> chunks = [];
        string source = store;
        if (_manifest != null)
        {
            token = _manifest.StoreToken;
            source = FolderHolding(_manifest.StoreToken, salvage);
            var recorded = StoreLogSalvage.CheckpointAddresses(source, _manifest.StoreToken);
            chunks = _manifest.StoreLogChunks;
            begin = chunks.Count > 0 ? chunks[0].Start : recorded?.Begin ?? FirstStoreAddress;
            if (_manifest.StoreTailAddress > 0) tail = _manifest.StoreTailAddress;
            else if (recorded is { } r) tail = r.Final;
            else
            {
                tail = chunks.Count > 0 ? chunks[^1].End : begin;
                salvage.Lines.Add($"warning: where store checkpoint {_manifest.StoreToken} ends is not recorded (its info.dat is missing and checkpoint.json is from before it recorded that): records written in the last sector before the checkpoint, after log address {tail}, were not read");
            }
        }
        else
        {
            // A rebuild that died before its checkpoint.json was written left its marker: the store it read is the one to read again.
            string marker = Path.Combine(store, RebuildMarker);
            if (File.Exists(marker) && File.ReadAllText(marker).Trim() is { Length: > 0 } from && Directory.Exists(from))
            {
                source = from;
                salvage.Lines.Add($"note: an earlier repair was interrupted while it rebuilt the store from {from}; the store is salvaged from it again");
            }
            foreach (var candidate in StoreCheckpointsNewestFirst(source))
                if (StoreLogSalvage.CheckpointAddresses(source, candidate) is { } r)
                {
                    (token, begin, tail) = (candidate, r.Begin, r.Final);
                    break;
                }
            if (token == null)
            {
                if (Directory.Exists(Path.Combine(store, "checkpoints", "cpr-checkpoints")) && Directory.GetDirectories(Path.Combine(store, "checkpoints", "cpr-checkpoints")).Length > 0)
                    throw new DataDirectoryDamagedException($"{_directory.ManifestPath} is missing or damaged and no store checkpoint in {Path.Combine(store, "checkpoints", "cpr-checkpoints")} has a readable info.dat: papervec repair cannot tell where the store's log begins and ends; restore checkpoint.json or the store's files from a backup");
                salvage.Lines.Add("kept: no store checkpoint was ever written; the store is rebuilt from the write-ahead log alone");
                return Fresh();
            }
        }

        var scan = StoreLogSalvage.Scan(source, begin, tail, chunks, requireFrames);
        if (scan.Clean && source == store && !salvage.StoreFilesMissing && !salvage.StoreLogDamaged)
        {
            var recovered = Fresh();
            try
            {
                await recovered.RecoverAsync(token.Value).ConfigureAwait(false);
                salvage.Lines.Add($"kept: store checkpoint {token} ({(_manifest != null ? "the one checkpoint.json names" : $"the newest in {Path.Combine(store, "checkpoints")}")}), {CountPapers(recovered)} papers");
                return recovered;
            }
            catch (DataDirectoryDamagedException e)
            {
                recovered.Dispose();
                salvage.Problems.Add(e.Message);
            }
        }
        return RebuildStore(salvage, token.Value, source, begin, tail, scan, requireFrames);
    }

    /// <summary>In a store being rebuilt by repair, until checkpoint.json names it: the folder it is rebuilt from.</summary>
    const string RebuildMarker = "rebuilding-from";

    /// <summary>FASTER's first log address: the log's first 64 bytes are reserved.</summary>
    const long FirstStoreAddress = 64;

    /// <summary>
    /// The store folder holding checkpoint <paramref name="token"/>: store/, or, when a repair was
    /// interrupted after it moved the damaged store aside, the newest store.damaged-* that holds it.
    /// </summary>
    string FolderHolding(Guid token, Salvage salvage)
    {
        string store = _directory.StorePath;
        bool Holds(string folder) => new[] { "cpr-checkpoints", "index-checkpoints" }.Any(f => Directory.Exists(Path.Combine(folder, "checkpoints", f, token.ToString())));
        if (Holds(store)) return store;
        string? aside = Directory.GetDirectories(_directory.Root, "store.damaged-*").Order(StringComparer.Ordinal).LastOrDefault(Holds);
        if (aside == null) return store;
        salvage.Lines.Add($"note: {aside} holds store checkpoint {token}, which checkpoint.json names: an earlier repair was interrupted after moving it aside; the store is salvaged from it again");
        return aside;
    }

    /// <summary>
    /// Builds a fresh store from the newest intact version of every key the scan found, after moving
    /// the damaged store folder aside (never deleted), and reports what it kept, could not read and lost.
    /// </summary>
    RecordStore RebuildStore(Salvage salvage, Guid token, string source, long begin, long tail, StoreLogSalvage.Result scan, bool requireFrames)
    {
        string store = _directory.StorePath;
        string stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss");
        string Unique(string path)
        {
            string candidate = path;
            for (int n = 2; Directory.Exists(candidate) || File.Exists(candidate); n++) candidate = $"{path}-{n}";
            return candidate;
        }
        if (source == store)
        {
            source = Unique($"{store}.damaged-{stamp}");
            Directory.Move(store, source);
            salvage.Lines.Add($"moved aside: the damaged store {store} to {source} (kept, never deleted); the store is rebuilt from its intact records");
        }
        else if (Directory.Exists(store))
        {
            string partial = Unique($"{store}.partial-{stamp}");
            Directory.Move(store, partial);
            salvage.Lines.Add($"moved aside: the store the interrupted repair had begun in {store} to {partial}");
        }
        Directory.CreateDirectory(store);
        AtomicFile.Write(Path.Combine(store, RebuildMarker), System.Text.Encoding.UTF8.GetBytes(source));
        var fresh = new RecordStore(store, _options.StoreMemoryBytes, _options.DeviceFactory);
        var counts = new Dictionary<byte, int>();
        try
        {
            StoreLogSalvage.ForEachKept(source, scan, requireFrames, (key, value) =>
            {
                fresh.Upsert(key, value);
                counts[key[0]] = counts.GetValueOrDefault(key[0]) + 1;
            });
        }
        catch
        {
            fresh.Dispose();
            throw;
        }
        salvage.StoreRebuilt = true;
        // The old log's chunk checksums describe other bytes: the checkpoint after repair hashes the new log whole.
        if (_manifest != null) _manifest = _manifest with { StoreLogChunks = [] };
        int Count(byte prefix) => counts.GetValueOrDefault(prefix);
        salvage.Lines.Add($"kept: {counts.Values.Sum()} records of store checkpoint {token} from {source}, log addresses {begin}..{tail} ({Count(PaperPrefix)} papers, "
            + $"{Count(AliasPrefix)} ids, {Count(TitleAliasPrefix)} title aliases, {Count(DigestPrefix)} digests, {Count(LibraryPrefix)} libraries, {Count(MetaPrefix)} settings); "
            + $"{scan.PagesVerified} of {scan.PagesVerified + scan.PagesUnverified} log pages verified whole by checkpoint.json's checksums, the others record by record");
        if (_manifest != null && _manifest.Papers != Count(PaperPrefix))
            salvage.Lines.Add($"lost: {_manifest.Papers - Count(PaperPrefix)} of the {_manifest.Papers} papers checkpoint.json counted at its checkpoint are not in the intact records (named below where their damaged records' keys read; the log's replay may write some again)");
        foreach (var gap in MergedGaps(scan.Gaps)) // named where the damaged bytes are now
            salvage.Lines.Add($"unreadable: {Path.Combine(source, Path.GetFileName(gap.File))} bytes {gap.From}..{gap.To} ({gap.Why})");
        foreach (var damaged in scan.DamagedRecords)
        {
            var (file, offset) = StoreLogSalvage.Locate(source, damaged.Address);
            string name = NameRecordKey(damaged.Key);
            string id = Convert.ToBase64String(damaged.Key);
            var newest = scan.Newest.TryGetValue(id, out var n) ? n.Version : (StoreLogSalvage.Version?)null;
            if (newest is { } later && later.Address > damaged.Address)
            {
                salvage.Lines.Add($"note: the {name} record at {file} offset {offset} is damaged ({damaged.Why}), but a later version of it (offset {StoreLogSalvage.Locate(source, later.Address).Offset}) was read intact: nothing lost");
                continue;
            }
            string older = newest is { Tombstone: false } o ? $"; the version before it (offset {StoreLogSalvage.Locate(source, o.Address).Offset}) is kept in its place"
                : newest is { Tombstone: true } ? "; it had been deleted before, and stays deleted" : "";
            salvage.StoreLost.Add((damaged.Key, $"{name} (as its damaged record's key reads) at {file} offset {offset}: {damaged.Why}{older}"));
        }
        foreach (var (key, address) in scan.UnverifiedDeletes)
        {
            var (file, offset) = StoreLogSalvage.Locate(source, address);
            salvage.Lines.Add($"unverified: the delete of {NameRecordKey(key)} at {file} offset {offset} lies in bytes no checksum covers (a delete carries none); it was applied");
        }
        if (scan.Gaps.Count > 0)
        {
            salvage.Lines.Add($"warning: the unreadable bytes may have held newer versions or deletes of records kept from earlier in the log; {scan.Kept.Count()} records were kept, and the write-ahead log's entries after the checkpoint were replayed over them");
        }
        return fresh;
    }

    /// <summary>After a rebuilt store and the log's replay: ids and title aliases naming a paper that was lost go too (verify calls them dangling).</summary>
    void DropAliasesOfLostPapers(Salvage salvage)
    {
        var papers = new HashSet<long>();
        var aliases = new List<(byte[] Key, long Paper)>();
        _store.ScanLatest([PaperPrefix, AliasPrefix, TitleAliasPrefix], (key, value) =>
        {
            if (key[0] == PaperPrefix) papers.Add(BinaryPrimitives.ReadInt64LittleEndian(key[1..]));
            else if (value.Length == 8) aliases.Add((key.ToArray(), BinaryPrimitives.ReadInt64LittleEndian(value)));
        });
        foreach (var (key, paper) in aliases.Where(a => !papers.Contains(a.Paper)))
        {
            _store.Delete(key);
            salvage.Lines.Add($"dropped: {NameRecordKey(key)}, which names paper {PaperIdentity.Format(paper)}, no longer stored");
        }
    }

    /// <summary>Adjacent unreadable ranges of one file, as one.</summary>
    static List<StoreLogSalvage.Gap> MergedGaps(List<StoreLogSalvage.Gap> gaps)
    {
        var merged = new List<StoreLogSalvage.Gap>();
        foreach (var gap in gaps)
        {
            if (merged.Count > 0 && merged[^1].File == gap.File && merged[^1].To >= gap.From && merged[^1].Why == gap.Why)
                merged[^1] = merged[^1] with { To = Math.Max(merged[^1].To, gap.To) };
            else merged.Add(gap);
        }
        return merged;
    }

    /// <summary>The store keys a batch writes or deletes.</summary>
    static IEnumerable<byte[]> StoreKeysOf(WriteBatch batch)
    {
        foreach (var change in batch.Changes)
        {
            switch (change.Kind)
            {
                case WriteBatch.Kind.PutPaper or WriteBatch.Kind.DeletePaper:
                    var key = new byte[9];
                    PaperKeyBytes(change.Key, key);
                    yield return key;
                    break;
                case WriteBatch.Kind.PutAlias or WriteBatch.Kind.DeleteAlias: yield return AliasKeyBytes(change.Alias!); break;
                case WriteBatch.Kind.PutTitleAlias or WriteBatch.Kind.DeleteTitleAlias: yield return TitleAliasKeyBytes(change.TitleKey); break;
                case WriteBatch.Kind.PutDigest: yield return DigestKeyBytes(change.Digest!.Id); break;
                case WriteBatch.Kind.DeleteDigest: yield return DigestKeyBytes(change.Alias!); break;
                case WriteBatch.Kind.PutLibrary: yield return LibraryKeyBytes(change.Library!.Name); break;
                case WriteBatch.Kind.DeleteLibrary: yield return LibraryKeyBytes(change.Alias!); break;
                case WriteBatch.Kind.PutModelId: yield return ModelIdKey; break;
            }
        }
    }

    /// <summary>Full checkpoints (both halves present) in the store, newest first.</summary>
    IEnumerable<Guid> StoreCheckpointsNewestFirst(string? store = null)
    {
        string root = Path.Combine(store ?? _directory.StorePath, "checkpoints");
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
            if (TryDecodeEntry(entry.Payload, out string? invalid) is not { } batch)
            {
                lost.Add($"{entry.Sequence} at address {entry.Address} (its checksum verifies, but it {invalid})");
                continue;
            }
            batch = WithoutUnstorable(batch, entry.Sequence, skipped);
            if (index != null) ApplyToIndex(index, batch);
            ApplyToStore(batch);
            if (salvage.StoreLost.Count > 0) salvage.Replayed.UnionWith(StoreKeysOf(batch).Select(Convert.ToBase64String));
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
        if (salvage.StoreRebuilt) DropAliasesOfLostPapers(salvage);
        foreach (var (key, line) in salvage.StoreLost)
            salvage.Lines.Add(salvage.Replayed.Contains(Convert.ToBase64String(key))
                ? $"restored: {line}; a later write of it in the write-ahead log was replayed, so nothing of it is lost"
                : $"lost: {line}");
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
    async Task FinishRepairAsync(Salvage salvage)
    {
        string stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss");
        if (salvage.ManifestDamage != null && File.Exists(_directory.ManifestPath))
        {
            string copy = $"{_directory.ManifestPath}.damaged-{stamp}";
            File.Copy(_directory.ManifestPath, copy);
            salvage.Lines.Add($"moved aside: the damaged {_directory.ManifestPath} to {copy}");
        }
        await CheckpointAsync().ConfigureAwait(false); // _wal is not open: nothing is truncated
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
            await CheckpointAsync().ConfigureAwait(false); // checkpoint.json now points into the fresh log
        }
        if (salvage.StoreRebuilt) File.Delete(Path.Combine(_directory.StorePath, RebuildMarker)); // checkpoint.json now names the rebuilt store
        salvage.Lines.Add($"now: {PaperCount} papers; checkpoint.json written; the next entry is number {_nextToApply}");
    }
}
