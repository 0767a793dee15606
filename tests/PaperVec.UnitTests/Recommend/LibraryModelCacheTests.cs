using PaperVec.Engine;
using PaperVec.Index;
using PaperVec.Recommend;
using PaperVec.Search;
using PaperVec.Storage;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Recommend;

/// <summary>Library models kept warm (issue 28 item 4): trained once per library version, reused, replaced when the library or the collection's epoch changes.</summary>
public class LibraryModelCacheTests : IAsyncLifetime
{
    readonly string _dir = StoreTestData.TempDir();
    PaperCollection _collection = null!;
    readonly List<PaperRecord> _vision = [], _language = [];
    readonly Random _random = new(11);
    int _n;

    public async Task InitializeAsync()
    {
        _collection = await PaperCollection.OpenAsync(_dir);
        var batch = new WriteBatch();
        foreach (var (papers, words) in new[] { (_vision, "image segmentation pixels"), (_language, "token translation grammar") })
        {
            var centre = StoreTestData.UnitVector(_random);
            for (int i = 0; i < 30; i++)
            {
                var paper = StoreTestData.Paper(++_n, _random) with { Abstract = $"A paper about {words}, number {i}.", Vector = Near(centre) };
                papers.Add(paper);
                batch.PutPaper(paper);
            }
        }
        _collection.Database.Commit(batch);
    }

    float[] Near(float[] centre)
    {
        var v = StoreTestData.UnitVector(_random);
        for (int i = 0; i < v.Length; i++) v[i] = centre[i] + 0.5f * v[i];
        VectorKernels.Normalize(v);
        return v;
    }

