using System.Buffers.Binary;
using System.IO.Hashing;
using PaperVec.Bench.Evaluation;
using PaperVec.Recommend;

namespace PaperVec.Tests.Bench;

/// <summary>`papervec eval recommend`'s tasks and statistics (the corpus itself is not needed: a small listing stands in).</summary>
public class RecommendEvaluationTests
{
    static readonly DateOnly TestFrom = new(2025, 12, 15);

    /// <summary>
    /// Two co-authors with four joint papers before the window and one on a test day, filler papers
    /// by others on every day: keys are the paper's index + 1.
    /// </summary>
    static List<ListedPaper> Listing()
    {
        var papers = new List<ListedPaper>();
        for (int i = 0; i < 4; i++) papers.Add(new("joint" + i, "t", "a", ["Ada Lovelace", "Charles Babbage", "Third " + i], ["cs.LG"], new DateOnly(2025, 11, 1 + i)));
        papers.Add(new("solo", "t", "a", ["Ada Lovelace"], ["cs.LG"], new DateOnly(2025, 11, 10)));
        for (int i = 0; i < 150; i++) papers.Add(new("other" + i, "t", "a", ["Someone " + i], ["cs.CV"], i < 30 ? new DateOnly(2025, 11, 20) : new DateOnly(2025, 12, 16)));
        papers.Add(new("later", "t", "a", ["Charles Babbage", "Ada Lovelace"], ["cs.LG"], new DateOnly(2025, 12, 16)));
        return papers;
    }

    static long? KeyOf(List<ListedPaper> papers, string id) => papers.FindIndex(p => p.Id == id) + 1;

    [Fact]
    public void AnAuthorPairsLibraryIsItsEarlierJointPapersAndItsLaterJointPaperHides()
    {
        var papers = Listing();
        var nearMisses = new List<long> { 900, 901 };
        var asked = new List<(IReadOnlyList<long> Liked, int Count)>();
        var tasks = LibrarySizeEvaluation.Tasks(papers, id => KeyOf(papers, id), TestFrom, 100, (liked, allowed, count) =>
        {
            asked.Add((liked, count));
            Assert.False(allowed(KeyOf(papers, "joint0")!.Value)); // the pair's own papers are never a near miss
            Assert.True(allowed(KeyOf(papers, "other0")!.Value));
            Assert.False(allowed(KeyOf(papers, "later")!.Value)); // nor a paper of the test window
            return nearMisses;
        });
        long later = KeyOf(papers, "later")!.Value;
        var pair = tasks.Where(t => t.Proxy == "author-pair").ToList();
        Assert.Equal(new[] { 1, 3 }, pair.Select(t => t.Size).Order()); // four joint papers: 5 liked and more are out of reach
        foreach (var task in pair)
        {
            Assert.Equal("Ada Lovelace & Charles Babbage", task.Name);
            Assert.Equal(Enumerable.Range(4 - task.Size, task.Size).Select(i => KeyOf(papers, "joint" + i)!.Value), task.Liked); // the latest joint papers
            Assert.Equal(new[] { later }, task.Wanted);
            Assert.Contains(later, task.Listing);
            Assert.Equal(LibrarySizeEvaluation.ListingSize, task.Listing.Count);
            Assert.All(task.Listing, key => Assert.Equal(new DateOnly(2025, 12, 16), papers[(int)key - 1].Listed)); // one day's listing
            var disliked = Assert.Single(tasks, t => t.Proxy == "author-pair+disliked" && t.Size == task.Size);
            Assert.Equal(nearMisses, disliked.Disliked);
            Assert.Equal(task.Liked, disliked.Liked);
        }
        Assert.All(asked, a => Assert.Equal(Math.Min(a.Liked.Count, LibrarySizeEvaluation.MaxDisliked), a.Count));
        // Ada alone has five papers before the window: her author tasks reach 5 liked, and her last paper is the solo one.
        var ada = tasks.Where(t => t.Proxy == "author" && t.Name == "Ada Lovelace").ToList();
        Assert.Equal(new[] { 1, 3, 5 }, ada.Select(t => t.Size).Order());
        Assert.Equal(KeyOf(papers, "solo")!.Value, ada.Single(t => t.Size == 1).Liked.Single());
        // Every task hiding the same paper falls in one part, whichever author or pair it stands for.
        Assert.Single(tasks.Where(t => t.Wanted.Contains(later)).Select(t => t.Tuning).Distinct());
        Assert.Single(tasks.Where(t => t.Wanted.Contains(later)).Select(LibrarySizeEvaluation.Fold).Distinct());
    }

    [Fact]
    public void TheDefaultAgainstABaselineCountsWinsTiesAndLossesAndBracketsTheDifference()
    {
        double[] a = [1, 0.5, 0.2, 0.3, 1, 0.25];
        double[] b = [0.5, 0.5, 0.3, 0.1, 1, 0.2];
        var paired = LibrarySizeEvaluation.Paired(a, b);
        Assert.Equal((3, 2, 1), (paired.Wins, paired.Ties, paired.Losses));
        Assert.Equal(a.Zip(b, (x, y) => x - y).Average(), paired.Difference, 12);
        Assert.InRange(paired.Difference, paired.Low, paired.High);
        Assert.True(paired.Low < paired.High);
        Assert.Equal(paired, LibrarySizeEvaluation.Paired(a, b)); // seeded: a run prints the same interval
        var same = LibrarySizeEvaluation.Paired(a, a);
        Assert.Equal((0, 6, 0, 0.0, 0.0, 0.0), same);
        Assert.Throws<ArgumentException>(() => LibrarySizeEvaluation.Paired(a, b[..5]));
    }

    [Fact]
    public void MeasuringScoresInPlaceAgreesWithSortingThem()
    {
        var random = new Random(7);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = random.Next(1, 40);
            var keys = Enumerable.Range(0, n).Select(_ => (long)random.Next(1, 1000)).Distinct().Order().ToArray();
            var scores = keys.Select(_ => (double)random.Next(0, 6)).ToArray(); // many ties: broken by key
            var wanted = keys.Select(_ => random.NextDouble() < 0.2).ToArray();
            var wantedSet = keys.Where((_, i) => wanted[i]).ToHashSet();
            var sorted = LibrarySizeEvaluation.Measure(LibrarySizeEvaluation.Ranked(keys.Select((k, i) => (k, i)).ToDictionary(x => x.k, x => scores[x.i])), wantedSet);
            var inPlace = LibrarySizeEvaluation.Measure(keys, scores, wanted, wantedSet.Count);
            Assert.Equal(sorted.Rr, inPlace.Rr, 12);
            Assert.Equal(sorted.Hit, inPlace.Hit, 12);
            Assert.Equal(sorted.Ndcg, inPlace.Ndcg, 12);
        }
    }

    [Fact]
    public void TheBackgroundSampleSeedIsTheSameInEveryProcess()
    {
        // XxHash32 of the liked keys, little-endian, in order: nothing seeded per process (HashCode.Combine is),
        // so two runs of the evaluation, a restarted node and every silo draw one library's same sample.
        long[] liked = [5985081666954488396, 2, 3];
        var bytes = new byte[8 * liked.Length];
        for (int i = 0; i < liked.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8 * i), liked[i]);
        Assert.Equal((int)XxHash32.HashToUInt32(bytes), Recommender.BackgroundSeed(liked));
        Assert.NotEqual(Recommender.BackgroundSeed(liked), Recommender.BackgroundSeed(liked.Reverse()));
    }
}
