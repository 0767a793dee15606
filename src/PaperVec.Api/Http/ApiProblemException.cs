namespace PaperVec.Api.Http;

/// <summary>
/// A request the server will not carry out, with the status and the one-sentence reason the client
/// gets as RFC 7807 problem details. Thrown before anything is written, so it never leaves partial state.
/// </summary>
public sealed class ApiProblemException(int statusCode, string detail) : Exception(detail)
{
    public int StatusCode { get; } = statusCode;

    public static ApiProblemException BadRequest(string detail) => new(StatusCodes.Status400BadRequest, detail);
    public static ApiProblemException NotFound(string detail) => new(StatusCodes.Status404NotFound, detail);
    public static ApiProblemException Unavailable(string detail) => new(StatusCodes.Status503ServiceUnavailable, detail);
}
