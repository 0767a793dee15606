using PaperVec.Lexical;

namespace PaperVec.Storage;

// The lexical index is derived data: damage, staleness or a failed write never stops the database.
// It is checked at open (checksums, the keys it holds, the sequence it covers), and whatever is
// wrong is rebuilt from the store, in the background when PaperDatabaseOptions.RebuildLexicalInBackground
// is set (the server) while lexical answers are refused as degraded (LexicalUnavailableException).
public sealed partial class PaperDatabase
{
    // Guards replacing _lexical: the write path changes the index under it, so no write lands in an index being swapped out.
    readonly object _lexicalSwap = new();
    // Guards the heal state below: a failure asks for a heal, the heal loop ends only when no failure came while it ran.
    readonly object _healLock = new();
    readonly CancellationTokenSource _lexicalStop = new();
    volatile string? _lexicalDegraded;
    long _lexicalFailures;
    bool _healing;
    Task _lexicalHeal = Task.CompletedTask;

    /// <summary>Why lexical answers are incomplete now (the lexical index is being rebuilt), or null when it is whole.</summary>
    public string? LexicalDegraded => _lexicalDegraded;

    /// <summary>Why the lexical index was rebuilt since open (at open or in the background), or null.</summary>
    public string? LexicalRebuilt { get; private set; }

    /// <summary>Completes when no lexical rebuild is running (tests, tools).</summary>
    public Task WaitForLexicalRebuildAsync()
    {
        lock (_healLock) return _lexicalHeal;
    }

