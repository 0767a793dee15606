using System.Buffers;
using PaperVec.Ingest;

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
        // One pooled buffer, sized from Content-Length when it is given (one byte over, so the end is
        // seen without growing): a bulk ingest's body is megabytes, and a growing MemoryStream left
        // every size it passed through on the large-object heap (gen2 collections under load).
        int limit = (int)Math.Min(maxBytes, Array.MaxLength - 1);
        long expected = Math.Min((request.ContentLength ?? 0) + 1, limit + 1L);
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(expected, 4096));
        try
        {
            int length = 0, read;
            while ((read = await request.Body.ReadAsync(buffer.AsMemory(length), request.HttpContext.RequestAborted)) > 0)
            {
                length += read;
                if (length > limit) throw TooLarge(maxBytes);
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(2L * buffer.Length, limit + 1L));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
            if (length == 0) throw ApiProblemException.BadRequest($"{what} is empty");
            return DigestParser.DecodeText(buffer.AsSpan(0, length), what);
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    static ApiProblemException TooLarge(long maxBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, $"the request body is larger than {maxBytes / (1 << 20)} MB; send fewer papers per request");
}
