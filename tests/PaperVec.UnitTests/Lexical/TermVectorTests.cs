using PaperVec.Lexical;
using PaperVec.Storage;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Lexical;

/// <summary>Term vectors kept per paper by the lexical index (issue 28 item 1): the recommender reads them instead of analysing the text again.</summary>
public class TermVectorTests
{
    static PaperRecord Paper(int n, Random random, string title, string abstractText) =>
        StoreTestData.Paper(n, random) with { Key = PaperIdentity.KeyOfTitle(title), Title = title, Abstract = abstractText };

    static IReadOnlyList<string> Analysed(PaperRecord p) => LexicalIndex.Tokens(p.Title + "\n" + p.Abstract);

    [Fact]
    public async Task EachPaperKeepsItsTokensInOrderWithRepeatsAndLosesThemWhenDeletedOrReplaced()
    {
        string dir = StoreTestData.TempDir();
        try
        {
            var random = new Random(3);
            var a = Paper(1, random, "Diffusion models for point clouds", "Point clouds are denoised by a diffusion model; the model's points, and the point clouds' normals.");
            var b = Paper(2, random, "LoRA: low-rank adaptation", "We freeze the pretrained weights and inject trainable rank decomposition matrices.");
            var c = Paper(3, random, "Graph networks", "Message passing over molecular graphs predicts properties.");
            await using (var db = await PaperDatabase.OpenAsync(dir))
            {
                db.Commit(new WriteBatch().PutPaper(a).PutPaper(b).PutPaper(c));
                var tokens = db.LexicalTokens([b.Key, a.Key, 12345]);
                Assert.Equal(Analysed(b), tokens[0]);
                Assert.Equal(Analysed(a), tokens[1]); // repeats and stop-word gaps as the analyser gives them: bigrams stay right
                Assert.Null(tokens[2]);
                var replaced = a with { Abstract = "Entirely different words now." };
                db.Commit(new WriteBatch().PutPaper(replaced).DeletePaper(c.Key));
                tokens = db.LexicalTokens([a.Key, c.Key]);
                Assert.Equal(Analysed(replaced), tokens[0]);
                Assert.Null(tokens[1]);
                Assert.True(db.IndexMatchesStore(out var problem), problem);
            }
            // Recovered on reopening (from the index's commit and the log replayed into it).
            var late = Paper(4, random, "Written just before the crash", "Sparse retrieval with learned term weights.");
            await using (var db = await PaperDatabase.OpenAsync(dir))
            {
                Assert.Equal(Analysed(b), db.LexicalTokens([b.Key])[0]);
                db.Commit(new WriteBatch().PutPaper(late));
                db.Abandon(); // the in-process kill -9: no checkpoint, no lexical commit
            }
            await using (var db = await PaperDatabase.OpenAsync(dir))
            {
                Assert.Equal(Analysed(late), db.LexicalTokens([late.Key])[0]);
                Assert.True(db.IndexMatchesStore(out var problem), problem);
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
