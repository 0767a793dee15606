using PaperVec.Ingest;

namespace PaperVec.Tests.Ingest;

public class PaperRecordReaderTests
{
    [Fact]
    public void JsonLinesSkipBlankLinesAcceptCrlfAndNameTheBadLine()
    {
        string text = "{\"id\":\"a.1\",\"title\":\"First\",\"abstract\":\"One.\"}\r\n\r\n   \t\n{\"id\":\"a.2\",\"title\":\"Second\",\"abstract\":\"Two.\",\"vector\":[3,4]}";
        var papers = PaperRecordReader.ReadAll(text, "body");
        Assert.Equal(["First", "Second"], papers.Select(p => p.Title));
        Assert.Equal([0.6f, 0.8f], papers[1].Vector!);

        var bad = "{\"title\":\"Fine\",\"abstract\":\"x\"}\n\n{\"title\":\"Broken\",\n{\"title\":\"Never read\"}";
        var error = Assert.Throws<InvalidDataException>(() => PaperRecordReader.ReadAll(bad, "body"));
        Assert.StartsWith("body:3: invalid JSON", error.Message);
    }

    [Theory]
    [InlineData("{\"title\":\"T\",\"summary\":\"A.\"}", "body:1: unknown field 'summary'; PaperVec calls it 'abstract'")]
    [InlineData("{\"title\":\"T\",\"abstract\":\"A.\",\"published\":\"2025-03-11\"}", "body:1: unknown field 'published'; PaperVec calls it 'date'")]
    [InlineData("{\"title\":\"T\",\"abstract\":\"A.\",\"bogus\":1}", "body:1: unknown field 'bogus'; the fields are 'id', 'title'")]
    [InlineData("{\"title\":\"T\",\"abstract\":\"A.\",\"listing_date\":\"03/04/2026\"}", "body:1: date '03/04/2026' is not an ISO 8601 date")]
    [InlineData("{\"title\":\"T\",\"abstract\":\"A.\",\"date\":\"2026-03-04x\"}", "body:1: date '2026-03-04x' is not an ISO 8601 date")]
    [InlineData("{\"title\":\"T\",\"abstract\":\"A.\",\"date\":\"2026-03-04\",\"listing_date\":\"2026-03-05\"}", "body:1: record has both 'date' and 'listing_date'")]
    [InlineData("{\"title\":\"Only a title\"}", "body:1: record has no abstract")]
    public void RecordsAreReadStrictly(string line, string error) =>
        Assert.StartsWith(error, Assert.Throws<InvalidDataException>(() => PaperRecordReader.ReadAll(line, "body")).Message);

    [Fact]
    public void IsoDatesAndArxivsCommentAreRead()
    {
        var papers = PaperRecordReader.ReadAll(
            "{\"title\":\"A\",\"abstract\":\"x\",\"listing_date\":\"2025-03-18\",\"comment\":\"12 pages\"}\n" +
            "{\"title\":\"B\",\"abstract\":\"y\",\"date\":\"2025-03-19T08:00:00Z\"}", "body");
        Assert.Equal([new DateOnly(2025, 3, 18), new DateOnly(2025, 3, 19)], papers.Select(p => p.Date!.Value));
    }
}
