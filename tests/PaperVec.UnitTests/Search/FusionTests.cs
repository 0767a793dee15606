using PaperVec.Search;

// Keeps the namespace of the file it came from (Lexical/LexicalSearchTests.cs), as the moved tests do: a
// PaperVec.Tests.Search namespace would shadow PaperVec.Search in every test under PaperVec.Tests.
namespace PaperVec.Tests.Lexical;

/// <summary>How PaperSearch fuses the semantic and lexical lists, and the search modes a query may name.</summary>
public class FusionTests
{
    [Fact]
    public void ConvexFusionNormalisesEachListAndReciprocalRankSumsRanks()
    {
        List<(long, double)> semantic = [(1, 0.9), (2, 0.8), (3, 0.5)], lexical = [(3, 12.0), (4, 6.0), (1, 2.0)];
        var convex = PaperSearch.Fuse(semantic, lexical, new SearchQuery("", null) { Fusion = Fusion.Convex, SemanticWeight = 0.5 }, 4);
        // 1: 0.5*1 + 0.5*0 = 0.5; 2: 0.5*0.75 = 0.375; 3: 0 + 0.5*1 = 0.5; 4: 0.5*0.4 = 0.2
        Assert.Equal([1L, 3, 2, 4], convex.Select(h => h.Key));
        Assert.Equal(0.375, convex[2].Score, 6);
        var rrf = PaperSearch.Fuse(semantic, lexical, new SearchQuery("", null) { Fusion = Fusion.ReciprocalRank }, 2);
        Assert.Equal([1L, 3], rrf.Select(h => h.Key)); // 1: 1/61 + 1/63; 3: 1/63 + 1/61
        Assert.Throws<InvalidDataException>(() => SearchQuery.ParseMode("fuzzy"));
        Assert.Throws<InvalidDataException>(() => SearchQuery.ParseMode("1"));
        Assert.Equal(SearchMode.Lexical, SearchQuery.ParseMode("Lexical"));
    }
}
