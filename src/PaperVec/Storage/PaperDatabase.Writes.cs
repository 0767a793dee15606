using System.Buffers.Binary;
using System.Text;
using PaperVec.Index;

namespace PaperVec.Storage;

// Writes: log first, apply in log order once durable.
public sealed partial class PaperDatabase
{
    // Durable batches wait here for their turn: the store, the index and the memory tables take
    // batches in log order, whichever writer's commit made them durable.
    readonly SemaphoreSlim _applyGate = new(1, 1);
    readonly Dictionary<long, (WriteBatch Batch, long End, TaskCompletionSource Applied)> _durable = [];
    long _nextToApply;
    long _appliedEnd; // log address after the last applied entry: where replay must start
    // Set when applying a durable batch failed: memory no longer matches the log, so writes stop until a restart replays it.
    volatile string? _applyFailure;

    /// <summary>
    /// Logs the batch, waits until the log entry is durable, then applies it to the store, the
    /// index and the memory tables in log order. Throws <see cref="StorageFaultException"/> when the
    /// disk refuses the write (nothing of it is then visible or durable), <see cref="RecordTooLargeException"/>
    /// for a record no store page can hold (checked before anything is written).
    /// </summary>
    public async ValueTask CommitAsync(WriteBatch batch)
    {
        if (batch.IsEmpty) return;
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_options.Mode == OpenMode.Verify) throw new InvalidOperationException("the data directory was opened to verify it: nothing can be written");
        if (_applyFailure is { } broken) throw new StorageFaultException($"writes are stopped until papervec restarts: {broken}", null, insufficientSpace: false);
        foreach (var change in batch.Changes)
        {
            if (change.Paper is not { } p) continue;
            if (p.Vector.Length != _options.Dimension)
                throw new ArgumentException($"paper {p.Id} has a {p.Vector.Length}-d vector; this database holds {_options.Dimension}-d vectors");
            if (RecordCodec.PaperSize(p) is var size && size > RecordStore.MaxValueBytes)
                throw new RecordTooLargeException($"paper '{Shorten(p.Title)}' is {size / 1e6:0.0} MB stored; one paper may take at most {RecordStore.MaxValueBytes / 1e6:0.0} MB (shorten its longest field)");
        }
        byte[] encoded = batch.Encode();
        if (encoded.Length > WriteAheadLog.MaxEntryBytes)
            // Stored size, not request size: a revised paper keeps its earlier versions (docs/durability.md names this limit).
            throw new RecordTooLargeException($"this write stores {encoded.Length / 1e6:0.0} MB (a stored paper keeps its earlier versions, up to {RecordStore.MaxValueBytes / 1e6:0.0} MB a paper); "
                + $"one write stores at most {MaxWriteMegabytes} MB in all (docs/durability.md): send fewer papers per request");
        WriteAheadLog.DurableEntry entry;
        try { entry = await _wal.AppendAsync(encoded).ConfigureAwait(false); }
        catch (Exception e) when (e is StorageFaultException or IOException)
        {
            throw Classify("the write was not stored", e);
        }
        ClearStorageProblem(commit: true);
        await ApplyInLogOrderAsync(entry, batch).ConfigureAwait(false);
        MaybeCheckpointInBackground();
    }

    /// <summary>The most one write (one request's papers as stored, with their earlier versions) may store: one log entry.</summary>
    public static string MaxWriteMegabytes => (WriteAheadLog.MaxEntryBytes / 1e6).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);

    async Task ApplyInLogOrderAsync(WriteAheadLog.DurableEntry entry, WriteBatch batch)
    {
        var applied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _applyGate.WaitAsync().ConfigureAwait(false);
        try
        {
            _durable[entry.Sequence] = (batch, entry.End, applied);
            while (_applyFailure == null && _durable.Remove(_nextToApply, out var next))
            {
                try
                {
                    ApplyToIndex(_index, next.Batch);
                    ApplyToStore(next.Batch);
                    next.Applied.TrySetResult();
                }
                catch (Exception e)
                {
                    // Durable but not applied: memory no longer matches the log. Nothing advances past this entry (so no
                    // checkpoint can truncate it); writes stop, and a restart replays it.
                    _applyFailure = $"a durable write could not be applied ({e.GetType().Name}: {e.Message.Split('\n')[0]}); it is in the log and is applied when papervec restarts";
                    next.Applied.TrySetException(new StorageFaultException(_applyFailure, e, insufficientSpace: false));
                    break;
                }
                _nextToApply++;
                _appliedEnd = next.End;
            }
            if (_applyFailure is { } stopped)
                foreach (var (_, later) in _durable) later.Applied.TrySetException(new StorageFaultException(stopped, null, insufficientSpace: false));
        }
        finally { _applyGate.Release(); }
        await applied.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Removes a paper and every alias that names it in one durable write (logged like every write, so
    /// recovery replays it); returns the removed paper, or null when there was none. Digests keep
    /// listing the key as history; readers skip keys with no paper. Callers that also write the
    /// same paper concurrently must order those writes themselves (the server runs one write at a time).
    /// </summary>
    public async ValueTask<PaperRecord?> DeletePaperAsync(long key)
    {
        if (await GetPaperAsync(key).ConfigureAwait(false) is not { } paper) return null;
        await CommitAsync(AddPaperDelete(new WriteBatch(), key)).ConfigureAwait(false);
        return paper;
    }

    /// <summary>Adds to <paramref name="batch"/> the delete of paper <paramref name="key"/> and of every id and title alias that names it.</summary>
    WriteBatch AddPaperDelete(WriteBatch batch, long key)
    {
        batch.DeletePaper(key);
        // Every source id that names it, not only the latest: a paper met again under a new id (a
        // revised record, an arXiv version) keeps its earlier ids as aliases too.
        foreach (var (alias, target) in _catalog.SourceIdAliases)
            if (target == key) batch.DeleteAlias(alias);
        foreach (var (titleKey, target) in _catalog.TitleAliases)
            if (target == key) batch.DeleteTitleAlias(titleKey);
        return batch;
    }

    void ApplyToStore(WriteBatch batch)
    {
        Span<byte> paperKey = stackalloc byte[9];
        foreach (var change in batch.Changes)
        {
            switch (change.Kind)
            {
                case WriteBatch.Kind.PutPaper:
                    PaperKeyBytes(change.Key, paperKey);
                    _store.Upsert(paperKey, RecordCodec.EncodePaper(change.Paper!));
                    var put = change.Paper!;
                    Lexically(lexical => lexical.Put(put.Key, put.Title, put.Abstract));
                    break;
                case WriteBatch.Kind.DeletePaper:
                    PaperKeyBytes(change.Key, paperKey);
                    _store.Delete(paperKey);
                    long deleted = change.Key;
                    Lexically(lexical => lexical.Delete(deleted));
                    break;
                case WriteBatch.Kind.PutAlias:
                    _store.Upsert(AliasKeyBytes(change.Alias!), BitConverter.GetBytes(change.Key));
                    break;
                case WriteBatch.Kind.DeleteAlias:
                    _store.Delete(AliasKeyBytes(change.Alias!));
                    break;
                case WriteBatch.Kind.PutTitleAlias:
                    _store.Upsert(TitleAliasKeyBytes(change.TitleKey), BitConverter.GetBytes(change.Key));
                    break;
                case WriteBatch.Kind.DeleteTitleAlias:
                    _store.Delete(TitleAliasKeyBytes(change.TitleKey));
                    break;
                case WriteBatch.Kind.PutDigest:
                    _store.Upsert(DigestKeyBytes(change.Digest!.Id), RecordCodec.EncodeDigest(change.Digest));
                    break;
                case WriteBatch.Kind.DeleteDigest:
                    _store.Delete(DigestKeyBytes(change.Alias!));
                    break;
                case WriteBatch.Kind.PutLibrary:
                    _store.Upsert(LibraryKeyBytes(change.Library!.Name), RecordCodec.EncodeLibrary(change.Library));
                    break;
                case WriteBatch.Kind.DeleteLibrary:
                    _store.Delete(LibraryKeyBytes(change.Alias!));
                    break;
                case WriteBatch.Kind.PutModelId:
                    _store.Upsert(ModelIdKey, Encoding.UTF8.GetBytes(change.ModelId!));
                    break;
            }
            _catalog.Apply(change); // after the store: the catalog never names what the store lacks
        }
    }

    // Runs before ApplyToStore, so the store still has the previous vector to compare with.
    // New papers of a large batch are inserted in parallel: the graph takes concurrent inserts.
    void ApplyToIndex(HnswIndex index, WriteBatch batch)
    {
        var previous = new float[_options.Dimension];
        var added = new List<PaperRecord>();
        foreach (var change in batch.Changes)
        {
            if (change.Kind == WriteBatch.Kind.DeletePaper) index.Remove(change.Key);
            if (change.Kind != WriteBatch.Kind.PutPaper) continue;
            var paper = change.Paper!;
            if (!index.Contains(paper.Key)) added.Add(paper);
            else if (!TryReadVector(paper.Key, previous) || !previous.AsSpan().SequenceEqual(paper.Vector)) index.Update(paper.Key, paper.Vector);
        }
        if (added.Count < 64) { foreach (var p in added) AddOrUpdate(index, p); return; }
        // A batch may list one key twice; the last version wins, as in the store.
        var latest = added.GroupBy(p => p.Key).Select(g => g.Last()).ToList();
        Parallel.ForEach(latest, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, p => index.Add(p.Key, p.Vector));
        // Concurrent inserts can leave a node whose in-links were all pruned; relink such nodes now
        // so every stored paper stays findable (a level-0 walk: cheap next to the inserts).
        index.Repair();
    }

    static void AddOrUpdate(HnswIndex index, PaperRecord paper)
    {
        if (index.Contains(paper.Key)) index.Update(paper.Key, paper.Vector);
        else index.Add(paper.Key, paper.Vector);
    }

    static void PaperKeyBytes(long key, Span<byte> destination)
    {
        destination[0] = PaperPrefix;
        BinaryPrimitives.WriteInt64LittleEndian(destination[1..], key);
    }

    static byte[] AliasKeyBytes(string sourceId) => [AliasPrefix, .. Encoding.UTF8.GetBytes(sourceId)];

    static byte[] TitleAliasKeyBytes(long titleKey)
    {
        var bytes = new byte[9];
        bytes[0] = TitleAliasPrefix;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), titleKey);
        return bytes;
    }

    static byte[] DigestKeyBytes(string digestId) => [DigestPrefix, .. Encoding.UTF8.GetBytes(digestId)];

    static byte[] LibraryKeyBytes(string name) => [LibraryPrefix, .. Encoding.UTF8.GetBytes(name)];
}

/// <summary>A record larger than the store can hold; refused before anything is written (HTTP 413).</summary>
public sealed class RecordTooLargeException(string message) : ArgumentException(message);
