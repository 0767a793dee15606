using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using PaperVec.Storage;

namespace PaperVec.Tests.Api;

/// <summary>A paper listed again under a reworded title: the ingest answer, the digest view and GET /duplicates all say so.</summary>
public class RetitledDigestTests
{
    const string Abstract = "We propose a method for compressing gradients in distributed training. It reduces communication by 99.9 percent. "
        + "Experiments on ImageNet and Penn Treebank show no loss of accuracy. The method needs no change to the model. Code is released.";

    internal static StringContent Digest(string dateLine, string title) =>
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

    [Fact]
    public async Task TheDigestViewAnswersSameAsFromTheDecisionStoredAtIngest()
    {
        await using var server = await ApiServer.StartAsync();
        await server.Client.PostAsync("/digests?name=monday", Digest("2025-03-10", "Deep Gradient Compression for Distributed Training"));
        await server.Client.PostAsync("/digests?name=tuesday", Digest("2025-03-11", "Compressing Gradients: Communication-Efficient Distributed Training"));
        var db = server.Database;
        long original = PaperIdentity.KeyOfTitle("Deep Gradient Compression for Distributed Training");
        long copy = PaperIdentity.KeyOfTitle("Compressing Gradients: Communication-Efficient Distributed Training");
        long protein = PaperIdentity.KeyOfTitle("An Unrelated Paper on Protein Folding");
        var tuesday = db.Catalog.GetDigest("2025-03-11/tuesday")!;
        Assert.True(tuesday.HasStoredCopies);
        Assert.Equal([original, 0L], tuesday.StoredCopies); // the decision, kept with the digest
        Assert.Equal([0L, 0L], db.Catalog.GetDigest("2025-03-10/monday")!.StoredCopies);

        async Task<string?> SameAsOfCopy() =>
            (await server.Client.GetFromJsonAsync<JsonElement>("/digests/2025-03-11/tuesday")).GetProperty("papers").EnumerateArray()
                .Single(p => p.GetProperty("id").GetString() == PaperIdentity.Format(copy)).GetProperty("sameAs").GetString();

        // A stored decision no search would make (the protein paper, also listed on monday) is what the view shows: it does not search again.
        await db.CommitAsync(new WriteBatch().PutDigest(tuesday with { StoredCopies = [protein, 0] }));
        Assert.Equal(PaperIdentity.Format(protein), await SameAsOfCopy());

        // A digest from before layout 3 (no decisions stored) is decided at view time, as before.
        await db.CommitAsync(new WriteBatch().PutDigest(tuesday with { StoredCopies = [] }));
        Assert.False(db.Catalog.GetDigest("2025-03-11/tuesday")!.HasStoredCopies);
        Assert.Equal(PaperIdentity.Format(original), await SameAsOfCopy());
    }

    [Fact]
    public async Task ADigestBackfilledBeforeALaterOneMarksTheLaterListingAsItsCopy()
    {
        await using var server = await ApiServer.StartAsync();
        // Tuesday's digest is ingested first; Monday's, with the same paper under another title, later.
        await server.Client.PostAsync("/digests?name=tuesday", Digest("2025-03-11", "Compressing Gradients: Communication-Efficient Distributed Training"));
        await server.Client.PostAsync("/digests?name=monday", Digest("2025-03-10", "Deep Gradient Compression for Distributed Training"));
        var view = await server.Client.GetFromJsonAsync<JsonElement>("/digests/2025-03-11/tuesday");
        var copy = view.GetProperty("papers").EnumerateArray().Single(p => p.GetProperty("title").GetString()!.StartsWith("Compressing"));
        Assert.Equal(["2025-03-10/monday"], copy.GetProperty("seenIn").EnumerateArray().Select(d => d.GetString()));
        Assert.Equal(PaperIdentity.Format(PaperIdentity.KeyOfTitle("Deep Gradient Compression for Distributed Training")), copy.GetProperty("sameAs").GetString());
    }
}
