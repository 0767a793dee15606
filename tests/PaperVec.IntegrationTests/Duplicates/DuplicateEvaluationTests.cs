using PaperVec.Ingest;
using PaperVec.Duplicates;
using PaperVec.Bench.Evaluation;
using PaperVec.Storage;
using PaperVec.Tests.Embedding;
using PaperVec.Tests.Storage;
using Xunit.Abstractions;

namespace PaperVec.Tests.Duplicates;

/// <summary>
/// The evaluation behind DuplicateSettings' defaults, kept as a test: digests generated from real arXiv
/// abstracts, embedded by the real model, ingested through the digest parser; papers reappear verbatim,
/// revised and retitled among unrelated and same-topic papers. (`papervec eval dupes` runs it bigger.)
/// </summary>
[Collection("embedder")]
public class DuplicateEvaluationTests(EmbedderFixture fixture, ITestOutputHelper output)
{
    static List<IncomingPaper> Corpus(int lines) =>
        File.ReadLines(RepoPaths.RequireShared(RepoPaths.SharedCorpus)).Take(lines).Select((l, i) => PaperRecordReader.ReadLine(l, $"line {i + 1}")).ToList();

    [SkippableFact]
    public async Task DefaultThresholdsMeetThePrecisionAndRecallTargetsOnGeneratedDigests()
    {
        var digests = DuplicateDigestSet.Generate(Corpus(8000), new DuplicateDigestSetOptions { Digests = 8, PapersPerDigest = 50, Seed = 7 });
        string dir = StoreTestData.TempDir();
        await using var evaluation = await DuplicateEvaluation.PrepareAsync(dir, digests, fixture.Embedder, deleteDirectoryOnDispose: true);
        var grade = evaluation.Grade(evaluation.Find(new DuplicateSettings()));
        output.WriteLine($"precision {grade.Precision:0.0000} ({grade.CorrectPredictedPairs}/{grade.PredictedPairs}), recall {grade.Recall:0.0000} ({grade.TruePairs}), kind accuracy {grade.KindAccuracy:0.0000}");
        foreach (var k in grade.Kinds) output.WriteLine($"{k.Kind}: {k.Found}/{k.TruePairs}");

        Assert.All(grade.Kinds, k => Assert.True(k.TruePairs >= 15, $"too few {k.Kind} pairs generated to grade: {k.TruePairs}"));
        Assert.True(grade.Precision >= 0.99, $"precision {grade.Precision:0.0000}");
        Assert.True(grade.Recall >= 0.97, $"recall {grade.Recall:0.0000}");
        Assert.True(grade.RecallOf(DuplicateKind.Retitled) >= 0.9, $"retitled recall {grade.RecallOf(DuplicateKind.Retitled):0.0000}");
        Assert.Equal(1.0, grade.RecallOf(DuplicateKind.Exact));
        Assert.True(grade.KindAccuracy >= 0.99, $"kind accuracy {grade.KindAccuracy:0.0000}");

        // The lexical confirmation is what keeps precision: cosine alone at the candidate bar calls same-topic papers duplicates.
        var cosineOnly = evaluation.Grade(evaluation.Find(new DuplicateSettings { LexicalThreshold = 0 }));
        output.WriteLine($"cosine only: precision {cosineOnly.Precision:0.0000}");
        Assert.True(cosineOnly.PredictedPairs > grade.PredictedPairs);
    }

    [SkippableFact]
    public void GeneratedDigestsParseBackAndRevisionsChangeWhatTheySay()
    {
        var corpus = Corpus(3000);
        var digests = DuplicateDigestSet.Generate(corpus, new DuplicateDigestSetOptions { Digests = 5, PapersPerDigest = 40, Seed = 3 });
        Assert.Equal(200, digests.Sum(d => d.Listings.Count));
        foreach (var d in digests)
        {
            var parsed = DigestParser.Parse(d.ToText());
            Assert.Empty(parsed.Problems);
            Assert.Equal(d.Date, parsed.Date);
            Assert.Equal(d.Listings.Select(l => (l.Title, l.Abstract)), parsed.Papers.Select(p => (p.Title, p.Abstract)));
        }
        var random = new Random(5);
        foreach (var paper in corpus.Take(200))
        {
            Assert.NotEqual(PaperIdentity.TextHash(paper.Title, paper.Abstract), PaperIdentity.TextHash(paper.Title, DuplicateDigestSet.Revise(paper.Abstract, random)));
            Assert.NotEqual(PaperIdentity.NormalizeTitle(paper.Title), PaperIdentity.NormalizeTitle(DuplicateDigestSet.Retitle(paper.Title, random)));
        }
    }

    [Fact]
    public void SyntheticVectorsMakeCopiesCloseAndOtherWorksFar()
    {
        var vectors = new SyntheticListingVectors();
        var a = new GeneratedListing("T", "A", "w1");
        float copy = global::PaperVec.Index.VectorKernels.Dot(vectors.VectorOf(a), vectors.VectorOf(a with { Abstract = "A revised" }));
        float other = global::PaperVec.Index.VectorKernels.Dot(vectors.VectorOf(a), vectors.VectorOf(new GeneratedListing("U", "B", "w2")));
        Assert.InRange(copy, 0.95f, 1f);
        Assert.True(other < 0.9f, $"{other}");
    }
}
