using PaperVec.Ingest;
using PaperVec.Duplicates;
using PaperVec.Embedding;
using PaperVec.Storage;

namespace PaperVec.Bench.Evaluation;

/// <summary>
/// Generated digests ingested into a database the way users' digests are (rendered as text, parsed,
/// ingested one digest at a time), ready to be searched for duplicates and graded against the truth.
/// </summary>
public sealed class DuplicateEvaluation : IAsyncDisposable
{
    public PaperDatabase Database { get; }
    public IReadOnlyList<GeneratedDigest> Digests { get; }
    public int Listings => Digests.Sum(d => d.Listings.Count);

    readonly bool _deleteDirectory;

    DuplicateEvaluation(PaperDatabase database, IReadOnlyList<GeneratedDigest> digests, bool deleteDirectory) =>
        (Database, Digests, _deleteDirectory) = (database, digests, deleteDirectory);

    public static string DigestId(GeneratedDigest digest) => $"{digest.Date:yyyy-MM-dd}/{digest.Name}";

    /// <summary>
    /// Ingests <paramref name="digests"/> into a new database at <paramref name="dataDirectory"/>, embedding
    /// with <paramref name="embedder"/>, or with the vectors <paramref name="vectorOf"/> gives each listing.
    /// </summary>
    public static async Task<DuplicateEvaluation> PrepareAsync(string dataDirectory, IReadOnlyList<GeneratedDigest> digests, Embedder? embedder,
        Func<GeneratedListing, float[]>? vectorOf = null, Action<int>? progress = null, bool deleteDirectoryOnDispose = false)
    {
        if (embedder == null && vectorOf == null) throw new ArgumentException("give an embedder or the listings' vectors");
        var database = await PaperDatabase.OpenAsync(dataDirectory, new PaperDatabaseOptions { Dimension = embedder?.Dimension ?? 384 });
        try
        {
            var ingestor = new PaperIngestor(database, embedder);
            int done = 0;
            foreach (var digest in digests)
            {
                var parsed = DigestParser.Parse(digest.ToText());
                int mismatch = Enumerable.Range(0, Math.Max(parsed.Papers.Count, digest.Listings.Count))
                    .FirstOrDefault(i => i >= parsed.Papers.Count || i >= digest.Listings.Count || parsed.Papers[i].Title != digest.Listings[i].Title, -1);
                if (mismatch >= 0 || parsed.Problems.Count > 0)
                    throw new InvalidDataException($"{digest.Name}: the generated digest did not parse back ({parsed.Papers.Count} of {digest.Listings.Count} papers; "
                        + $"first difference at listing {mismatch}: '{(mismatch >= 0 && mismatch < digest.Listings.Count ? digest.Listings[mismatch].Title : "")}'; {string.Join("; ", parsed.Problems)})");
                var papers = parsed.Papers.Select((p, i) => new IncomingPaper(p.Title, p.Abstract)
                {
                    Date = parsed.Date,
                    Vector = vectorOf?.Invoke(digest.Listings[i]),
                }).ToList();
                await ingestor.IngestAsync(papers, new PaperIngestor.DigestInfo(DigestId(digest), parsed.Date, digest.Name));
                progress?.Invoke(done += digest.Listings.Count);
            }
            return new DuplicateEvaluation(database, digests, deleteDirectoryOnDispose);
        }
        catch
        {
            await database.DisposeAsync();
            if (deleteDirectoryOnDispose) Directory.Delete(dataDirectory, recursive: true);
            throw;
        }
    }

    public List<DuplicateGroup> Find(DuplicateSettings settings, int threads = 0) => new DuplicateFinder(Database, settings).Find(threads: threads);

    public DuplicateGrade Grade(IReadOnlyList<DuplicateGroup> groups) => DuplicateGrade.Grade(Digests, groups, DigestId);

    public async ValueTask DisposeAsync()
    {
        string root = Database.Root;
        await Database.DisposeAsync();
        if (_deleteDirectory) Directory.Delete(root, recursive: true);
    }
}
