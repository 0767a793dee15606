using System.Text.Json;
using PaperVec.Embedding;

namespace PaperVec.Tests.Embedding;

/// <summary>
/// Our tokenizer against Hugging Face tokenizers on the committed fixture (regenerate with
/// `node tests/fixtures/gen-tokenizer-fixture.mjs`): every case must give the same ids.
/// </summary>
public class BertTokenizerGoldenTests
{
    static readonly Lazy<BertTokenizer> Tokenizer = new(() =>
        BertTokenizer.Load(Path.Combine(RepoPaths.WeightsPackageDir, "tokenizer.json")));

    public static IEnumerable<object[]> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(RepoPaths.Fixtures, "tokenizer-expected.json")));
        int index = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
            yield return [index++, c.GetProperty("text").GetString()!,
                c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                c.GetProperty("ids256").EnumerateArray().Select(e => e.GetInt32()).ToArray()];
    }

    [Fact]
    public void FixtureHasEnoughVariedCases() => Assert.True(Cases().Count() >= 300);

    [Theory]
    [MemberData(nameof(Cases))]
    public void IdsEqualHuggingFace(int index, string text, int[] ids, int[] ids256)
    {
        _ = index; // shown in the test name, so a failure points at the fixture line
        Assert.Equal(ids, Tokenizer.Value.Encode(text, int.MaxValue));
        Assert.Equal(ids256, Tokenizer.Value.Encode(text, 256));
    }

    [Fact]
    public void EncodingIntoASpanAllocatesNothingPerToken()
    {
        var tokenizer = Tokenizer.Value;
        string abstractText = string.Join(" ", Enumerable.Repeat("Transformers achieve state-of-the-art results in 3.5GHz naïve settings.", 40));
        var ids = new int[512];
        tokenizer.Encode(abstractText, ids, 512); // warm the pools
        long before = GC.GetAllocatedBytesForCurrentThread();
        int count = 0;
        for (int i = 0; i < 10; i++) count = tokenizer.Encode(abstractText, ids, 512);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(512, count);
        Assert.Equal(0, allocated);
    }
}
