using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using PaperVec.Api.Digests;
using PaperVec.Api.Health;
using PaperVec.Api.Http;
using PaperVec.Api.Hosting;
using PaperVec.Api.Metrics;
using PaperVec.Api.Page;
using PaperVec.Api.Papers;
using PaperVec.Api.Search;
using PaperVec.Api.Security;

namespace PaperVec.Api.Hosting;

/// <summary>
/// Builds the `papervec serve` application: Kestrel on loopback by default, the routes, problem
/// details for every error, metrics, OpenAPI and the search page. The data directory is opened
/// (and recovered) here, before anything listens; it is checkpointed and closed when the host is
/// disposed, after Kestrel has finished the requests in flight (SIGTERM and Ctrl+C both get there).
/// </summary>
public static class PaperVecServer
{
    /// <param name="configure">Changes to the builder before it is built (tests put a TestServer in Kestrel's place).</param>
    public static WebApplication Create(ServerOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder();
        configure?.Invoke(builder);

        string? key = options.ApiKey ?? Environment.GetEnvironmentVariable(ServerOptions.ApiKeyVariable) ?? builder.Configuration[ServerOptions.ApiKeyConfigKey];
        // Kestrel endpoints in configuration (appsettings.json, Kestrel__Endpoints__* variables) replace --urls: check those too.
        var configured = builder.Configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>().ToList();
        if (ListenAddresses.NonLoopback([.. options.Urls, .. configured]) is [var open, ..] && string.IsNullOrEmpty(key))
            throw new ServerStartException($"refusing to listen on {open} without an API key: set {ServerOptions.ApiKeyVariable} (or {ServerOptions.ApiKeyConfigKey} in configuration), or listen on 127.0.0.1");

        builder.WebHost.UseUrls([.. options.Urls]);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            // Room above RequestTargetLimit.MaxChars, so an overlong URL gets PaperVec's 414 problem details, not Kestrel's bare 414.
            kestrel.Limits.MaxRequestLineSize = 4 * RequestTargetLimit.MaxChars;
            kestrel.AddServerHeader = false;
        });
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi(openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "PaperVec";
            document.Info.Description = "Semantic search over research-paper abstracts. Errors are RFC 7807 problem details.";
            return Task.CompletedTask;
        }));

        var apiKey = new ApiKey(key);
        var metrics = new ServerMetrics();
        builder.Services.AddServerMetrics(metrics);
        builder.Services.AddSingleton(new ServerLimits(options.MaxBodyBytes, options.MaxQueryChars, options.MaxPapersPerRequest));
        builder.Services.AddSingleton(apiKey);
        return options.Cluster is { } cluster
            ? CreateClusterServer(builder, options, cluster, metrics, key)
            : CreateNodeServer(builder, options, metrics, key);
    }

    /// <summary>`serve`: one node's data directory, opened and recovered before anything listens.</summary>
    static WebApplication CreateNodeServer(WebApplicationBuilder builder, ServerOptions options, ServerMetrics metrics, string? key)
    {
        var library = ServedCollection.Open(options, metrics);
        try
        {
            // Registered through a factory so the container owns it: disposing the host checkpoints and closes the store.
            builder.Services.AddSingleton(_ => library);
            builder.Services.AddSingleton<IServedPapers>(services => services.GetRequiredService<ServedCollection>());
            metrics.Observe(library.Database);

            var app = builder.Build();
            _ = app.Services.GetRequiredService<ServedCollection>(); // resolve now, so the container disposes it even if no request came
            UseCommon(app);
            MapShared(app);
            HealthRoutes.Map(app);

            if (options.Log is { } log)
            {
                app.Lifetime.ApplicationStarted.Register(() =>
                    log($"serving {library.Database.PaperCount} papers from {library.Database.Root} on {string.Join(", ", Addresses(app))}{(string.IsNullOrEmpty(key) ? "" : " (writes need X-Api-Key)")}"));
                library.WhenModelLoaded.ContinueWith(t => log(t.IsCompletedSuccessfully ? "model loaded; ready" : $"not ready: {library.NotReadyReason}"), TaskScheduler.Default);
            }
            return app;
        }
        catch
        {
            library.Dispose();
            throw;
        }
    }

    /// <summary>
    /// `serve --cluster`: the same routes as a client of a cluster's silos (the Orleans client starts
    /// with the host, before Kestrel listens); only /ready answers differently (replica health).
    /// </summary>
    static WebApplication CreateClusterServer(WebApplicationBuilder builder, ServerOptions options, ClusterConnection cluster, ServerMetrics metrics, string? key)
    {
        try { PaperVec.Cluster.Hosting.ClusterClientHost.AddClusterClient(builder, cluster.Endpoints, cluster.Silos, cluster.Membership, cluster.Certificate); }
        catch (PaperVec.Cluster.ShardUnavailableException e) { throw new ServerStartException(e.Message); }
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<ServedCluster>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ServedCluster>());
        builder.Services.AddSingleton<IServedPapers>(services => services.GetRequiredService<ServedCluster>());

        var app = builder.Build();
        UseCommon(app);
        MapShared(app);
        HealthRoutes.MapAlive(app);
        Cluster.ClusterRoutes.Map(app);
        if (options.Log is { } log)
            app.Lifetime.ApplicationStarted.Register(() =>
            {
                var served = app.Services.GetRequiredService<ServedCluster>();
                var layout = served.Cluster.Layout;
                log($"serving a cluster of {layout.Shards} shards x {layout.Replicas} replicas on {layout.Silos} silos ({served.PaperCount} papers) on {string.Join(", ", Addresses(app))}{(string.IsNullOrEmpty(key) ? "" : " (writes need X-Api-Key)")}");
                served.WhenModelLoaded.ContinueWith(t => log(t.IsCompletedSuccessfully ? "model loaded; ready" : $"not ready: {served.NotReadyReason}"), TaskScheduler.Default);
            });
        return app;
    }

    /// <summary>Problem details for every error, the loopback rule without a key, the URL length limit.</summary>
    static void UseCommon(WebApplication app)
    {
        app.UseMiddleware<ProblemMiddleware>();
        app.UseLoopbackOnlyWithoutKey(app.Services.GetRequiredService<ApiKey>());
        app.UseRequestTargetLimit();
        app.UseStatusCodePages(ProblemMiddleware.WriteStatusProblemAsync); // unknown routes and methods get problem details too
    }

    /// <summary>The routes one node and a cluster answer alike (through <see cref="IServedPapers"/>), the page, metrics and OpenAPI.</summary>
    static void MapShared(WebApplication app)
    {
        PageRoutes.Map(app);
        SearchRoutes.Map(app);
        PaperRoutes.Map(app);
        DigestRoutes.Map(app);
        Recommend.RecommendRoutes.Map(app);
        Libraries.LibraryRoutes.Map(app);
        Duplicates.DuplicateRoutes.Map(app);
        MetricsRoutes.Map(app);
        app.MapOpenApi(); // /openapi/v1.json
    }

    static ICollection<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];

    /// <summary>
    /// After the server started: every address it actually bound (after all configuration) must be
    /// loopback unless an API key is set. Throws <see cref="ServerStartException"/> naming the address.
    /// </summary>
    public static void CheckBoundAddresses(WebApplication app)
    {
        var addresses = Addresses(app);
        if (!app.Services.GetRequiredService<ApiKey>().IsRequired && ListenAddresses.NonLoopback(addresses) is [var open, ..])
            throw new ServerStartException($"refusing to serve on {open} without an API key (configuration bound it): set {ServerOptions.ApiKeyVariable}, or listen on 127.0.0.1");
    }
}
