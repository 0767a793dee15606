using PaperVec.Storage;
using Xunit;

namespace PaperVec.Tests.Storage;

public class ArxivIdFormsTests
{
    [Theory]
    [InlineData("arXiv:2503.11677", new[] { "2503.11677" })]
    [InlineData("2503.11677v2", new[] { "2503.11677" })]
    [InlineData("arxiv:2503.11677v2", new[] { "2503.11677v2", "2503.11677" })]
    [InlineData("https://arxiv.org/abs/2503.11677", new[] { "2503.11677" })]
    [InlineData("https://arxiv.org/pdf/2503.11677v1", new[] { "2503.11677v1", "2503.11677" })]
    [InlineData("https://arxiv.org/pdf/2503.11677v1.pdf", new[] { "2503.11677v1", "2503.11677" })]
    [InlineData("http://export.arxiv.org/abs/cs/0112017v1?context=cs", new[] { "cs/0112017v1", "cs/0112017" })]
    [InlineData("arXiv:math.GT/0309136", new[] { "math.GT/0309136" })]
    public void ArxivFormsNameTheBareId(string written, string[] expected) => Assert.Equal(expected, ArxivIdForms.Candidates(written));

    [Theory]
    [InlineData("2503.11677")]       // already bare: nothing else to try
    [InlineData("0123456789abcdef")] // a PaperVec id
    [InlineData("doi:10.1000/182")]
    [InlineData("https://example.org/abs/2503.11677")]
    [InlineData("2503.116")]
    public void OtherIdsHaveNoArxivForms(string written) => Assert.Empty(ArxivIdForms.Candidates(written));

    [Fact]
    public async Task EveryArxivFormResolvesToThePaperWhoseRecordIdIsTheBareId()
    {
        string dir = StoreTestData.TempDir();
        try
        {
            var random = new Random(7);
            var paper = StoreTestData.Paper(1, random);
            await using var db = await PaperDatabase.OpenAsync(dir);
            db.Commit(new WriteBatch().PutPaper(paper).PutAlias("2503.11677", paper.Key));
            foreach (var form in new[] { "2503.11677", "arXiv:2503.11677", "2503.11677v3", "https://arxiv.org/abs/2503.11677", "https://arxiv.org/pdf/2503.11677v1" })
                Assert.Equal(paper.Key, db.Catalog.ResolveId(form));
            Assert.Null(db.Catalog.ResolveId("2503.11678"));
            Assert.Null(db.Catalog.ResolveId("arXiv:2503.11678v1"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
