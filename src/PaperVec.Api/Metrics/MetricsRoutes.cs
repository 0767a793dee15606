using System.Diagnostics;
using PaperVec.Api.Hosting;
using PaperVec.Api.Security;

namespace PaperVec.Api.Metrics;

/// <summary>GET /metrics, and the middleware that counts and times every request by its route pattern and counts those in flight.</summary>
public static class MetricsRoutes
{
    public static void Map(IEndpointRouteBuilder app) =>
        // Same rule as writes: with an API key configured, scrapers send it (the store size is not for everyone).
        app.MapGet("/metrics", (ServedCollection library) => TypedResults.Text(library.Metrics.Exposition(library.Database), PrometheusText.ContentType))
            .RequireApiKey()
            .WithTags("Health")
            .WithSummary("Prometheus text format: requests and latency per route, embedding batches, ingests, index and store size");

    /// <summary>
    /// Labels by route pattern ("/papers/{id}"), never by raw path, so ids do not multiply the series;
    /// requests that matched no route share one label.
    /// </summary>
    public static IApplicationBuilder UseRequestMetrics(this IApplicationBuilder app, ServerMetrics metrics) =>
        app.Use(async (context, next) =>
        {
            long start = Stopwatch.GetTimestamp();
            metrics.RequestStarted();
            try { await next(context); }
            finally
            {
                string route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText is { } pattern ? "/" + pattern.Trim('/') : "unmatched";
                metrics.RecordRequest(route, context.Request.Method, context.Response.StatusCode, Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
        });
}
