using PaperVec.Search;
using PaperVec.Storage;
using PaperVec.Tests.Storage;

namespace PaperVec.Tests.Lexical;

/// <summary>The lexical index kept in step with the store: written with every commit, recovered after a crash, rebuilt when missing or damaged, counted in the index == store check.</summary>
public class LexicalSearchTests
{
    static PaperRecord Paper(int n, Random random, string title, string abstractText) =>
        StoreTestData.Paper(n, random) with { Key = PaperIdentity.KeyOfTitle(title), Title = title, Abstract = abstractText };

    static List<PaperRecord> Papers(Random random) =>
    [
        Paper(1, random, "Grad-CAM: visual explanations from deep networks", "Gradient-weighted class activation mapping highlights the regions a CNN relies on."),
        Paper(2, random, "LoRA: low-rank adaptation of large language models", "We freeze the pretrained weights and inject trainable rank decomposition matrices."),
        Paper(3, random, "DINOv2 learns robust visual features", "Self-supervised pretraining on curated images yields general-purpose features."),
        Paper(4, random, "Graph neural networks for molecules", "Message passing over molecular graphs predicts properties."),
    ];

    static List<long> Lexical(PaperDatabase db, string text, int k = 3) => db.SearchLexical(text, k).Select(h => h.Key).ToList();

    [Fact]
    public async Task ExactTermsFindTheirPaperAndStemmingMatchesWordForms()
    {
        string dir = StoreTestData.TempDir();
        try
        {
            await using var db = await PaperDatabase.OpenAsync(dir);
            var papers = Papers(new Random(1));
            db.Commit(papers.Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p)));
            Assert.Equal(papers[1].Key, Lexical(db, "LoRA")[0]);
            Assert.Equal(papers[2].Key, Lexical(db, "DINOv2")[0]);
            Assert.Equal(papers[0].Key, Lexical(db, "activation maps")[0]); // "maps" and "mapping" share a stem
            Assert.Empty(Lexical(db, "the of and")); // stop words only
            Assert.Equal([papers[3].Key], db.SearchLexical("graphs", 3, key => key != papers[0].Key).Select(h => h.Key));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task AfterAKill9TheLogIsReplayedIntoTheLexicalIndexAndDeletesStayDeleted()
    {
        string dir = StoreTestData.TempDir();
        var papers = Papers(new Random(2));
        try
        {
            var db = await PaperDatabase.OpenAsync(dir);
            db.Commit(new WriteBatch().PutPaper(papers[0]).PutPaper(papers[1]));
            db.Checkpoint(); // the lexical index commits here with the log position it covers
            db.Commit(new WriteBatch().PutPaper(papers[2]).DeletePaper(papers[1].Key));
            db.Abandon(); // nothing after the checkpoint reached the lexical index's commit

            await using var reopened = await PaperDatabase.OpenAsync(dir);
            Assert.Equal(1, reopened.Recovery.ReplayedBatches);
            Assert.Null(reopened.LexicalRebuilt);
            Assert.Equal(papers[2].Key, Lexical(reopened, "DINOv2")[0]);
            Assert.Empty(Lexical(reopened, "LoRA"));
            Assert.True(reopened.IndexMatchesStore(out var problem), problem);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("damaged")]
    public async Task AMissingOrDamagedLexicalIndexIsRebuiltFromTheStore(string how)
    {
        string dir = StoreTestData.TempDir();
        var papers = Papers(new Random(3));
        try
        {
            await using (var db = await PaperDatabase.OpenAsync(dir)) db.Commit(papers.Aggregate(new WriteBatch(), (b, p) => b.PutPaper(p)));
            string lexical = Path.Combine(dir, "lexical");
            if (how == "missing") Directory.Delete(lexical, true);
            else foreach (var file in Directory.GetFiles(lexical, "segments_*")) File.WriteAllBytes(file, new byte[64]);

            var notes = new List<string>();
            await using var reopened = await PaperDatabase.OpenAsync(dir, new PaperDatabaseOptions { Log = notes.Add });
            Assert.NotNull(reopened.LexicalRebuilt);
            Assert.Contains(notes, n => n.Contains("lexical index"));
            Assert.Equal(papers[1].Key, Lexical(reopened, "LoRA")[0]);
            Assert.True(reopened.IndexMatchesStore(out var problem), problem);
        }
        finally { Directory.Delete(dir, true); }
    }
}
