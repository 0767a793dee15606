using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using PaperVec.Index;
using PaperVec.Lexical;

namespace PaperVec.Storage;

// Opening a data directory: verify what is there, recover the store, replay the log, check the index.
public sealed partial class PaperDatabase
{
    PaperDatabase(DataDirectory directory, PaperDatabaseOptions options)
    {
        _directory = directory;
        _options = options;
    }

    /// <summary>Opening proper (<see cref="OpenAsync"/>): verify, recover the store, replay the log, check the index, checkpoint what was replayed.</summary>
    async Task RecoverAsync()
    {
        var clock = Stopwatch.StartNew();
        var directory = _directory;
        var options = _options;
        var damage = new List<string>();
        var skipped = new List<string>();
        bool verify = options.Mode == OpenMode.Verify;
        Salvage? salvage = null; // papervec repair (of a log with PaperVec's checksums): works past the refusals below
        // Verify reports every problem; repair notes it and works past it; a normal open refuses at the first one that would lose data.
        void Refuse(string problem)
        {
            if (salvage != null) salvage.Problems.Add(problem);
            else if (!verify) throw new DataDirectoryDamagedException(problem);
            damage.Add(problem);
        }

        if (!verify && DiskSpace.Available(directory.Root) is long free && free < WriteAheadLog.MinFreeBytesToOpen)
            throw new StorageFaultException($"the disk holding {directory.Root} has {free >> 20} MB free; papervec needs at least {WriteAheadLog.MinFreeBytesToOpen >> 20} MB to open a data directory safely", null, insufficientSpace: true);
        string? manifestDamage = null;
        try { _manifest = CheckpointManifest.TryLoad(directory.ManifestPath); }
        catch (DataDirectoryDamagedException e) when (options.Mode == OpenMode.AcceptLoss && !e.Message.Contains("newer than this PaperVec"))
        {
            // repair: a damaged manifest is set aside; the newest intact store checkpoint and the log stand in for it.
            manifestDamage = e.Message;
            damage.Add(e.Message);
        }
        if (options.Mode == OpenMode.AcceptLoss && (_manifest?.ChecksummedLog ?? true))
            salvage = new Salvage { ManifestDamage = manifestDamage };
        // Without checkpoint.json a directory is new only if its log never committed: a new directory
        // gets its manifest before its first write, so a commit record means acknowledged data (a
        // crash inside that first checkpoint leaves store files but no commit record: still new).
        if (_manifest == null && manifestDamage == null && WriteAheadLog.HasCommitRecord(directory.WalPath))
            Refuse($"{directory.ManifestPath} is missing, but the data directory holds acknowledged writes (its write-ahead log has a commit record): opening it as new would lose those papers; restore checkpoint.json");
        // A store problem says that papervec repair salvages it (serve's one line); repair notes it and rebuilds the store.
        void RefuseStore(string problem) => Refuse(salvage == null && !verify ? problem + StoreRepairHint : problem);
        if (_manifest != null)
            foreach (var problem in MissingStoreFiles(_manifest))
            {
                RefuseStore(problem);
                if (salvage != null) salvage.StoreFilesMissing = true;
            }
        // The store log's bytes are checked before FASTER reads them: it trusts the lengths in them.
        bool storeLogDamaged = false;
        if (_manifest != null && RecordStore.CheckLogChunks(directory.StorePath, _manifest.StoreLogChunks) is { } logProblem)
        {
            RefuseStore(logProblem);
            storeLogDamaged = true; // verify: FASTER is not let near the damaged bytes
            if (salvage != null) salvage.StoreLogDamaged = true; // repair reads the log itself and keeps every intact record
        }

        // Everything checkable before FASTER opens a file (opening creates missing segment files).
        string commits = WriteAheadLog.CommitDirectory(directory.WalPath);
        if (_manifest != null && !WriteAheadLog.HasCommitRecord(directory.WalPath))
            Refuse($"{commits} holds no commit record: the write-ahead log's acknowledged entries cannot be found without it");
        var walSegments = Directory.Exists(directory.WalPath)
            ? Directory.GetFiles(directory.WalPath, "wal.log.*").ToDictionary(f => f, f => new FileInfo(f).Length) : [];

        _store = salvage != null ? await OpenStoreForRepairAsync(salvage).ConfigureAwait(false) : new RecordStore(directory.StorePath, options.StoreMemoryBytes, options.DeviceFactory, readOnly: verify);
        _store.NameKey = NameRecordKey;
        // A store from before records carried checksums reads as before until the open below rewrites its records.
        _store.RequireChecksums = _manifest == null || _manifest.ChecksummedRecords;
        try
        {
            // verify never recovers a checkpoint whose files are missing or whose log bytes are damaged (already reported).
            if (salvage == null && _manifest != null && !storeLogDamaged && !(verify && damage.Count > 0 && MissingStoreFiles(_manifest).Count > 0))
            {
                try { await _store.RecoverAsync(_manifest.StoreToken).ConfigureAwait(false); }
                catch (DataDirectoryDamagedException e) when (verify) { damage.Add(e.Message); }
                catch (DataDirectoryDamagedException e) { throw new DataDirectoryDamagedException(e.Message + StoreRepairHint, e); }
            }

            // repair reads the log's files itself (ReplayForRepair) and opens a log to append to only once it is done.
            long replayFrom = 0;
            if (salvage == null)
            {
                // The checks read the log through read-only devices: FasterLog would create a missing segment empty
                // (and the next open would call it cut, not missing). The log to write to opens once they pass.
                var probe = new WriteAheadLog(directory.WalPath, options.DeviceFactory, readOnly: true);
                try
                {
                    if (_manifest != null && probe.CommittedUntilAddress < _manifest.WalAddress)
                        Refuse($"the write-ahead log's commit record ends at address {probe.CommittedUntilAddress}, before checkpoint.json's position {_manifest.WalAddress}: {commits} is stale or was replaced");
                    replayFrom = Math.Max(_manifest?.WalAddress ?? 0, probe.BeginAddress);
                    for (long address = replayFrom; address < probe.CommittedUntilAddress; address = (address / WriteAheadLog.SegmentBytes + 1) * WriteAheadLog.SegmentBytes)
                    {
                        string segment = WriteAheadLog.SegmentFile(directory.WalPath, address);
                        long needed = Math.Min(probe.CommittedUntilAddress, (address / WriteAheadLog.SegmentBytes + 1) * WriteAheadLog.SegmentBytes) % WriteAheadLog.SegmentBytes;
                        if (!walSegments.TryGetValue(segment, out long length))
                            Refuse($"write-ahead log segment {segment} is missing: it holds acknowledged writes (log addresses from {address})");
                        else if (needed > 0 && length < needed)
                            Refuse($"write-ahead log segment {segment} is {length} bytes, but the log's commit record covers {needed}: it was cut, and acknowledged writes are gone from it");
                    }
                }
                catch { probe.Dispose(); throw; }
                if (verify) _wal = probe;
                else
                {
                    probe.Dispose();
                    _wal = OpenWriteAheadLog(directory.WalPath, options);
                }
            }

            var (index, rebuildReason) = LoadIndexSnapshot(damage);
            string? lexicalRebuild = OpenLexical(damage);
            // Behind the checkpoint (or never committed, or from before lexical search): the log no longer holds what it misses.
            if (lexicalRebuild == null && _lexicalDegraded == null && _manifest != null && (_lexical.CommittedSequence ?? -1) < _manifest.NextSequence)
                lexicalRebuild = $"lexical index {directory.LexicalPath} is behind the checkpoint";
            if (salvage != null && _manifest == null) lexicalRebuild ??= "repair: no intact checkpoint.json says what the lexical index covers";

            // Replay what was acknowledged after the checkpoint.
            long expected = _manifest?.NextSequence ?? 0;
            int replayed = 0;
            var logDamage = new List<string>();
            long appliedEnd = replayFrom;
            if (salvage != null) (expected, replayed, appliedEnd) = ReplayForRepair(salvage, index, skipped);
            else foreach (var entry in _wal!.Replay(replayFrom, _manifest?.ChecksummedLog ?? true, logDamage.Add))
            {
                if (entry.Sequence < expected) { appliedEnd = entry.NextAddress; continue; } // before the checkpoint: already in the store
                if (entry.Sequence > expected)
                {
                    logDamage.Add($"write-ahead log skips entries {expected}..{entry.Sequence - 1} (at address {entry.Address})");
                    break;
                }
                if (TryDecodeEntry(entry.Payload, out string? invalid) is not { } batch)
                {
                    logDamage.Add($"write-ahead log entry {entry.Sequence} at address {entry.Address} {invalid}");
                    break;
                }
                // Entries logged before PaperVec capped record sizes can hold a record no store page fits: skip that change, say so.
                batch = WithoutUnstorable(batch, entry.Sequence, skipped);
                if (index != null) ApplyToIndex(index, batch);
                ApplyToStore(batch);
                appliedEnd = entry.NextAddress;
                expected++;
                replayed++;
            }
            if (logDamage.Count > 0)
            {
                string problem = $"{logDamage[0]}; {replayed} entries before it were readable";
                if (options.Mode == OpenMode.Normal)
                    throw new DataDirectoryDamagedException($"{problem}. The data directory holds acknowledged writes that cannot be read back: 'papervec verify' lists the damage, 'papervec repair' keeps what is readable and sets the damaged log aside");
                damage.Add(problem);
            }
            _wal?.ResumeAt(expected);
            _nextToApply = expected;
            _appliedEnd = appliedEnd;

            // The store is the truth: the index must hold exactly its papers. Every record's checksum is
            // verified here, before anything is rebuilt or checkpointed from them.
            HashSet<long> storeKeys;
            try { storeKeys = LoadMemoryTables(verify ? e => damage.Add(e.Message) : null); }
            catch (RecordDamagedException e)
            {
                throw new DataDirectoryDamagedException($"{e.Message}: the data directory is not opened (nothing is rebuilt over it){StoreRepairHint}", e);
            }
            catch (DataDirectoryDamagedException e) when (!verify && salvage == null) // a store log FASTER cannot scan
            {
                throw new DataDirectoryDamagedException(e.Message + StoreRepairHint, e);
            }
            _store.SkipDamagedInScans = verify; // each damaged record is in the report once; the rebuilds below go on without it
            bool addChecksums = !verify && !_store.RequireChecksums;
            if (addChecksums)
            {
                int rewritten = _store.AddChecksumsToOlderRecords();
                _store.RequireChecksums = true;
                options.Log?.Invoke($"{rewritten} stored records from an older PaperVec now carry a checksum");
            }
            if (index != null && !SameLiveIds(index, storeKeys))
            {
                rebuildReason = $"index snapshot does not match the store ({IndexStoreDifference(index, storeKeys)})";
                damage.Add(rebuildReason);
                index.Dispose();
                index = null;
            }
            _index = index ?? Rebuild(storeKeys.Count);
            _vectors = new VectorSearchPolicy(_index, options.ExactSearchBelow, this);
            // Which papers, not only how many; and never a commit from a state the store has not reached.
            if (lexicalRebuild == null && _lexicalDegraded == null) lexicalRebuild = LexicalMismatch(storeKeys, expected);
            if (lexicalRebuild != null && (storeKeys.Count > 0 || _lexical.CommittedSequence != null)) RebuildLexicalAtOpen(lexicalRebuild, damage);
            Recovery = new RecoveryReport(_manifest != null, replayed, index == null && storeKeys.Count > 0, index == null ? rebuildReason : null,
                damage, storeKeys.Count, clock.Elapsed) { Skipped = skipped };
            foreach (var d in damage) options.Log?.Invoke(d);
            foreach (var s in skipped) options.Log?.Invoke(s);

            if (verify) return;
            if (salvage != null)
            {
                await FinishRepairAsync(salvage).ConfigureAwait(false);
                Recovery = Recovery with { Repaired = salvage.Lines, Damage = [.. damage, .. salvage.Problems.Except(damage)] };
            }
            else if (logDamage.Count > 0) await SetDamagedLogAsideAsync().ConfigureAwait(false); // AcceptLoss: everything readable is applied
            // A new directory gets its manifest now, so a missing one is always noticed later; an old
            // one moves to the checksummed log format before anything is appended.
            else if (_manifest == null || !_manifest.ChecksummedLog || addChecksums || replayed > 0 || Recovery.IndexRebuilt || skipped.Count > 0 || LexicalRebuilt != null)
                await CheckpointAsync().ConfigureAwait(false);
            StartLexicalHealIfNeeded();
        }
        catch
        {
            _wal?.Dispose();
            _index?.Dispose();
            await StopLexicalRebuildAsync().ConfigureAwait(false);
            _lexical?.Abandon(); // no commit: a refused open changes nothing
            _store.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The one rule for a log entry that may be applied (recovery and repair both use it): its batch
    /// decodes, and every paper in it has a positive key and a vector of this database's dimension.
    /// Null, with why in words, otherwise.
    /// </summary>
    WriteBatch? TryDecodeEntry(byte[] payload, out string? problem)
    {
        WriteBatch batch;
        try { batch = WriteBatch.Decode(payload); }
        catch (InvalidDataException e)
        {
            problem = $"cannot be decoded ({e.Message})";
            return null;
        }
        if (batch.Changes.FirstOrDefault(c => c.Paper is { } p && (p.Vector.Length != _options.Dimension || p.Key <= 0)) is { Paper: { } bad })
        {
            problem = $"holds an invalid paper ({bad.Vector.Length}-d vector)";
            return null;
        }
        problem = null;
        return batch;
    }

    const string StoreRepairHint = "; 'papervec repair' keeps every intact stored record and moves the damaged store aside";

    /// <summary>Files checkpoint.json names that are gone or shorter than they were: each one loses papers.</summary>
    List<string> MissingStoreFiles(CheckpointManifest manifest)
    {
        var problems = new List<string>();
        string store = _directory.StorePath;
        if (manifest.StoreFiles.Count == 0)
        {
            // Version 1 named no files: at least the checkpoint's own folders must be there.
            foreach (var folder in new[] { "index-checkpoints", "cpr-checkpoints" })
                if (!Directory.Exists(Path.Combine(store, "checkpoints", folder, manifest.StoreToken.ToString())))
                    problems.Add($"{Path.Combine(store, "checkpoints", folder, manifest.StoreToken.ToString())} is missing: checkpoint.json names that store checkpoint");
            return problems;
        }
        foreach (var file in manifest.StoreFiles)
        {
            string path = Path.Combine(store, file.Path);
            var info = new FileInfo(path);
            if (!info.Exists) problems.Add($"{path} is missing: the store checkpoint in checkpoint.json needs it");
            else if (file.Exact ? info.Length != file.Bytes : info.Length < file.Bytes)
                problems.Add($"{path} is {info.Length} bytes, not the {file.Bytes} the store checkpoint wrote: it was cut or replaced");
        }
        return problems;
    }

    (HnswIndex? Index, string? RebuildReason) LoadIndexSnapshot(List<string> damage)
    {
        if (_manifest == null) return (null, null);
        string snapshot = Path.Combine(_directory.IndexPath, _manifest.IndexFile);
        try
        {
            if (!File.Exists(snapshot)) return (null, "no index snapshot");
            var index = HnswIndex.Load(snapshot);
            if (index.Dimension == _options.Dimension) return (index, null);
            index.Dispose();
            return (null, "index snapshot has another dimension");
        }
        catch (Exception e) when (e is InvalidDataException or IOException or EndOfStreamException)
        {
            string reason = $"index snapshot unusable ({e.Message})";
            damage.Add(reason);
            return (null, reason);
        }
    }

    /// <summary>The batch without changes whose record no store page can hold (each named in <paramref name="skipped"/>).</summary>
    static WriteBatch WithoutUnstorable(WriteBatch batch, long sequence, List<string> skipped)
    {
        if (batch.Changes.All(c => c.Paper == null || RecordCodec.PaperSize(c.Paper) <= RecordStore.MaxValueBytes)) return batch;
        var kept = new WriteBatch();
        foreach (var change in batch.Changes)
        {
            if (change.Paper is { } p && RecordCodec.PaperSize(p) > RecordStore.MaxValueBytes)
            {
                skipped.Add($"write-ahead log entry {sequence}: paper {p.Id} ('{Shorten(p.Title)}') is {RecordCodec.PaperSize(p) / 1e6:0.0} MB, more than a stored record can hold; skipped");
                continue;
            }
            kept.Add(change);
        }
        return kept;
    }

    static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

    /// <summary>After papervec repair kept what was readable: checkpoint it, then move the damaged log aside (never deleted) and start a fresh one.</summary>
    async Task SetDamagedLogAsideAsync()
    {
        await CheckpointAsync().ConfigureAwait(false);
        long next = _wal.NextSequence;
        _wal.Dispose();
        string aside = _directory.WalPath + $".damaged-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
        Directory.Move(_directory.WalPath, aside);
        Directory.CreateDirectory(_directory.WalPath);
        _options.Log?.Invoke($"the damaged write-ahead log was moved to {aside}");
        _wal = OpenWriteAheadLog(_directory.WalPath, _options);
        _wal.ResumeAt(next);
        _appliedEnd = _wal.TailAddress;
        await CheckpointAsync().ConfigureAwait(false); // the manifest now points into the fresh log
    }

    /// <summary>
    /// Fills the in-memory summaries and aliases from the store in one scan, each record's checksum
    /// verified; returns the paper keys. A damaged record throws, or with <paramref name="damaged"/> is reported and left out.
    /// </summary>
    HashSet<long> LoadMemoryTables(Action<RecordDamagedException>? damaged = null)
    {
        _catalog.Clear();
        _store.ScanLatest(PaperCatalog.Prefixes, (key, value) => _catalog.Load(key, value), damaged);
        return [.. _catalog.Keys];
    }

    /// <summary>How the index's papers differ from the store's: counts and a few ids each way.</summary>
    static string IndexStoreDifference(HnswIndex index, HashSet<long> storeKeys)
    {
        var missing = storeKeys.Where(k => !index.Contains(k)).ToList();
        int extra = index.LiveCount - (storeKeys.Count - missing.Count); // indexed papers the store lacks
        static string Few(List<long> keys) => string.Join(", ", keys.Take(3).Select(PaperIdentity.Format)) + (keys.Count > 3 ? ", ..." : "");
        var parts = new List<string> { $"index {index.LiveCount} papers, store {storeKeys.Count}" };
        if (missing.Count > 0) parts.Add($"{missing.Count} stored papers missing from the index ({Few(missing)})");
        if (extra > 0) parts.Add($"{extra} indexed papers not in the store");
        return string.Join("; ", parts);
    }

    /// <summary>A store key in words, for damage messages.</summary>
    static string NameRecordKey(ReadOnlySpan<byte> key)
    {
        if (key.Length == 0) return "record with an empty key";
        var rest = key[1..];
        return key[0] switch
        {
            PaperPrefix when rest.Length == 8 => $"paper {PaperIdentity.Format(BinaryPrimitives.ReadInt64LittleEndian(rest))}",
            TitleAliasPrefix when rest.Length == 8 => $"title alias {PaperIdentity.Format(BinaryPrimitives.ReadInt64LittleEndian(rest))}",
            AliasPrefix => $"id alias '{Printable(rest)}'",
            DigestPrefix => $"digest '{Printable(rest)}'",
            LibraryPrefix => $"library '{Printable(rest)}'",
            MetaPrefix => $"setting '{Printable(rest)}'",
            _ => $"record with key {Convert.ToHexString(key[..Math.Min(key.Length, 32)])}",
        };
    }

    static string Printable(ReadOnlySpan<byte> bytes)
    {
        string text = Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 80)]);
        return new string(text.Select(c => char.IsControl(c) ? '?' : c).ToArray());
    }

    HashSet<long> PaperKeys()
    {
        var keys = new HashSet<long>();
        _store.ScanLatest(PaperPrefix, (key, _) => keys.Add(BinaryPrimitives.ReadInt64LittleEndian(key[1..])));
        return keys;
    }

    static bool SameLiveIds(HnswIndex index, HashSet<long> keys) => index.LiveCount == keys.Count && keys.All(index.Contains);

    HnswIndex Rebuild(int papers)
    {
        var index = new HnswIndex(_options.Dimension, _options.Index with { InitialCapacity = Math.Max(1024, papers + papers / 4) });
        if (papers == 0) return index;
        var vector = new float[_options.Dimension];
        long done = 0;
        var work = new List<(long Key, float[] Vector)>(papers);
        _store.ScanLatest(PaperPrefix, (key, value) =>
        {
            RecordCodec.ReadPaperVector(value, vector);
            work.Add((BinaryPrimitives.ReadInt64LittleEndian(key[1..]), vector.ToArray()));
        });
        Parallel.ForEach(work, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, item =>
        {
            index.Add(item.Key, item.Vector);
            long n = Interlocked.Increment(ref done);
            if (n % 1000 == 0 || n == papers) _options.RebuildProgress?.Invoke(n, papers);
        });
        index.Repair();
        return index;
    }
}
