namespace PaperVec.Api.Http;

/// <summary>
/// Overlong URLs get 414 as problem details from here; Kestrel's own limit (set above this one)
/// would answer a bare 414 before any middleware runs. Long searches belong in POST /search.
/// </summary>
public static class RequestTargetLimit
{
    public const int MaxChars = 16 * 1024;

    public static IApplicationBuilder UseRequestTargetLimit(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            var request = context.Request;
            long length = (request.PathBase.Value?.Length ?? 0) + (request.Path.Value?.Length ?? 0) + (request.QueryString.Value?.Length ?? 0);
            if (length > MaxChars)
                throw new ApiProblemException(StatusCodes.Status414UriTooLong, $"the URL is {length:N0} characters; at most {MaxChars:N0} (send long search text with POST /search)");
            return next(context);
        });
}
