using PaperVec.Engine;
using PaperVec.Index;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Recommend;

/// <summary>
/// The library models measured by `eval recommend` (tf-idf centroid, best match and SVM, z-score
/// fusion) against small hand-computed cases, judged papers in a digest ordered by a library, and
/// short explanations (the liked papers that contributed most, the shared words).
/// </summary>
public class LibraryModelTests : IAsyncLifetime
{
    readonly string _dir = StoreTestData.TempDir();
    PaperCollection _collection = null!;
    readonly Random _random = new(11);
    int _n;

    public async Task InitializeAsync() => _collection = await PaperCollection.OpenAsync(_dir);

    public async Task DisposeAsync()
    {
        await _collection.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    /// <summary>A stored paper with this title and abstract (words the English analyzer keeps as they are) and a given or random vector.</summary>
    PaperRecord Put(string title, string text, float[]? vector = null)
    {
        var paper = StoreTestData.Paper(++_n, _random) with { Title = title, Key = PaperIdentity.KeyOfTitle(title), Abstract = text };
        if (vector != null) paper = paper with { Vector = vector };
        _collection.Database.Commit(new WriteBatch().PutPaper(paper));
        return paper;
    }

    static double Idf(int df, int docs) => Math.Log((1.0 + docs) / (1.0 + df)) + 1;

    /// <summary>Unit tf-idf vector by hand: (1 + ln tf) x idf over the given terms.</summary>
    static Dictionary<string, double> Hand(Dictionary<string, int> tf, Dictionary<string, int> df, int docs)
    {
        var w = tf.ToDictionary(t => t.Key, t => (1 + Math.Log(t.Value)) * Idf(df[t.Key], docs));
        double norm = Math.Sqrt(w.Values.Sum(x => x * x));
        return w.ToDictionary(t => t.Key, t => t.Value / norm);
    }

    static double Cos(Dictionary<string, double> a, Dictionary<string, double> b) => a.Where(x => b.ContainsKey(x.Key)).Sum(x => x.Value * b[x.Key]);

    async Task<List<SearchResult>> RankAsync(RecommendStrategy strategy, IEnumerable<PaperRecord> liked, IEnumerable<PaperRecord> candidates, IEnumerable<PaperRecord>? disliked = null) =>
        await Recommender.RankAsync(_collection.Database,
            new RecommendQuery(liked.Select(p => p.Key).ToList(), (disliked ?? []).Select(p => p.Key).ToList()) { Strategy = strategy, Candidates = candidates.Select(p => p.Key).ToList() },
            new SearchScope { K = 10 });

    [Fact]
    public async Task TheTermCentroidScoresTheHandComputedTfIdfCosine()
    {
        // Titles "zebra", "quartz", "lemon"; tokens per paper (title + abstract), df over the 3 papers:
        // A: zebra zebra quartz   B: quartz lemon   C: lemon lemon lemon
        var a = Put("zebra", "zebra quartz");
        var b = Put("quartz", "lemon");
        var c = Put("lemon", "lemon lemon");
        var df = new Dictionary<string, int> { ["zebra"] = 1, ["quartz"] = 2, ["lemon"] = 2 };
        var va = Hand(new() { ["zebra"] = 2, ["quartz"] = 1 }, df, 3);
        var vb = Hand(new() { ["quartz"] = 1, ["lemon"] = 1 }, df, 3);
        var vc = Hand(new() { ["lemon"] = 3 }, df, 3);
        var results = await RankAsync(RecommendStrategy.TermCentroid, [a], [b, c]);
        Assert.Equal([b.Id, c.Id], results.Select(r => r.Id));
        Assert.Equal(Math.Round(Cos(va, vb), 4), results[0].Score, 4);
        Assert.Equal(0, results[1].Score, 4); // nothing shared with the library
        Assert.Equal(0, Cos(va, vc));

        // Two liked papers: the cosine to their mean direction.
        var both = await RankAsync(RecommendStrategy.TermCentroid, [a, c], [b]);
        var mean = va.Keys.Union(vc.Keys).ToDictionary(t => t, t => (va.GetValueOrDefault(t) + vc.GetValueOrDefault(t)) / 2);
        double norm = Math.Sqrt(mean.Values.Sum(x => x * x));
        Assert.Equal(Math.Round(Cos(mean, vb) / norm, 4), both[0].Score, 4);
    }

    [Fact]
    public async Task TheTermBestMatchTakesTheBestLikedCosineMinusHalfTheBestDisliked()
    {
        var a = Put("zebra", "zebra quartz");
        var b = Put("quartz", "lemon");
        var c = Put("lemon", "lemon lemon");
        var d = Put("violet", "violet zebra");
        var df = new Dictionary<string, int> { ["zebra"] = 2, ["quartz"] = 2, ["lemon"] = 2, ["violet"] = 1 };
        var va = Hand(new() { ["zebra"] = 2, ["quartz"] = 1 }, df, 4);
        var vb = Hand(new() { ["quartz"] = 1, ["lemon"] = 1 }, df, 4);
        var vc = Hand(new() { ["lemon"] = 3 }, df, 4);
        var vd = Hand(new() { ["violet"] = 2, ["zebra"] = 1 }, df, 4);
        var results = await RankAsync(RecommendStrategy.TermBestMatch, [a, c], [b, d]);
        var score = results.ToDictionary(r => r.Id, r => r.Score);
        Assert.Equal(Math.Round(Math.Max(Cos(vb, va), Cos(vb, vc)), 4), score[b.Id], 4);
        Assert.Equal(Math.Round(Math.Max(Cos(vd, va), Cos(vd, vc)), 4), score[d.Id], 4);
        // With c disliked instead: b loses half its cosine to c.
        var disliked = (await RankAsync(RecommendStrategy.TermBestMatch, [a], [b], [c])).Single();
        Assert.Equal(Math.Round(Cos(vb, va) - 0.5 * Cos(vb, vc), 4), disliked.Score, 4);
    }

    [Fact]
    public void TheTermSvmMeetsItsOptimalityConditionAndSeparatesTheClasses()
    {
        // Rows on features 0..3, unit length; positives hold feature 0, negatives feature 2.
        float r = (float)Math.Sqrt(0.5);
        var positives = new List<SparseVector> { new([0, 1], [r, r]), new([0], [1]) };
        var negatives = new List<SparseVector> { new([2], [1]), new([2, 3], [r, r]), new([1, 2], [r, r]) };
        double[] negativeWeights = [1, 1, 4];
        var svm = TermClassifier.Train(4, positives, negatives, negativeWeights, passes: 3000);
        Assert.True(positives.Min(svm.Score) > negatives.Max(svm.Score), "every positive ranks above every negative");
        // The gradient of 0.5|w|^2 + 0.5 b^2 + C sum c_i max(0, 1 - y_i f(x_i))^2 is zero at the optimum;
        // balanced classes: c = n / (2 n_class), negatives shared by their relative weights.
        int n = 5;
        var rows = positives.Select(x => (X: x, Y: 1.0, C: n / 2.0 / 2)).Concat(negatives.Select((x, i) => (X: x, Y: -1.0, C: n / 2.0 * negativeWeights[i] / 6))).ToList();
        var gradient = svm.Weights.ToArray();
        double gradientB = svm.Bias;
        foreach (var (x, y, c) in rows)
        {
            double margin = y * svm.Score(x);
            if (margin >= 1) continue;
            double g = -2 * TermClassifier.C * c * (1 - margin) * y;
            for (int k = 0; k < x.Ids.Length; k++) gradient[x.Ids[k]] += g * x.Weights[k];
            gradientB += g;
        }
        Assert.All(gradient, g => Assert.True(Math.Abs(g) < 1e-6, $"gradient {g}"));
        Assert.True(Math.Abs(gradientB) < 1e-6, $"bias gradient {gradientB}");
    }

    [Fact]
    public void FusionAddsWeightedZScoresOverTheUnjudgedPapers()
    {
        var components = new Dictionary<LibraryComponent, Dictionary<long, double>>
        {
            [LibraryComponent.TermCentroid] = new() { [1] = 0.1, [2] = 0.3, [3] = 0.5, [9] = 100 },
            [LibraryComponent.BestMatch] = new() { [1] = 4, [2] = 2, [3] = 0, [9] = 0 },
        };
        var fused = ScoredPool.Fuse(components, [(LibraryComponent.TermCentroid, 1), (LibraryComponent.BestMatch, 2)], new HashSet<long> { 9 }, out _);
        // Over 1..3: term mean 0.3, deviation sqrt(0.08/3); match mean 2, deviation sqrt(8/3).
        double st = Math.Sqrt(0.08 / 3), sm = Math.Sqrt(8.0 / 3);
        Assert.Equal((0.1 - 0.3) / st + 2 * (4 - 2) / sm, fused[1], 9);
        Assert.Equal(0 + 0, fused[2], 9);
        Assert.Equal((0.5 - 0.3) / st + 2 * (0 - 2) / sm, fused[3], 9);
        Assert.Equal((100 - 0.3) / st + 2 * (0 - 2) / sm, fused[9], 9);
    }

    [Fact]
    public async Task ADigestOrderedByALibraryMarksJudgedPapersAndListsThemLast()
    {
        var centre = StoreTestData.UnitVector(_random);
        float[] Near(double noise)
        {
            var v = StoreTestData.UnitVector(_random);
            for (int i = 0; i < v.Length; i++) v[i] = centre[i] + (float)noise * v[i];
            VectorKernels.Normalize(v);
            return v;
        }
        var liked = Enumerable.Range(0, 3).Select(i => Put($"Point cloud diffusion {i}", $"Diffusion models for point clouds, study {i}.", Near(0.3))).ToList();
        var disliked = Put("Point cloud diffusion, a survey", "Diffusion of point clouds surveyed.", Near(0.3));
        var others = Enumerable.Range(0, 6).Select(i => Put($"Other paper {i}", $"Graph coloring and scheduling {i}.")).ToList();
        var close = Put("Diffusion for point clouds again", "Point clouds generated by diffusion.", Near(0.3));
        List<PaperRecord> listed = [liked[0], disliked, close, .. others];
        await _collection.Database.CommitAsync(new WriteBatch()
            .PutDigest(new DigestRecord("2025-03-11/today", new DateOnly(2025, 3, 11), "today", listed.Select(p => p.Key).ToList(), DateTimeOffset.UtcNow))
            .PutLibrary(new ReaderLibrary("reader", liked.Select(p => p.Key).ToList(), [disliked.Key], DateTimeOffset.UtcNow)));
        var ranked = await _collection.RankDigestAsync("2025-03-11/today", "reader");
        Assert.NotNull(ranked);
        Assert.Equal(listed.Count, ranked!.Count);
        Assert.Equal(close.Id, ranked[0].Id); // the liked paper itself (cosine 1) is not first
        var likedResult = ranked.Single(r => r.Id == liked[0].Id);
        var dislikedResult = ranked.Single(r => r.Id == disliked.Id);
        Assert.Equal("liked", likedResult.Judged);
        Assert.Equal("disliked", dislikedResult.Judged);
        Assert.Equal(new[] { liked[0].Id, disliked.Id }.Order(StringComparer.Ordinal), ranked.TakeLast(2).Select(r => r.Id).Order(StringComparer.Ordinal));
        Assert.All(ranked.SkipLast(2), r => Assert.Null(r.Judged));
        Assert.Equal(ranked.SkipLast(2).OrderByDescending(r => r.Score).Select(r => r.Id), ranked.SkipLast(2).Select(r => r.Id));
    }

    [Fact]
    public async Task ExplanationsNameTheLikedPapersThatContributedMostAndTheSharedWords()
    {
        var a = Put("Diffusion models for point clouds", "We generate point clouds with diffusion.");
        var b = Put("Graph neural networks for molecules", "Message passing on molecular graphs.");
        var c = Put("Scheduling exams with graph coloring", "Timetables by coloring.");
        var candidate = Put("Point clouds from diffusion", "A diffusion model completes point clouds.");
        var filler = Enumerable.Range(0, 5).Select(i => Put($"Unrelated topic {i}", $"Weather records and rainfall {i}.")).ToList();
        var results = await RankAsync(RecommendStrategy.TermCentroid, [a, b, c], [candidate, .. filler]);
        var top = results[0];
        Assert.Equal(candidate.Id, top.Id);
        Assert.InRange(top.Because!.Count, 1, 2);
        Assert.Equal(a.Id, top.Because![0].Id); // the liked paper sharing its words
        Assert.NotNull(top.SharedTerms);
        Assert.InRange(top.SharedTerms!.Count, 1, 3);
        Assert.Contains(top.SharedTerms!, t => t is "point clouds" or "diffusion" or "point" or "clouds");
        Assert.All(top.SharedTerms!, t => Assert.Contains(t, (candidate.Title + " " + candidate.Abstract).ToLowerInvariant()));

        // An embedding-only model decides nothing by terms: no shared words.
        var semantic = await RankAsync(RecommendStrategy.Centroid, [a, b, c], [candidate, .. filler]);
        Assert.All(semantic, r => Assert.Null(r.SharedTerms));
    }
}
