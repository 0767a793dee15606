using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace PaperVec.Tests.Api;

/// <summary>A paper listed again under a reworded title: the ingest answer, the digest view and GET /duplicates all say so.</summary>
public class RetitledDigestTests
{
    const string Abstract = "We propose a method for compressing gradients in distributed training. It reduces communication by 99.9 percent. "
        + "Experiments on ImageNet and Penn Treebank show no loss of accuracy. The method needs no change to the model. Code is released.";

    static StringContent Digest(string dateLine, string title) =>
        new($"{dateLine}\n\n{title}\n\n{Abstract}\n\nAn Unrelated Paper on Protein Folding\n\nWe fold proteins with a new energy model and report results on CASP targets.\n", Encoding.UTF8, "text/plain");

    [Fact]
    public async Task RetitledCopyIsReportedAtIngestInTheDigestViewAndAsADuplicateGroup()
    {
        await using var server = await ApiServer.StartAsync();
        var first = await server.Client.PostAsync("/digests?name=monday", Digest("2025-03-10", "Deep Gradient Compression for Distributed Training"));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var second = await server.Client.PostAsync("/digests?name=tuesday", Digest("2025-03-11", "Compressing Gradients: Communication-Efficient Distributed Training"));
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        var answer = await second.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, answer.GetProperty("retitled").GetInt32());
        Assert.Equal("2 of 2 papers already seen (1 exact, 0 revised, 1 retitled)", answer.GetProperty("summary").GetString());

        var view = await server.Client.GetFromJsonAsync<JsonElement>("/digests/2025-03-11/tuesday");
        var copy = view.GetProperty("papers").EnumerateArray().Single(p => p.GetProperty("title").GetString()!.StartsWith("Compressing"));
        Assert.True(copy.GetProperty("seenBefore").GetBoolean());
        Assert.Equal(["2025-03-10/monday"], copy.GetProperty("seenIn").EnumerateArray().Select(d => d.GetString()));
        Assert.False(string.IsNullOrEmpty(copy.GetProperty("sameAs").GetString()));

        var groups = (await server.Client.GetFromJsonAsync<JsonElement>("/duplicates")).GetProperty("groups").EnumerateArray().ToList();
        Assert.Equal(["exact", "retitled"], groups.Select(g => g.GetProperty("kind").GetString()).Order());
    }
}
