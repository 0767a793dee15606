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
        var clock = Stopwatch.StartNew();
        _directory = directory;
        _options = options;
        var damage = new List<string>();
        var skipped = new List<string>();
        bool verify = options.Mode == OpenMode.Verify;
        // Verify reports every problem; the other modes refuse at the first one that would lose data.
        void Refuse(string problem)
        {
            if (!verify) throw new DataDirectoryDamagedException(problem);
            damage.Add(problem);
        }

        if (!verify && DiskSpace.Available(directory.Root) is long free && free < WriteAheadLog.MinFreeBytesToOpen)
            throw new StorageFaultException($"the disk holding {directory.Root} has {free >> 20} MB free; papervec needs at least {WriteAheadLog.MinFreeBytesToOpen >> 20} MB to open a data directory safely", null, insufficientSpace: true);
        _manifest = CheckpointManifest.TryLoad(directory.ManifestPath);
        // Without checkpoint.json a directory is new only if its log never committed: a new directory
        // gets its manifest before its first write, so a commit record means acknowledged data (a
        // crash inside that first checkpoint leaves store files but no commit record: still new).
        if (_manifest == null && WriteAheadLog.HasCommitRecord(directory.WalPath))
            Refuse($"{directory.ManifestPath} is missing, but the data directory holds acknowledged writes (its write-ahead log has a commit record): opening it as new would lose those papers; restore checkpoint.json");
        if (_manifest != null)
            foreach (var problem in MissingStoreFiles(_manifest)) Refuse(problem);

        // Everything checkable before FASTER opens a file (opening creates missing segment files).
        string commits = WriteAheadLog.CommitDirectory(directory.WalPath);
        if (_manifest != null && !WriteAheadLog.HasCommitRecord(directory.WalPath))
            Refuse($"{commits} holds no commit record: the write-ahead log's acknowledged entries cannot be found without it");
        var walSegments = Directory.Exists(directory.WalPath)
            ? Directory.GetFiles(directory.WalPath, "wal.log.*").ToDictionary(f => f, f => new FileInfo(f).Length) : [];

        _store = new RecordStore(directory.StorePath, options.StoreMemoryBytes, options.DeviceFactory);
        try
        {
            if (_manifest != null)
            {
                try { _store.Recover(_manifest.StoreToken); }
                catch (DataDirectoryDamagedException e) when (verify) { damage.Add(e.Message); }
            }

            _wal = new WriteAheadLog(directory.WalPath, options.DeviceFactory);
            if (_manifest != null && _wal.CommittedUntilAddress < _manifest.WalAddress)
                Refuse($"the write-ahead log's commit record ends at address {_wal.CommittedUntilAddress}, before checkpoint.json's position {_manifest.WalAddress}: {commits} is stale or was replaced");
            long replayFrom = Math.Max(_manifest?.WalAddress ?? 0, _wal.BeginAddress);
            for (long address = replayFrom; address < _wal.CommittedUntilAddress; address = (address / WriteAheadLog.SegmentBytes + 1) * WriteAheadLog.SegmentBytes)
            {
                string segment = WriteAheadLog.SegmentFile(directory.WalPath, address);
                long needed = Math.Min(_wal.CommittedUntilAddress, (address / WriteAheadLog.SegmentBytes + 1) * WriteAheadLog.SegmentBytes) % WriteAheadLog.SegmentBytes;
                if (!walSegments.TryGetValue(segment, out long length))
                    Refuse($"write-ahead log segment {segment} is missing: it holds acknowledged writes (log addresses from {address})");
                else if (needed > 0 && length < needed)
                    Refuse($"write-ahead log segment {segment} is {length} bytes, but the log's commit record covers {needed}: it was cut, and acknowledged writes are gone from it");
            }

            var (index, rebuildReason) = LoadIndexSnapshot(damage);
            string? lexicalRebuild = OpenLexical(damage);
            // Behind the checkpoint (or never committed, or from before lexical search): the log no longer holds what it misses.
            if (lexicalRebuild == null && _lexicalDegraded == null && _manifest != null && (_lexical.CommittedSequence ?? -1) < _manifest.NextSequence)
                lexicalRebuild = $"lexical index {directory.LexicalPath} is behind the checkpoint";

            // Replay what was acknowledged after the checkpoint.
            long expected = _manifest?.NextSequence ?? 0;
            int replayed = 0;
            var logDamage = new List<string>();
            long appliedEnd = replayFrom;
            foreach (var entry in _wal.Replay(replayFrom, _manifest?.ChecksummedLog ?? true, logDamage.Add))
            {
                if (entry.Sequence < expected) { appliedEnd = entry.NextAddress; continue; } // before the checkpoint: already in the store
                if (entry.Sequence > expected)
                {
                    logDamage.Add($"write-ahead log skips entries {expected}..{entry.Sequence - 1} (at address {entry.Address})");
                    break;
                }
                WriteBatch batch;
                try { batch = WriteBatch.Decode(entry.Payload); }
                catch (InvalidDataException e) { logDamage.Add($"write-ahead log entry {entry.Sequence} at address {entry.Address} cannot be decoded ({e.Message})"); break; }
                if (batch.Changes.FirstOrDefault(c => c.Paper is { } p && (p.Vector.Length != options.Dimension || p.Key <= 0)) is { Paper: { } bad })
                {
                    logDamage.Add($"write-ahead log entry {entry.Sequence} at address {entry.Address} holds an invalid paper ({bad.Vector.Length}-d vector)");
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
            _wal.ResumeAt(expected);
            _nextToApply = expected;
            _appliedEnd = appliedEnd;

            // The store is the truth: the index must hold exactly its papers.
            var storeKeys = LoadMemoryTables();
            if (index != null && !SameLiveIds(index, storeKeys))
            {
                rebuildReason = $"index snapshot does not match the store ({index.LiveCount} vs {storeKeys.Count} papers)";
                damage.Add(rebuildReason);
                index.Dispose();
                index = null;
            }
            _index = index ?? Rebuild(storeKeys.Count);
            // Which papers, not only how many; and never a commit from a state the store has not reached.
            if (lexicalRebuild == null && _lexicalDegraded == null) lexicalRebuild = LexicalMismatch(storeKeys, expected);
            if (lexicalRebuild != null && (storeKeys.Count > 0 || _lexical.CommittedSequence != null)) RebuildLexicalAtOpen(lexicalRebuild, damage);
            Recovery = new RecoveryReport(_manifest != null, replayed, index == null && storeKeys.Count > 0, index == null ? rebuildReason : null,
                damage, storeKeys.Count, clock.Elapsed) { Skipped = skipped };
            foreach (var d in damage) options.Log?.Invoke(d);
            foreach (var s in skipped) options.Log?.Invoke(s);

            if (verify) return;
            if (logDamage.Count > 0) SetDamagedLogAside(); // AcceptLoss: everything readable is applied
            // A new directory gets its manifest now, so a missing one is always noticed later; an old
            // one moves to the checksummed log format before anything is appended.
            else if (_manifest == null || !_manifest.ChecksummedLog || replayed > 0 || Recovery.IndexRebuilt || skipped.Count > 0 || LexicalRebuilt != null)
                WaitAtOpenOrClose(CheckpointAsync());
            StartLexicalHealIfNeeded();
        }
        catch
        {
            _wal?.Dispose();
            _index?.Dispose();
            StopLexicalRebuild();
            _lexical?.Abandon(); // no commit: a refused open changes nothing
            _store.Dispose();
            throw;
        }
    }

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
    void SetDamagedLogAside()
    {
        WaitAtOpenOrClose(CheckpointAsync());
        long next = _wal.NextSequence;
        _wal.Dispose();
        string aside = _directory.WalPath + $".damaged-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
        Directory.Move(_directory.WalPath, aside);
        Directory.CreateDirectory(_directory.WalPath);
        _options.Log?.Invoke($"the damaged write-ahead log was moved to {aside}");
        _wal = new WriteAheadLog(_directory.WalPath, _options.DeviceFactory);
        _wal.ResumeAt(next);
        _appliedEnd = _wal.TailAddress;
        WaitAtOpenOrClose(CheckpointAsync()); // the manifest now points into the fresh log
    }

    /// <summary>Fills the in-memory summaries and aliases from the store in one scan; returns the paper keys.</summary>
    HashSet<long> LoadMemoryTables()
    {
        _summaries.Clear();
        _aliases.Clear();
        _titleAliases.Clear();
        _digests.Clear();
        _libraries.Clear();
        _store.ScanLatest([PaperPrefix, AliasPrefix, TitleAliasPrefix, DigestPrefix, LibraryPrefix], (key, value) =>
        {
            if (key[0] == LibraryPrefix)
            {
                var library = RecordCodec.ReadLibrary(value);
                _libraries[library.Name] = library;
                return;
            }
            if (key[0] == DigestPrefix)
            {
                var digest = RecordCodec.ReadDigest(value);
                _digests[digest.Id] = digest;
            }
            else if (key[0] == AliasPrefix) _aliases[Encoding.UTF8.GetString(key[1..])] = BinaryPrimitives.ReadInt64LittleEndian(value);
            else if (key[0] == TitleAliasPrefix) _titleAliases[BinaryPrimitives.ReadInt64LittleEndian(key[1..])] = BinaryPrimitives.ReadInt64LittleEndian(value);
            else
            {
                var summary = RecordCodec.ReadPaperSummary(value);
                _summaries[summary.Key] = summary;
            }
        });
        return [.. _summaries.Keys];
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
