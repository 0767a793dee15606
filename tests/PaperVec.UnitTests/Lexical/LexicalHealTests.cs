using System.Security.Cryptography;
using Lucene.Net.Store;
using PaperVec.Lexical;
using PaperVec.Search;
using PaperVec.Storage;
using PaperVec.Tests.Storage;
using Directory = System.IO.Directory;

namespace PaperVec.Tests.Lexical;

/// <summary>
/// The lexical index is derived data: damage (a cut or flipped file, a folder from a later state, a
/// failed write) is detected, reported and rebuilt from the store, never a crash, a 500 or a bricked
/// directory; lexical answers say they are degraded meanwhile, and writes made during the rebuild end up in it.
/// </summary>
public class LexicalHealTests
{
    const int Count = 300;

    static readonly string[] Vocabulary = MakeVocabulary();

    static string[] MakeVocabulary()
    {
        var random = new Random(7);
        return Enumerable.Range(0, 2000).Select(_ => new string(Enumerable.Range(0, random.Next(4, 10)).Select(_ => (char)('a' + random.Next(26))).ToArray())).ToArray();
    }

    static string Title(int n) => $"Synthetic paper number {n}";

    static PaperRecord Paper(int n, Random random, string? title = null)
    {
        title ??= Title(n);
        return StoreTestData.Paper(n, random) with
        {
            Key = PaperIdentity.KeyOfTitle(Title(n)),
            Title = title,
            Abstract = string.Join(" ", Enumerable.Range(0, 150).Select(_ => Vocabulary[random.Next(Vocabulary.Length)])),
        };
    }

