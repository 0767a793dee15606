using PaperVec.Engine;
using PaperVec.Index;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Recommend;

/// <summary>Recommendations from liked and disliked papers: every strategy, candidates, exclusions, explanations, diversity.</summary>
public class RecommenderTests : IAsyncLifetime
{
    // Three topics: papers are a topic's centre plus noise, so "more like the liked ones" has one right answer.
    readonly string _dir = StoreTestData.TempDir();
    PaperCollection _collection = null!;
    readonly Dictionary<string, List<PaperRecord>> _topics = [];

    public async Task InitializeAsync()
    {
        _collection = await PaperCollection.OpenAsync(_dir);
        var random = new Random(7);
        var batch = new WriteBatch();
        int n = 0;
        foreach (var (topic, words) in new[] { ("vision", "image segmentation pixels"), ("language", "token translation grammar"), ("robots", "gripper locomotion torque") })
        {
            var centre = StoreTestData.UnitVector(random);
            _topics[topic] = [];
            for (int i = 0; i < 30; i++)
            {
                var paper = StoreTestData.Paper(++n, random) with { Abstract = $"A {topic} paper about {words}, number {i}.", Vector = Near(centre, random, 0.5f) };
                _topics[topic].Add(paper);
                batch.PutPaper(paper);
            }
        }
        _collection.Database.Commit(batch);
    }

    static float[] Near(float[] centre, Random random, float noise)
    {
        var v = StoreTestData.UnitVector(random);
        for (int i = 0; i < v.Length; i++) v[i] = centre[i] + noise * v[i];
        VectorKernels.Normalize(v);
        return v;
    }