    public async Task DisposeAsync()
    {
        await _collection.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    List<string> Ids(List<PaperRecord> papers, int skip, int take) => papers.Skip(skip).Take(take).Select(p => p.Id).ToList();

    static string Ranking(List<SearchResult> results) => string.Join(" ", results.Select(r => $"{r.Id}:{r.Score:R}:{string.Join(',', r.Because?.Select(b => b.Id) ?? [])}"));

    [Fact]
    public async Task ARepeatedRequestReusesItsModelAndRanksAsTheFirstDid()
    {
        var models = _collection.LibraryModels;
        var first = await _collection.RecommendAsync(Ids(_vision, 0, 5), Ids(_language, 0, 2), new SearchScope { K = 10 });
        Assert.Equal(1, models.Trainings);
        var second = await _collection.RecommendAsync(Ids(_vision, 0, 5), Ids(_language, 0, 2), new SearchScope { K = 10 });
        Assert.Equal(1, models.Trainings);
        Assert.Equal(1, models.Hits);
        Assert.Equal(Ranking(first), Ranking(second));
        // A cold model of the same library ranks as the warm one.
        models.Clear();
        var cold = await _collection.RecommendAsync(Ids(_vision, 0, 5), Ids(_language, 0, 2), new SearchScope { K = 10 });
        Assert.Equal(2, models.Trainings);
        Assert.Equal(Ranking(first), Ranking(cold));
    }

    [Fact]
    public async Task AStoredLibraryAndThePostedIdsOfTheSamePapersShareOneModel()
    {
        await _collection.ChangeLibraryAsync("mine", Ids(_vision, 0, 5), Ids(_language, 0, 2), [], replace: true);
        await _collection.RecommendForLibraryAsync("mine", new SearchScope { K = 10 });
        await _collection.RecommendAsync(Ids(_vision, 0, 5), Ids(_language, 0, 2), new SearchScope { K = 10 });
        Assert.Equal(1, _collection.LibraryModels.Trainings);
        Assert.Equal(1, _collection.LibraryModels.Hits);
    }

    [Fact]
    public async Task ALibraryChangeTrainsANewModel()
    {
        var models = _collection.LibraryModels;
        await _collection.ChangeLibraryAsync("mine", Ids(_vision, 0, 5), [], [], replace: true);
        var before = await _collection.RecommendForLibraryAsync("mine", new SearchScope { K = 10 });
        await _collection.RecommendForLibraryAsync("mine", new SearchScope { K = 10 });
        Assert.Equal(1, models.Trainings);

        // A disliked paper added: a new version, trained once, then warm.
        await _collection.ChangeLibraryAsync("mine", [], Ids(_language, 0, 1), [], replace: false);
        await _collection.RecommendForLibraryAsync("mine", new SearchScope { K = 10 });
        Assert.Equal(2, models.Trainings);
        // A liked paper taken out: another.
        await _collection.ChangeLibraryAsync("mine", [], [], Ids(_vision, 4, 1), replace: false);
        var after = await _collection.RecommendForLibraryAsync("mine", new SearchScope { K = 10 });
        Assert.Equal(3, models.Trainings);
        await _collection.RecommendForLibraryAsync("mine", new SearchScope { K = 10 });
        Assert.Equal(3, models.Trainings);
        // The paper taken out of the library is a candidate again; it was left out while liked.
        Assert.DoesNotContain(before!, r => r.Id == _vision[4].Id);
        Assert.Contains(after!, r => r.Id == _vision[4].Id);
    }

    [Fact]
    public async Task ALikedPaperDeletedFromTheCollectionTrainsANewModel()
    {
        await _collection.ChangeLibraryAsync("mine", Ids(_vision, 0, 5), [], [], replace: true);
        await _collection.RecommendForLibraryAsync("mine", new SearchScope { K = 10 });
        Assert.NotNull(await _collection.DeleteAsync(_vision[0].Id));
        // The library still names the deleted paper; the model no longer learns from it.
        await _collection.RecommendForLibraryAsync("mine", new SearchScope { K = 10 });
        Assert.Equal(2, _collection.LibraryModels.Trainings);
    }

    [Fact]
    public async Task EnoughNewPapersAdvanceTheEpochAndTrainANewModel()
    {
        var models = _collection.LibraryModels;
        await _collection.RecommendAsync(Ids(_vision, 0, 5), [], new SearchScope { K = 10 });
        long epoch = LibraryModelCache.EpochOf(_collection.PaperCount);
        // Papers arrive until the count has moved past the epoch's 5% bucket.
        var batch = new WriteBatch();
        int added = 0;
        while (LibraryModelCache.EpochOf(_collection.PaperCount + added) == epoch)
            batch.PutPaper(StoreTestData.Paper(++_n, _random) with { Abstract = $"Another paper {++added}." });
        _collection.Database.Commit(batch);
        Assert.InRange(added, 1, (int)Math.Ceiling(_collection.PaperCount * LibraryModelCache.EpochDrift) + 1);
        await _collection.RecommendAsync(Ids(_vision, 0, 5), [], new SearchScope { K = 10 });
        Assert.Equal(2, models.Trainings);
    }

    [Fact]
    public async Task TheCacheKeepsWithinItsByteBudgetLeastRecentlyUsedOutFirst()
    {
        var models = new LibraryModelCache(maxBytes: 1);
        var source = new StoredPapersSource(_collection.Database, models);
        var a = new RecommendQuery([_vision[0].Key, _vision[1].Key], []);
        var b = new RecommendQuery([_vision[2].Key, _vision[3].Key], []);
        await Recommender.RankAsync(source, a, new SearchScope { K = 5 });
        await Recommender.RankAsync(source, b, new SearchScope { K = 5 });
        Assert.Equal(1, models.Count); // the newest stays even over budget; the older went
        await Recommender.RankAsync(source, a, new SearchScope { K = 5 });
        Assert.Equal(3, models.Trainings);

        var roomy = new LibraryModelCache();
        source = new StoredPapersSource(_collection.Database, roomy);
        await Recommender.RankAsync(source, a, new SearchScope { K = 5 });
        await Recommender.RankAsync(source, b, new SearchScope { K = 5 });
        await Recommender.RankAsync(source, a, new SearchScope { K = 5 });
        Assert.Equal(2, roomy.Count);
        Assert.Equal(2, roomy.Trainings);
        Assert.InRange(roomy.Bytes, 1, LibraryModelCache.DefaultMaxBytes);
    }
}
