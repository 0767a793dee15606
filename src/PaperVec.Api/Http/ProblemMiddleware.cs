using Microsoft.AspNetCore.Mvc;

namespace PaperVec.Api.Http;

/// <summary>
/// Turns every failure into problem details with a clear `detail`: refusals the routes raise, bad
/// input the parsers find, Kestrel's own refusals (a body over the limit is 413), and, as a last
/// resort, a 500 that names the error type without leaking a stack trace.
/// </summary>
public sealed class ProblemMiddleware(RequestDelegate next, ILogger<ProblemMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context, IProblemDetailsService problems)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            var (status, detail) = e switch
            {
                ApiProblemException p => (p.StatusCode, p.Message),
                BadHttpRequestException b => (b.StatusCode, b.StatusCode == StatusCodes.Status413PayloadTooLarge ? "the request body is larger than the server accepts" : b.Message),
                InvalidDataException d => (StatusCodes.Status400BadRequest, d.Message),
                _ => (StatusCodes.Status500InternalServerError, $"internal error ({e.GetType().Name})"),
            };
            if (status >= 500) logger.LogError(e, "request {Path} failed", context.Request.Path);
            context.Response.Clear();
            context.Response.StatusCode = status;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails { Status = status, Detail = detail },
                Exception = e,
            });
        }
    }
}