    /// <summary>Opens the lexical index at open time; returns why it must be rebuilt (damaged), or null.</summary>
    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(_lexical))]
    string? OpenLexical(List<string> damage)
    {
        string path = _directory.LexicalPath;
        if (_options.Mode == OpenMode.Verify)
        {
            // verify changes nothing: check the files read-only, then read the index into memory (no writer on disk).
            try
            {
                if (LexicalIndex.Check(path) is { } problem)
                    damage.Add(_lexicalDegraded = $"lexical index {path} is damaged ({problem}); serve rebuilds it from the store");
            }
            catch (Exception e) { damage.Add(_lexicalDegraded = $"lexical index {path} cannot be checked ({LexicalIndex.Describe(e)}); serve rebuilds it from the store"); }
            _lexical = LexicalIndex.OpenReadOnly(path, _lexicalDegraded == null ? damage.Add : null);
            return null;
        }
        try
        {
            _lexical = LexicalIndex.Open(path, out string? broken, _options.LexicalDirectoryFactory);
            return broken == null ? null : $"lexical index {path} is damaged ({broken})";
        }
        catch (Exception e)
        {
            // Not even an empty index can be made there (I/O error): serve without it, try again in the background.
            _lexical = LexicalIndex.InMemory();
            return $"lexical index {path} cannot be opened ({LexicalIndex.Describe(e)})";
        }
    }

    /// <summary>
    /// After replay: why the lexical index does not match the store (its commit from a later state,
    /// or other papers than the store's), or null.
    /// </summary>
    string? LexicalMismatch(HashSet<long> storeKeys, long nextSequence)
    {
        try
        {
            if (_lexical.CommittedSequence is long committed && committed > nextSequence)
                return $"lexical index {_directory.LexicalPath} is from a later state than the store (its commit covers log sequence {committed}, the store {nextSequence})";
            return _lexical.DifferenceFrom(storeKeys) is { } difference ? $"lexical index {_directory.LexicalPath} does not match the store: {difference}" : null;
        }
        catch (Exception e)
        {
            return $"lexical index {_directory.LexicalPath} cannot be read ({LexicalIndex.Describe(e)})";
        }
    }

    /// <summary>At open: rebuilds the lexical index now, or marks it degraded and leaves the rebuild to <see cref="StartLexicalHealIfNeeded"/>.</summary>
    void RebuildLexicalAtOpen(string reason, List<string> damage)
    {
        if (_options.Mode == OpenMode.Verify)
        {
            damage.Add($"{reason}; serve rebuilds it from the store");
            _lexicalDegraded = reason;
            return;
        }
        if (_options.RebuildLexicalInBackground)
        {
            _lexicalDegraded = $"{reason}: it is being rebuilt from the store";
            _options.Log?.Invoke(_lexicalDegraded);
            lock (_healLock) _lexicalFailures++;
            return;
        }
        _options.Log?.Invoke($"{reason}: rebuilding it from the store");
        try
        {
            RebuildLexicalNow(CancellationToken.None);
            LexicalRebuilt = reason;
        }
        catch (Exception e)
        {
            // Its folder cannot be written now (I/O error): open anyway, lexical answers degraded, retried in the background.
            _lexicalDegraded = $"{reason}, and rebuilding it failed ({LexicalIndex.Describe(e)}): lexical answers are degraded while it is retried in the background";
            _options.Log?.Invoke(_lexicalDegraded);
        }
    }

    /// <summary>At the end of open: starts the background rebuild <see cref="RebuildLexicalAtOpen"/> asked for.</summary>
    void StartLexicalHealIfNeeded()
    {
        if (_lexicalDegraded != null && _options.Mode != OpenMode.Verify) RequestLexicalHeal(null);
    }

    /// <summary>
    /// A change to the lexical index on the write path. A failure (a full disk or an I/O error while
    /// Lucene flushes) never fails the write: the index is marked behind and rebuilt in the background.
    /// </summary>
    void Lexically(Action<LexicalIndex> change)
    {
        lock (_lexicalSwap)
        {
            try { change(_lexical); }
            catch (Exception e) { LexicalFailed("a lexical index write failed", e); }
        }
    }

    /// <summary>A lexical read, or <see cref="LexicalUnavailableException"/> while the index is degraded or when the read fails (which starts its rebuild).</summary>
    T ReadLexically<T>(Func<LexicalIndex, T> read)
    {
        if (_lexicalDegraded is { } why) throw new LexicalUnavailableException(why);
        try { return read(_lexical); }
        catch (Exception e) when (e is not LexicalUnavailableException)
        {
            LexicalFailed("a lexical index read failed", e);
            throw new LexicalUnavailableException(_lexicalDegraded ?? "the lexical index is being rebuilt from the store");
        }
    }

    void LexicalFailed(string what, Exception e)
    {
        // A failure inside an index being swapped out by a rebuild already under way tells nothing new.
        if (_lexicalDegraded != null && e is ObjectDisposedException) return;
        RequestLexicalHeal($"{what} ({LexicalIndex.Describe(e)}); lexical answers are degraded while it is rebuilt from the store");
    }

    void RequestLexicalHeal(string? reason)
    {
        lock (_healLock)
        {
            _lexicalFailures++;
            if (_lexicalDegraded == null && reason != null)
            {
                _lexicalDegraded = reason;
                _options.Log?.Invoke(reason);
            }
            if (_healing || _options.Mode == OpenMode.Verify || _disposed) return;
            _healing = true;
            _lexicalHeal = Task.Run(HealLexicalAsync);
        }
    }

    async Task HealLexicalAsync()
    {
        var token = _lexicalStop.Token;
        var delay = _options.LexicalRetryAfter;
        while (true)
        {
            long failuresBefore;
            lock (_healLock) failuresBefore = _lexicalFailures;
            string why = _lexicalDegraded ?? "lexical index";
            try
            {
                int papers = RebuildLexicalNow(token);
                lock (_healLock)
                {
                    if (_lexicalFailures == failuresBefore)
                    {
                        _lexicalDegraded = null;
                        _healing = false;
                        LexicalRebuilt = why;
                        _options.Log?.Invoke($"lexical index {_directory.LexicalPath} rebuilt from the store ({papers} papers); lexical answers are complete again");
                        return;
                    }
                }
                continue; // a lexical write failed while it ran: again
            }
            catch (OperationCanceledException) { }
            catch (Exception e)
            {
                _options.Log?.Invoke($"rebuilding lexical index {_directory.LexicalPath} failed ({LexicalIndex.Describe(e)}); retrying in {delay.TotalSeconds:0.#} s");
                try
                {
                    await Task.Delay(delay, token).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMinutes(1).Ticks));
                    continue;
                }
                catch (OperationCanceledException) { }
            }
            lock (_healLock) _healing = false; // stopped by Dispose
            return;
        }
    }

    /// <summary>
    /// Replaces the lexical index with an empty one and fills it from the store while writes go on:
    /// the write path changes the new index from the moment it is swapped in, and the scan skips keys a
    /// write changed since (so a scan's older copy never overwrites a newer write or revives a delete).
    /// Commits it at the log sequence applied by then. Returns the papers scanned.
    /// </summary>
    int RebuildLexicalNow(CancellationToken token)
    {
        LexicalIndex fresh;
        lock (_lexicalSwap)
        {
            try { _lexical.Abandon(); } catch (Exception) { } // a broken index may fail to close: it is discarded either way
            try { fresh = LexicalIndex.OpenEmpty(_directory.LexicalPath, _options.LexicalDirectoryFactory); }
            catch
            {
                _lexical = LexicalIndex.InMemory(); // writes keep a place to go until the next try
                throw;
            }
            fresh.BeginRebuild();
            _lexical = fresh;
        }
        int done = 0, total = _catalog.Count;
        foreach (long key in _catalog.Keys)
        {
            token.ThrowIfCancellationRequested();
            PaperRecord? paper;
            try { paper = GetPaper(key); }
            catch (InvalidDataException) { continue; } // a record that does not decode is the store's damage, reported there
            if (paper != null) fresh.PutIfUntouched(paper.Key, paper.Title, paper.Abstract);
            if (++done == 1 || done % 1000 == 0 || done == total) _options.RebuildProgress?.Invoke(done, total);
        }
        fresh.EndRebuild();
        // Every entry before _nextToApply was applied to the store and then to this index (or read by the scan).
        if (_options.Mode != OpenMode.Verify) fresh.Commit(Volatile.Read(ref _nextToApply));
        return done;
    }

    /// <summary>A checkpoint's lexical commit: skipped while the index is being rebuilt (a partial index must never claim a sequence).</summary>
    void CommitLexical(long nextSequence)
    {
        if (_lexicalDegraded != null) return;
        Lexically(lexical => lexical.Commit(nextSequence));
    }

    string? LexicalDifference(HashSet<long> keys)
    {
        try { return _lexical.DifferenceFrom(keys); }
        catch (Exception e) { return $"it cannot be read ({LexicalIndex.Describe(e)})"; }
    }

    /// <summary>Stops a background rebuild and waits (at most 30 s) until it has let go of the store.</summary>
    async Task StopLexicalRebuildAsync()
    {
        _lexicalStop.Cancel();
        try { await WaitForLexicalRebuildAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false); }
        catch (Exception) { } // a rebuild that failed or would not stop: closing goes on without it
    }

    /// <summary>At close: stops a rebuild, then closes the index (rolled back when partial, so the next start rebuilds it).</summary>
    async Task CloseLexicalAsync()
    {
        await StopLexicalRebuildAsync().ConfigureAwait(false);
        lock (_lexicalSwap)
        {
            try { if (_options.Mode == OpenMode.Verify || _lexicalDegraded != null) _lexical.Abandon(); else _lexical.Dispose(); }
            catch (Exception e) { _options.Log?.Invoke($"lexical index not closed cleanly ({e.Message.Split('\n')[0]}); it is checked at the next start"); }
        }
    }
}
