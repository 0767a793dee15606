using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using PaperVec.Storage;
using PaperVec.Engine;

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
                // The disk refused a write: nothing of it is stored; 507 when it is full, else 503 (retry later).
                StorageFaultException f => (f.InsufficientSpace ? StatusCodes.Status507InsufficientStorage : StatusCodes.Status503ServiceUnavailable, f.Message),
                // A stored record failed its checksum: it is not served (never a 200 with damaged data).
                RecordDamagedException d => (StatusCodes.Status500InternalServerError, d.Message),
                // The lexical index is being rebuilt from the store (derived data): lexical answers come back once it is.
                PaperVec.Lexical.LexicalUnavailableException l => (StatusCodes.Status503ServiceUnavailable, l.Message),
                RecordTooLargeException r => (StatusCodes.Status413PayloadTooLarge, r.Message),
                PaperVec.Engine.ModelNotReadyException m => (StatusCodes.Status503ServiceUnavailable,
                    context.RequestServices.GetService<PaperVec.Api.Hosting.ServedPapers>()?.NotReadyReason ?? m.Message),
                // A cluster shard with no replica answering (the cluster's CollectionUnavailableException): the answer would be incomplete, so none is given.
                PaperVec.Engine.CollectionUnavailableException u => (StatusCodes.Status503ServiceUnavailable, u.Message),
                BadHttpRequestException b => (b.StatusCode, b.StatusCode == StatusCodes.Status413PayloadTooLarge ? "the request body is larger than the server accepts" : b.Message),
                InvalidDataException d => (StatusCodes.Status400BadRequest, d.Message),
                UnknownPapersException u => (StatusCodes.Status404NotFound, u.Message),
                DigestNotFoundException n => (StatusCodes.Status404NotFound, n.Message),
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

    /// <summary>For UseStatusCodePages: an empty error answer (no route, method not allowed) becomes problem details saying what was asked.</summary>
    public static Task WriteStatusProblemAsync(Microsoft.AspNetCore.Diagnostics.StatusCodeContext status)
    {
        var context = status.HttpContext;
        int code = context.Response.StatusCode;
        string detail = code switch
        {
            StatusCodes.Status404NotFound => $"no route {context.Request.Method} {context.Request.Path}",
            StatusCodes.Status405MethodNotAllowed => $"{context.Request.Method} is not allowed on {context.Request.Path}",
            _ => ReasonPhrases.GetReasonPhrase(code),
        };
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = code, Detail = detail },
        }).AsTask();
    }
}
