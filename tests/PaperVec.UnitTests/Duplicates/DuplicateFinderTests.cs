using System.Text.Json;
using PaperVec.Ingest;
using PaperVec.Duplicates;
using PaperVec.Embedding;
using PaperVec.Storage;
using PaperVec.Tests.Embedding;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Duplicates;

[Collection("embedder")]
public class DuplicateFinderTests(EmbedderFixture fixture)
{
    static readonly string Abstract = "We propose a method for compressing gradients in distributed training. It reduces communication by 99.9 percent. "
        + "Experiments on ImageNet and Penn Treebank show no loss of accuracy. The method needs no change to the model. Code is released.";

    static PaperIngestor.DigestInfo Digest(string name, int day) =>
        new($"2025-03-{day:00}/{name}", new DateOnly(2025, 3, day), name);

    [Fact]
    public async Task SampleDigestsHaveExactlyTheThreePapersListedOnBothDaysAsExactDuplicates()
    {
        string dir = StoreTestData.TempDir();
        try
        {
            await using var db = await PaperDatabase.OpenAsync(dir);
            var ingestor = new PaperIngestor(db, fixture.Embedder);
            var titles = new List<HashSet<string>>();
            foreach (var (file, day) in new[] { ("daily-papers-mar-11.txt", 11), ("daily-papers-mar-12.txt", 12) })
            {
                var parsed = DigestParser.Parse(File.ReadAllText(Path.Combine(RepoPaths.Digests, file)), new DigestParseOptions { Year = 2025 });
                ingestor.Ingest(parsed.Papers.Select(p => new IncomingPaper(p.Title, p.Abstract)).ToList(), Digest(Path.GetFileNameWithoutExtension(file), day));
                titles.Add(parsed.Papers.Select(p => p.Title).ToHashSet());
            }
            var onBothDays = titles[0].Intersect(titles[1]).OrderBy(t => t, StringComparer.Ordinal).ToList();
            Assert.Equal(3, onBothDays.Count);

            var groups = new DuplicateFinder(db).Find();
            Assert.Equal(3, groups.Count);
            Assert.All(groups, g =>
            {
                Assert.Equal(DuplicateKind.Exact, g.Kind);
                Assert.Equal(["2025-03-11/daily-papers-mar-11", "2025-03-12/daily-papers-mar-12"], g.Members.Select(m => m.Digest));
                Assert.Single(g.Members.Select(m => m.PaperId).Distinct());
            });
            Assert.Equal(onBothDays, groups.Select(g => g.Members[0].Title).OrderBy(t => t, StringComparer.Ordinal));
            // Same topic is not the same paper: Grad-CAM and Smooth Grad-CAM++ are both in the sample.
            Assert.DoesNotContain(groups, g => g.Members.Any(m => m.Title.Contains("Smooth Grad-CAM++")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task RevisedAndRetitledCopiesAreFoundWithEvidenceAndAnUnrelatedPaperIsNot()
    {
        string dir = StoreTestData.TempDir();
        try
        {
            await using var db = await PaperDatabase.OpenAsync(dir);
            var ingestor = new PaperIngestor(db, fixture.Embedder);
            const string title = "Deep Gradient Compression for Distributed Training";
            var other = new IncomingPaper("Sparse Communication for Federated Learning",
                "Federated learning suffers from slow uplinks. We study sparsified updates with error feedback and show convergence guarantees. "
                + "On CIFAR-10 we reduce traffic tenfold while matching the accuracy of dense training.");
            ingestor.Ingest([new IncomingPaper(title, Abstract), other], Digest("monday", 10));
            var day2 = ingestor.Ingest([new IncomingPaper(title, Abstract.Replace("99.9", "99.7"))], Digest("tuesday", 11));
            Assert.Equal(1, day2.Revised);
            var day3 = ingestor.Ingest([new IncomingPaper("Compressing Gradients: Communication-Efficient Distributed Training", Abstract.Replace("99.9", "99.7"))], Digest("wednesday", 12));
            Assert.Equal("1 of 1 papers already seen (0 exact, 0 revised, 1 retitled)", day3.Summary);

            var groups = new DuplicateFinder(db).Find();
            var group = Assert.Single(groups);
            Assert.Equal(DuplicateKind.Retitled, group.Kind);
            Assert.Equal(["monday", "tuesday", "wednesday"], group.Members.Select(m => m.Digest.Split('/')[1]));
            // Each member carries the title its digest listed.
            Assert.Equal(title, group.Members[0].Title);
            Assert.StartsWith("Compressing Gradients", group.Members[2].Title);
            Assert.InRange(group.Cosine, 0.8, 1.0);
            Assert.InRange(group.Lexical, 0.3, 0.9999);
            Assert.Contains("Jaccard", group.Rule);

            // Just the first two days: a revision, its evidence from the kept earlier text and vector.
            var revised = Assert.Single(new DuplicateFinder(db).Find(new DuplicateScope(To: new DateOnly(2025, 3, 11))));
            Assert.Equal(DuplicateKind.Revised, revised.Kind);
            Assert.Equal([title, title], revised.Members.Select(m => m.Title));
            Assert.InRange(revised.Cosine, 0.95, 1.0);
            Assert.InRange(revised.Lexical, 0.7, 0.9999);
            Assert.Empty(new DuplicateFinder(db).Find(new DuplicateScope(Digests: new HashSet<string> { "2025-03-10/monday" })));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task ReingestingADigestIsNotADuplicateAndRevisionsKeepTheEarlierTexts()
    {
        string dir = StoreTestData.TempDir();
        try
        {
            await using var db = await PaperDatabase.OpenAsync(dir);
            var random = new Random(3);
            var ingestor = new PaperIngestor(db, null);
            IncomingPaper Paper(string text) => new("A Paper About Compression", text) { Vector = StoreTestData.UnitVector(random) };
            ingestor.Ingest([Paper(Abstract)], Digest("monday", 10));
            ingestor.Ingest([Paper(Abstract)], Digest("monday", 10));
            Assert.Empty(new DuplicateFinder(db).Find());

            for (int v = 1; v <= PaperRecord.MaxPreviousVersions + 3; v++)
                ingestor.Ingest([Paper(Abstract + $" Version {v}.")], Digest("monday", 10));
            var record = db.FindPaper(PaperIdentity.Format(PaperIdentity.KeyOfTitle("A Paper About Compression")))!;
            Assert.Equal(PaperRecord.MaxPreviousVersions, record.PreviousVersions.Count);
            Assert.EndsWith($"Version {PaperRecord.MaxPreviousVersions + 2}.", record.PreviousVersions[^1].Abstract);
            Assert.DoesNotContain(record.PreviousVersions, v => v.TextHash == record.TextHash);
            // The digest's listing hash follows the text it listed last.
            Assert.Equal(record.TextHash, db.Catalog.GetDigest("2025-03-10/monday")!.ListingHashes.Single());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void JsonKeepsTheDocumentedShape()
    {
        var group = new DuplicateGroup(DuplicateKind.Revised,
            [new DuplicateListing("2025-03-11/a", new DateOnly(2025, 3, 11), "00000000000000aa", "T"), new DuplicateListing("2025-03-12/b", new DateOnly(2025, 3, 12), "00000000000000aa", "T")],
            0.97, 0.8, "same normalized title, abstract changed");
        using var json = JsonDocument.Parse(new DuplicateReport([group]).ToJson());
        var g = json.RootElement.GetProperty("groups")[0];
        Assert.Equal("revised", g.GetProperty("kind").GetString());
        Assert.Equal(0.97, g.GetProperty("cosine").GetDouble());
        Assert.Equal(0.8, g.GetProperty("lexical").GetDouble());
        var m = g.GetProperty("members")[1];
        Assert.Equal("2025-03-12/b", m.GetProperty("digest").GetString());
        Assert.Equal("2025-03-12", m.GetProperty("date").GetString());
        Assert.Equal("00000000000000aa", m.GetProperty("paperId").GetString());
        Assert.Equal("T", m.GetProperty("title").GetString());
    }

    [Fact]
    public void ShingleJaccardSeparatesRewordingFromADifferentPaper()
    {
        var a = LexicalSimilarity.ShinglesOf("Deep Gradient Compression", Abstract);
        Assert.Equal(1.0, LexicalSimilarity.Jaccard(a, LexicalSimilarity.ShinglesOf("DEEP gradient-compression!", Abstract.Replace(" ", "  "))));
        double revised = LexicalSimilarity.Jaccard(a, LexicalSimilarity.ShinglesOf("Deep Gradient Compression", Abstract.Replace("99.9", "99.7")));
        Assert.InRange(revised, 0.8, 0.99);
        var different = LexicalSimilarity.ShinglesOf("Gradient Sparsification", "We propose to sparsify gradients in distributed training with error feedback and momentum correction.");
        Assert.InRange(LexicalSimilarity.Jaccard(a, different), 0.0, 0.1);
        Assert.Equal(0, LexicalSimilarity.Jaccard([], []));
    }
}