    public async Task DisposeAsync()
    {
        await _collection.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    List<string> Ids(string topic, int skip, int take) => _topics[topic].Skip(skip).Take(take).Select(p => p.Id).ToList();

    [Theory]
    [InlineData(RecommendStrategy.Centroid)]
    [InlineData(RecommendStrategy.BestMatch)]
    [InlineData(RecommendStrategy.Classifier)]
    [InlineData(RecommendStrategy.Hybrid)]
    [InlineData(RecommendStrategy.TermCentroid)]
    [InlineData(RecommendStrategy.TermBestMatch)]
    [InlineData(RecommendStrategy.TermClassifier)]
    [InlineData(RecommendStrategy.Fused)]
    public async Task EveryStrategyRecommendsTheLikedTopicAndNeverALibraryPaper(RecommendStrategy strategy)
    {
        var liked = Ids("vision", 0, 5);
        var disliked = Ids("language", 0, 3);
        var results = await _collection.RecommendAsync(liked, disliked, new SearchScope { K = 10 }, strategy: strategy);
        Assert.Equal(10, results.Count);
        var vision = _topics["vision"].Select(p => p.Id).ToHashSet();
        Assert.All(results, r => Assert.Contains(r.Id, vision));
        Assert.DoesNotContain(results, r => liked.Contains(r.Id) || disliked.Contains(r.Id));
        Assert.Equal(results.OrderByDescending(r => r.Score).Select(r => r.Id), results.Select(r => r.Id));
    }

    [Fact]
    public async Task EachResultSaysWhichLikedPapersItIsClosestTo()
    {
        var liked = Ids("vision", 0, 4).Concat(Ids("robots", 0, 4)).ToList();
        // An embedding model's explanation (the fused default mixes term cosine in: LibraryModelTests).
        var results = await _collection.RecommendAsync(liked, [], new SearchScope { K = 20 }, strategy: RecommendStrategy.Classifier);
        var db = _collection.Database;
        foreach (var result in results)
        {
            // The reference: cosine to every liked paper, best two.
            var vector = new float[db.Dimension];
            Assert.True(db.TryReadVector(db.Catalog.ResolveId(result.Id)!.Value, vector));
            var expected = liked.Select(id => (Id: id, Cosine: Reference(vector, db.FindPaper(id)!.Vector)))
                .OrderByDescending(x => x.Cosine).Take(2).ToList();
            Assert.Equal(expected.Select(e => e.Id), result.Because!.Select(b => b.Id));
            Assert.True(Math.Abs(expected[0].Cosine - result.Because![0].Similarity) < 1e-3, $"{expected[0].Cosine} vs {result.Because![0].Similarity}");
        }
    }

    [Fact]
    public async Task ADigestRestrictsTheCandidatesToItsPapers()
    {
        var listed = _topics["language"].Take(5).Concat(_topics["vision"].Skip(20).Take(5)).Select(p => p.Key).ToList();
        await _collection.Database.CommitAsync(new WriteBatch().PutDigest(new DigestRecord("2025-03-11/today", new DateOnly(2025, 3, 11), "today", listed, DateTimeOffset.UtcNow)));
        var results = await _collection.RecommendAsync(Ids("vision", 0, 5), [], new SearchScope { K = 10 }, digestId: "2025-03-11/today");
        Assert.Equal(10, results.Count);
        Assert.Equal(_topics["vision"].Skip(20).Take(5).Select(p => p.Id).Order(), results.Take(5).Select(r => r.Id).Order());
        await Assert.ThrowsAsync<DigestNotFoundException>(() => _collection.RecommendAsync(Ids("vision", 0, 5), [], new SearchScope(), digestId: "nope"));
    }

    [Fact]
    public async Task BadRequestsAreRefusedNamingWhatIsWrong()
    {
        var unknown = await Assert.ThrowsAsync<UnknownPapersException>(() => _collection.RecommendAsync([Ids("vision", 0, 1)[0], "2501.99999", "ffffffffffffffff"], [], new SearchScope()));
        Assert.Equal(["2501.99999", "ffffffffffffffff"], unknown.Ids);
        var empty = await Assert.ThrowsAsync<InvalidDataException>(() => _collection.RecommendAsync([], Ids("vision", 0, 1), new SearchScope()));
        Assert.Contains("at least one liked", empty.Message);
        var many = await Assert.ThrowsAsync<InvalidDataException>(() => _collection.RecommendAsync(Enumerable.Repeat(Ids("vision", 0, 1)[0], 1001).ToList(), [], new SearchScope()));
        Assert.Contains("at most 1,000", many.Message);
        await Assert.ThrowsAsync<InvalidDataException>(() => _collection.RecommendAsync(Ids("vision", 0, 1), [], new SearchScope { Diversity = 1.5 }));
    }

    [Fact]
    public async Task DiversityPushesNearCopiesOfAPickedPaperDown()
    {
        // Five near-copies of one vision paper join the collection: without diversity they fill the top.
        var random = new Random(11);
        var original = _topics["vision"][10];
        var batch = new WriteBatch();
        var copies = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            var copy = StoreTestData.Paper(1000 + i, random) with { Vector = Near(original.Vector, random, 0.02f) };
            batch.PutPaper(copy);
            copies.Add(copy.Id);
        }
        await _collection.Database.CommitAsync(batch);
        var liked = new List<string> { original.Id };
        var plain = await _collection.RecommendAsync(liked, [], new SearchScope { K = 5 }, strategy: RecommendStrategy.Centroid);
        Assert.Equal(copies.Order(), plain.Select(r => r.Id).Order());
        var diverse = await _collection.RecommendAsync(liked, [], new SearchScope { K = 5, Diversity = 0.8 }, strategy: RecommendStrategy.Centroid);
        Assert.Contains(diverse[0].Id, copies); // the best stays first
        Assert.True(diverse.Count(r => copies.Contains(r.Id)) <= 2, string.Join(", ", diverse.Select(r => r.Id)));
    }

    [Fact]
    public void AShardRankingReadsTheDiversityPoolOfTheLargestK()
    {
        // A cluster's shards read PoolDepth(k, diversity): k=1000 with diversity asked 4000 and was a 500 through the cluster.
        int depth = MaximalMarginalRelevance.PoolDepth(SearchScope.MaxK, 0.5);
        var scope = new SearchScope { K = SearchScope.MaxK, Diversity = 0.5 };
        var query = new SearchQuery("gripper torque", _topics["robots"][0].Vector, SearchMode.Semantic);
        Assert.Equal(90, PaperSearch.Ranking(_collection.Database, query, SearchMode.Semantic, scope, depth).Count);
        Assert.NotEmpty(PaperSearch.Ranking(_collection.Database, query, SearchMode.Lexical, scope, depth));
    }

    [Theory]
    [InlineData("a\n")]
    [InlineData("a\r\n")]
    [InlineData("reader\n")]
    public void LibraryNamesWithATrailingNewlineAreRefused(string name) =>
        Assert.Contains("is not valid", Assert.Throws<InvalidDataException>(() => ReaderLibrary.CheckName(name)).Message);

