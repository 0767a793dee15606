using PaperVec.Digests;

namespace PaperVec.Tests.Digests;

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
}