    /// <summary>A data directory holding <see cref="Count"/> papers, closed (so the lexical index is committed).</summary>
    static async Task<(string Dir, List<PaperRecord> Papers)> PopulatedAsync()
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(11);
        var papers = Enumerable.Range(1, Count).Select(n => Paper(n, random)).ToList();
        await using var db = await PaperDatabase.OpenAsync(dir);
        db.Commit(papers.Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p)));
        return (dir, papers);
    }

    static string LargestLexicalFile(string dir) =>
        Directory.GetFiles(Path.Combine(dir, "lexical")).OrderByDescending(f => new FileInfo(f).Length).First();

    static void Cut(string file)
    {
        using var stream = new FileStream(file, FileMode.Open);
        stream.SetLength(stream.Length / 2);
    }

    static void Flip64(string file)
    {
        byte[] bytes = File.ReadAllBytes(file);
        for (int i = 0; i < 64; i++) bytes[bytes.Length / 2 + i] ^= 0xFF;
        File.WriteAllBytes(file, bytes);
    }

    static string HashFolder(string folder) => string.Join("\n", Directory.GetFiles(folder).Order(StringComparer.Ordinal)
        .Select(f => $"{Path.GetFileName(f)} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}"));

    static string CopyOf(string dir)
    {
        string copy = StoreTestData.TempDir();
        foreach (string file in Directory.GetFiles(dir, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(copy, Path.GetRelativePath(dir, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return copy;
    }

    static long? TopLexical(PaperDatabase db, string text) => db.SearchLexical(text, 1) is [var hit] ? hit.Key : null;

    static async Task WaitForRebuild(PaperDatabase db)
    {
        var done = db.WaitForLexicalRebuildAsync();
        Assert.Same(done, await Task.WhenAny(done, Task.Delay(TimeSpan.FromMinutes(2)))); // a bound against hanging, not a timing
        Assert.Null(db.LexicalDegraded);
    }

    [Fact]
    public async Task ACutLexicalFileIsReportedByVerifyServedDegradedThenRebuiltWithTheWritesMadeMeanwhileAndRepairGoesOn()
    {
        var (dir, papers) = await PopulatedAsync();
        string? repairCopy = null;
        try
        {
            Cut(LargestLexicalFile(dir));
            repairCopy = CopyOf(dir);

            // verify reports it and changes nothing in the lexical folder.
            string before = HashFolder(Path.Combine(dir, "lexical"));
            await using (var verify = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions { Mode = OpenMode.Verify }))
                Assert.Contains(verify.Verify().Problems, p => p.Contains("lexical index") && p.Contains("rebuilds it"));
            Assert.Equal(before, HashFolder(Path.Combine(dir, "lexical")));

            // serve opens at once; the rebuild is held at its first paper so the degraded answers can be seen.
            using var scanStarted = new ManualResetEventSlim();
            using var release = new ManualResetEventSlim();
            var notes = new List<string>();
            await using var db = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions
            {
                RebuildLexicalInBackground = true,
                Log = n => { lock (notes) notes.Add(n); },
                RebuildProgress = (done, _) => { if (done == 1) { scanStarted.Set(); release.Wait(); } },
            });
            Assert.True(scanStarted.Wait(TimeSpan.FromMinutes(1)));
            Assert.NotNull(db.LexicalDegraded);
            Assert.Contains(notes, n => n.Contains("lexical index") && n.Contains("being rebuilt") && !n.Contains("slice()"));
            var unavailable = Assert.Throws<LexicalUnavailableException>(() => db.SearchLexical(Title(5), 3));
            Assert.Contains("rebuilt", unavailable.Message);
            // Hybrid answers by meaning alone meanwhile.
            var hybrid = await PaperSearch.RunAsync(new StoredPapersSearch(db), new SearchQuery(Title(5), papers[4].Vector), new SearchScope { K = 3 });
            Assert.Equal(papers[4].Id, hybrid[0].Id);

            // Writes while the rebuild runs: a new paper, a delete, a retitle of a paper the scan has not reached.
            var random = new Random(99);
            var added = Paper(Count + 1, random);
            var retitled = papers[Count - 1] with { Title = "Retitled work on quasicrystal lattices" };
            db.Commit(new WriteBatch().PutPaper(added).DeletePaper(papers[Count - 2].Key).PutPaper(retitled));
            release.Set();
            await WaitForRebuild(db);

            Assert.NotNull(db.LexicalRebuilt);
            Assert.Equal(added.Key, TopLexical(db, Title(Count + 1)));
            Assert.Equal(retitled.Key, TopLexical(db, "quasicrystal lattices"));
            Assert.DoesNotContain(db.SearchLexical(papers[Count - 2].Title, 10), h => h.Key == papers[Count - 2].Key);
            foreach (var paper in papers.Take(50)) Assert.Equal(paper.Key, TopLexical(db, paper.Title));
            Assert.True(db.IndexMatchesStore(out string problem), problem);
            await db.DisposeAsync();

            // The rebuild committed a whole index at a sequence the store holds: the next start keeps it.
            await using var reopened = await PaperDatabase.OpenAsync(dir);
            Assert.Null(reopened.LexicalRebuilt);
            Assert.Equal(added.Key, TopLexical(reopened, Title(Count + 1)));

            // repair goes on too (and rebuilds it before it returns).
            await using var repaired = await PaperDatabase.OpenAsync(repairCopy, new PaperDatabaseOptions { Mode = OpenMode.AcceptLoss });
            Assert.NotNull(repaired.LexicalRebuilt);
            Assert.Equal(papers[9].Key, TopLexical(repaired, Title(10)));
        }
        finally
        {
            Directory.Delete(dir, true);
            if (repairCopy != null) Directory.Delete(repairCopy, true);
        }
    }

    [Fact]
    public async Task SixtyFourFlippedBytesAreDetectedAtOpenNeverFailAQueryAndAreRebuilt()
    {
        var (dir, papers) = await PopulatedAsync();
        try
        {
            Flip64(LargestLexicalFile(dir));
            var notes = new List<string>();
            await using var db = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions { RebuildLexicalInBackground = true, Log = n => { lock (notes) notes.Add(n); } });
            // 100 hybrid and 100 lexical exact-title queries at once: answered, or (lexical alone, while rebuilt) refused as degraded; nothing else.
            foreach (var paper in papers.Take(100))
            {
                var hybrid = await PaperSearch.RunAsync(new StoredPapersSearch(db), new SearchQuery(paper.Title, paper.Vector), new SearchScope { K = 5 });
                Assert.Equal(paper.Id, hybrid[0].Id);
                try { await PaperSearch.RunAsync(new StoredPapersSearch(db), new SearchQuery(paper.Title, null, SearchMode.Lexical), new SearchScope { K = 5 }); }
                catch (LexicalUnavailableException) { }
            }
            await WaitForRebuild(db);
            Assert.NotNull(db.LexicalRebuilt);
            lock (notes) Assert.Contains(notes, n => n.Contains("lexical index") && n.Contains("checksum"));
            foreach (var paper in papers.Take(100))
                Assert.Equal(paper.Id, (await PaperSearch.RunAsync(new StoredPapersSearch(db), new SearchQuery(paper.Title, null, SearchMode.Lexical), new SearchScope { K = 5 }))[0].Id);
            Assert.True(db.IndexMatchesStore(out string problem), problem);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task ALexicalFolderFromALaterStateWithTheSameCountIsDetectedAndRebuilt()
    {
        var (dir, papers) = await PopulatedAsync();
        string earlier = CopyOf(dir);
        try
        {
            // Later: one paper deleted, one added, one retitled: the same count.
            await using (var db = await PaperDatabase.OpenAsync(dir))
                db.Commit(new WriteBatch().DeletePaper(papers[0].Key).PutPaper(Paper(Count + 1, new Random(5)))
                    .PutPaper(papers[1] with { Title = "Retitled work on quasicrystal lattices" }));
            Directory.Delete(Path.Combine(earlier, "lexical"), true);
            Directory.CreateDirectory(Path.Combine(earlier, "lexical"));
            foreach (string file in Directory.GetFiles(Path.Combine(dir, "lexical")))
                File.Copy(file, Path.Combine(earlier, "lexical", Path.GetFileName(file)));

            var notes = new List<string>();
            await using var reopened = await PaperDatabase.OpenAsync(earlier, new PaperDatabaseOptions { Log = notes.Add });
            Assert.Equal(Count, reopened.PaperCount);
            Assert.NotNull(reopened.LexicalRebuilt);
            Assert.Contains("later state", reopened.LexicalRebuilt);
            Assert.Equal(papers[0].Key, TopLexical(reopened, Title(1)));
            Assert.Null(TopLexical(reopened, "quasicrystal lattices"));
            Assert.DoesNotContain(reopened.SearchLexical(Title(Count + 1), 5), h => h.Key == PaperIdentity.KeyOfTitle(Title(Count + 1)));
            Assert.True(reopened.IndexMatchesStore(out string problem), problem);
        }
        finally
        {
            Directory.Delete(dir, true);
            Directory.Delete(earlier, true);
        }
    }

    [Fact]
    public async Task VerifyReportsALexicalFolderWithOtherPapersWithoutChangingIt()
    {
        var (dir, papers) = await PopulatedAsync();
        try
        {
            // The same count and the same commit sequence, but other papers: only the key check sees it.
            await using (var db = await PaperDatabase.OpenAsync(dir)) db.Commit(new WriteBatch().DeletePaper(papers[0].Key).PutPaper(Paper(Count + 1, new Random(5))));
            var (other, otherPapers) = await PopulatedAsync();
            try
            {
                await using (var db = await PaperDatabase.OpenAsync(other)) db.Commit(new WriteBatch().PutPaper(otherPapers[0]));
                // A lexical folder that holds papers 1..300 at commit sequence 2, beside a store holding 2..301 at sequence 2.
                Directory.Delete(Path.Combine(dir, "lexical"), true);
                Directory.CreateDirectory(Path.Combine(dir, "lexical"));
                foreach (string file in Directory.GetFiles(Path.Combine(other, "lexical")))
                    File.Copy(file, Path.Combine(dir, "lexical", Path.GetFileName(file)));
            }
            finally { Directory.Delete(other, true); }
            string before = HashFolder(Path.Combine(dir, "lexical"));
            await using (var verify = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions { Mode = OpenMode.Verify }))
                Assert.Contains(verify.Verify().Problems, p => p.Contains("lexical index") && p.Contains("does not match the store"));
            Assert.Equal(before, HashFolder(Path.Combine(dir, "lexical")));
            await using var served = await PaperDatabase.OpenAsync(dir);
            Assert.Contains("does not match the store", served.LexicalRebuilt);
            Assert.DoesNotContain(served.SearchLexical(Title(1), 10), h => h.Key == papers[0].Key);
            Assert.Equal(PaperIdentity.KeyOfTitle(Title(Count + 1)), TopLexical(served, Title(Count + 1)));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task ALexicalPathThatIsAFileIsOneLineAndRebuiltNotAnAlreadyExistsError()
    {
        var (dir, papers) = await PopulatedAsync();
        try
        {
            string lexical = Path.Combine(dir, "lexical");
            Directory.Delete(lexical, true);
            File.WriteAllText(lexical, "not a folder");
            var notes = new List<string>();
            await using var db = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions { Log = notes.Add });
            Assert.Contains(notes, n => n.StartsWith($"lexical index {lexical} is damaged ({lexical} is a file") && n.Contains("rebuilding it from the store") && !n.Contains("already exists"));
            Assert.Equal(papers[6].Key, TopLexical(db, Title(7)));
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>A Lucene directory whose new files fail with an I/O error while <see cref="Failing"/> (a disk returning EIO).</summary>
    sealed class FailingDirectory(Lucene.Net.Store.Directory inner) : FilterDirectory(inner)
    {
        public static volatile bool Failing;
        public override IndexOutput CreateOutput(string name, IOContext context) =>
            Failing ? throw new IOException("Input/output error") : base.CreateOutput(name, context);
    }

    [Fact]
    public async Task ALexicalWriteFailingWithAnIOErrorIsRebuiltWithoutARestart()
    {
        string dir = StoreTestData.TempDir();
        var random = new Random(3);
        var papers = Enumerable.Range(1, 60).Select(n => Paper(n, random)).ToList();
        try
        {
            var notes = new List<string>();
            await using var db = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions
            {
                RebuildLexicalInBackground = true,
                LexicalRetryAfter = TimeSpan.FromMilliseconds(50),
                LexicalDirectoryFactory = path => new FailingDirectory(FSDirectory.Open(path)),
                Log = n => { lock (notes) notes.Add(n); },
            });
            db.Commit(papers.Take(20).Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p)));
            Assert.Equal(papers[3].Key, TopLexical(db, Title(4)));

            FailingDirectory.Failing = true;
            try
            {
                db.Commit(papers.Skip(20).Take(20).Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p))); // the store takes it; Lucene buffers it
                // The refresh that would show them must write a segment: it fails, and the answer says so instead of leaving them out.
                Assert.Throws<LexicalUnavailableException>(() => db.SearchLexical(Title(30), 1));
                Assert.NotNull(db.LexicalDegraded);
                Assert.Null(db.StorageProblem); // derived data: writes go on
                db.Commit(papers.Skip(40).Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p)));
                Assert.False(db.WaitForLexicalRebuildAsync().IsCompleted); // its rebuild keeps failing while the disk does
            }
            finally { FailingDirectory.Failing = false; }

            await WaitForRebuild(db);
            foreach (var paper in papers) Assert.Equal(paper.Key, TopLexical(db, paper.Title));
            lock (notes) Assert.Contains(notes, n => n.Contains("lexical index write failed") || n.Contains("lexical index read failed"));
        }
        finally
        {
            FailingDirectory.Failing = false;
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task ADamagedLexicalIndexThatCannotBeRebuiltAtOpenStillOpensAndHealsLater()
    {
        var (dir, papers) = await PopulatedAsync();
        try
        {
            Cut(LargestLexicalFile(dir));
            FailingDirectory.Failing = true;
            PaperDatabase db;
            try
            {
                // A tool's open (rebuild before open returns), with the lexical folder failing every new file.
                db = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions
                {
                    LexicalRetryAfter = TimeSpan.FromMilliseconds(50),
                    LexicalDirectoryFactory = path => new FailingDirectory(FSDirectory.Open(path)),
                });
                Assert.NotNull(db.LexicalDegraded);
                Assert.Throws<LexicalUnavailableException>(() => db.SearchLexical(Title(3), 1));
            }
            finally { FailingDirectory.Failing = false; }
            await using (db)
            {
                await WaitForRebuild(db);
                Assert.Equal(papers[2].Key, TopLexical(db, Title(3)));
            }
        }
        finally
        {
            FailingDirectory.Failing = false;
            Directory.Delete(dir, true);
        }
    }
}