    [Fact]
    public async Task OnePaperUnderTwoIdsCannotBeBothLikedAndDisliked()
    {
        var paper = _topics["vision"][0];
        string source = paper.SourceId!, key = PaperIdentity.Format(paper.Key);
        _collection.Database.Commit(new WriteBatch().PutAlias(source, paper.Key));
        var liked = new[] { PaperIdentity.Format(_topics["vision"][1].Key), source };
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => _collection.RecommendAsync(liked, [key], new SearchScope { K = 5 }));
        Assert.Contains($"'{source}' (liked) and '{key}' (disliked)", error.Message);
        error = await Assert.ThrowsAsync<InvalidDataException>(() => _collection.PutLibraryAsync("two-ids", liked, [key]));
        Assert.Contains($"'{source}' (liked) and '{key}' (disliked)", error.Message);
        Assert.Null(_collection.Library("two-ids"));
    }

    [Fact]
    public void MaximalMarginalRelevanceMatchesItsDefinition()
    {
        var db = _collection.Database;
        var pool = db.Vectors.Search(_topics["vision"][0].Vector, 30).Select(h => (h.Id, (double)h.Score)).ToList();
        foreach (double diversity in new[] { 0.0, 0.3, 0.8 })
        {
            var picked = MaximalMarginalRelevance.Select(db, pool, 10, diversity).Select(p => p.Key).ToList();
            // Reference: the textbook loop, all scores recomputed each round.
            double min = pool.Min(p => p.Item2), range = pool.Max(p => p.Item2) - min;
            var expected = new List<long>();
            while (expected.Count < 10)
            {
                var best = pool.Where(p => !expected.Contains(p.Id)).MaxBy(p =>
                    (1 - diversity) * (p.Item2 - min) / range - diversity * (expected.Count == 0 ? 0 : expected.Max(e => Cos(db, e, p.Id))));
                expected.Add(best.Id);
            }
            Assert.Equal(expected, picked);
        }
    }

    static double Reference(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }

    static double Cos(PaperDatabase db, long a, long b)
    {
        float[] x = new float[db.Dimension], y = new float[db.Dimension];
        db.TryReadVector(a, x);
        db.TryReadVector(b, y);
        return VectorKernels.Dot(x, y);
    }

    [Fact]
    public void TheLogisticRegressionSeparatesTwoTopicsAndMatchesItsGradientCondition()
    {
        int dim = 384;
        var rows = _topics["vision"].Concat(_topics["language"]).SelectMany(p => p.Vector).ToArray();
        var labels = Enumerable.Range(0, 60).Select(i => i < 30).ToArray();
        var weights = Enumerable.Repeat(1.0, 60).ToArray();
        var model = LogisticRegression.Train(rows, dim, labels, weights, lambda: 0.01, passes: 2000);
        for (int i = 0; i < 60; i++) Assert.Equal(labels[i], model.Probability(rows.AsSpan(i * dim, dim)) > 0.5);
        // At the optimum the regularised loss's gradient is zero: mean (p - y) x + lambda w = 0.
        var gradient = new double[dim];
        for (int i = 0; i < 60; i++)
        {
            double g = (model.Probability(rows.AsSpan(i * dim, dim)) - (labels[i] ? 1 : 0)) / 60;
            for (int j = 0; j < dim; j++) gradient[j] += g * rows[i * dim + j];
        }
        for (int j = 0; j < dim; j++) Assert.True(Math.Abs(gradient[j] + 0.01 * model.Weights[j]) < 1e-3, $"gradient {j}: {gradient[j] + 0.01 * model.Weights[j]}");
    }

    [Fact]
    public void BackgroundSamplesAreSeededAndLeaveOutTheExcluded()
    {
        var db = _collection.Database;
        var excluded = _topics["vision"].Select(p => p.Key).ToHashSet();
        var a = db.Catalog.SampleKeys(20, seed: 5, excluded);
        Assert.Equal(20, a.Count);
        Assert.Equal(a, db.Catalog.SampleKeys(20, seed: 5, excluded));
        Assert.NotEqual(a, db.Catalog.SampleKeys(20, seed: 6, excluded));
        Assert.DoesNotContain(a, excluded.Contains);
        Assert.Equal(60, db.Catalog.SampleKeys(500, seed: 5, excluded).Distinct().Count());
    }
}
