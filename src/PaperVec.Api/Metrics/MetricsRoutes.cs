using OpenTelemetry.Metrics;
using PaperVec.Api.Hosting;
using PaperVec.Api.Security;

namespace PaperVec.Api.Metrics;

/// <summary>
/// The OpenTelemetry meter provider of the server (PaperVec's meter and ASP.NET Core's hosting and
/// Kestrel meters) and GET /metrics, which serves it in Prometheus text through OpenTelemetry's
/// Prometheus exporter.
/// </summary>
public static class MetricsRoutes
{
    /// <summary>ASP.NET Core's meters: request duration and requests in flight (hosting), connections (Kestrel).</summary>
    static readonly string[] AspNetCoreMeters = ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"];

    public static IServiceCollection AddServerMetrics(this IServiceCollection services, ServerMetrics metrics)
    {
        services.AddSingleton(_ => metrics); // through a factory, so the container disposes it (and its meter) with the host
        services.AddOpenTelemetry().WithMetrics(meters => meters
            .AddMeter([ServerMetrics.MeterName, .. AspNetCoreMeters])
            // Each scrape collects afresh (the default caches the answer for 300 ms).
            .AddPrometheusExporter(options => options.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    public static void Map(IEndpointRouteBuilder app)
    {
        // OpenTelemetry's scrape middleware in a pipeline of its own, answering every request given to
        // it; called from a route handler, /metrics keeps the API-key filter (with a key configured,
        // scrapers send it: the store size is not for everyone) and its place in the OpenAPI document.
        var pipeline = app.CreateApplicationBuilder();
        pipeline.UseOpenTelemetryPrometheusScrapingEndpoint(_ => true);
        var scrape = pipeline.Build();
        Func<HttpContext, Task> handler = context => scrape(context); // a Delegate, not a RequestDelegate: a route handler, so filters apply
        app.MapGet("/metrics", handler)
            .RequireApiKey()
            .WithTags("Health")
            .WithSummary("Prometheus text format: request duration and requests in flight (ASP.NET Core's), embedding batches and queue time, ingests, index and store size");
    }
}
