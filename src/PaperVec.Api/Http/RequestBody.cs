using PaperVec.Digests;

namespace PaperVec.Api.Http;

/// <summary>
/// Reads a request body as strict UTF-8 text within the size limit. Kestrel enforces the limit
/// too; checking it here as well keeps the answer (413 with a clear detail) the same under any server.
/// </summary>
public static class RequestBody
{
    public static async Task<string> ReadTextAsync(HttpRequest request, long maxBytes, string what)
    {
        if (request.ContentLength > maxBytes) throw TooLarge(maxBytes);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > maxBytes) throw TooLarge(maxBytes);
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0) throw ApiProblemException.BadRequest($"{what} is empty");
        return DigestParser.DecodeText(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), what);
    }

    static ApiProblemException TooLarge(long maxBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, $"the request body is larger than {maxBytes / (1 << 20)} MB; send fewer papers per request");
}
