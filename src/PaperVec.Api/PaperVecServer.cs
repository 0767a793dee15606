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
using PaperVec.Engine;
using PaperVec.Storage;

namespace PaperVec.Api;

/// <summary>
/// Builds the `papervec serve` application: Kestrel on loopback by default, the routes, problem
/// details for every error, metrics, OpenAPI and the search page. The data directory is opened
/// (and recovered) here, before anything listens; it is checkpointed and closed when the host is
/// disposed, after Kestrel has finished the requests in flight (SIGTERM and Ctrl+C both get there).
/// </summary>
public static class PaperVecServer
{
    /// <summary>`serve`: one node's data directory (<see cref="ServerOptions.DataPath"/>), opened and recovered before anything listens.</summary>
    /// <param name="configure">Changes to the builder before it is built (tests put a TestServer in Kestrel's place).</param>
    public static Task<WebApplication> CreateAsync(ServerOptions options, Action<WebApplicationBuilder>? configure = null) =>
        CreateAsync(options, connect: null, configure);

    /// <summary>
    /// The server over a collection another host part supplies: <paramref name="connect"/> runs when
    /// the host starts, after the services <paramref name="configure"/> added (`serve --cluster`: the
    /// command line adds the cluster's client and connects the cluster's collection). Null: one node's data directory.
    /// </summary>
    public static async Task<WebApplication> CreateAsync(ServerOptions options, Func<IServiceProvider, CancellationToken, Task<IPaperCollection>>? connect,
        Action<WebApplicationBuilder>? configure = null)
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

        ServedPapers? served = connect == null ? new ServedPapers(await OpenNodeAsync(options).ConfigureAwait(false), options, metrics) : null;
        try
        {
            // Registered through a factory so the container owns it: disposing the host closes the collection (one node checkpoints).
            if (served != null) builder.Services.AddSingleton(_ => served);
            else builder.Services.AddSingleton(services => new ServedPapers(cancel => connect!(services, cancel), options, metrics));
            // E-mail digests: a background sender when an SMTP server is configured (never in an ingest's way).
            if ((options.Smtp ?? SmtpFromConfiguration(builder.Configuration)) is { } smtp)
            {
                builder.Services.AddSingleton(smtp);
                builder.Services.AddHostedService<Libraries.DigestMailer>();
            }
            // A hosted service: a collection connected at start is there before Kestrel listens (hosted services start first).
            builder.Services.AddHostedService(services => services.GetRequiredService<ServedPapers>());

            var app = builder.Build();
            var resolved = app.Services.GetRequiredService<ServedPapers>(); // resolve now, so the container disposes it even if no request came
            UseCommon(app);
            PageRoutes.Map(app);
            SearchRoutes.Map(app);
            PaperRoutes.Map(app);
            DigestRoutes.Map(app);
            Recommend.RecommendRoutes.Map(app);
            Libraries.LibraryRoutes.Map(app);
            Libraries.LibraryFeed.Map(app);
            Libraries.SubscriptionRoutes.Map(app);
            Duplicates.DuplicateRoutes.Map(app);
            HealthRoutes.Map(app);
            MetricsRoutes.Map(app);
            StatsRoutes.Map(app);
            app.MapOpenApi(); // /openapi/v1.json

            if (served != null) AnnounceAddress(app, served.Collection.Location, key);
            if (options.Log is { } log)
            {
                app.Lifetime.ApplicationStarted.Register(() =>
                {
                    var collection = resolved.Collection;
                    string where = collection.Health.Replicas == null ? $"{collection.PaperCount} papers from {collection.Location}" : $"{collection.Location} ({collection.PaperCount} papers)";
                    log($"serving {where} on {string.Join(", ", Addresses(app))}{(string.IsNullOrEmpty(key) ? "" : " (writes need X-Api-Key)")}");
                    resolved.WhenModelLoaded.ContinueWith(t => log(t.IsCompletedSuccessfully ? "model loaded; ready" : $"not ready: {resolved.NotReadyReason}"), TaskScheduler.Default);
                });
            }
            return app;
        }
        catch
        {
            if (served != null) await served.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Writes papervec.server beside the lock once listening (the command line's verbs send their
    /// requests there while this server holds the directory), and removes it once stopped.
    /// </summary>
    static void AnnounceAddress(WebApplication app, string root, string? key)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            if (Addresses(app).Select(Reachable).OfType<string>().FirstOrDefault() is not { } url) return; // a test server: nothing listens
            try { ServerAddressFile.Write(root, new ServerAddress(url, string.IsNullOrEmpty(key) ? null : key)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                app.Logger.LogWarning("cannot write {File}: {Reason}; the command line will not find this server", ServerAddressFile.PathIn(root), e.Message);
            }
        });
        app.Lifetime.ApplicationStopped.Register(() => ServerAddressFile.Delete(root));
    }

    /// <summary>A bound address as a client on this machine reaches it: a wildcard host (0.0.0.0, [::], +, *) is loopback.</summary>
    static string? Reachable(string address)
    {
        if (!Uri.TryCreate(address.Replace("://+", "://0.0.0.0").Replace("://*", "://0.0.0.0"), UriKind.Absolute, out var uri)) return null;
        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) return null;
        string host = uri.Host is "0.0.0.0" ? "127.0.0.1" : uri.Host is "[::]" or "::" ? "[::1]" : uri.Host;
        return $"{uri.Scheme}://{host}:{uri.Port}";
    }

    /// <summary>PaperVec:Smtp:Host (and :Port, :From, :Tls, :PollSeconds, :RetrySeconds) in configuration, or null: no e-mail digests.</summary>
    static Libraries.SmtpOptions? SmtpFromConfiguration(Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        var section = configuration.GetSection("PaperVec:Smtp");
        if (string.IsNullOrWhiteSpace(section["Host"])) return null;
        int Number(string key, int fallback, int min, int max) =>
            section[key] is not { } text ? fallback
            : int.TryParse(text, out int n) && n >= min && n <= max ? n
            : throw new ServerStartException($"PaperVec:Smtp:{key} must be a whole number from {min} to {max}, not '{text}'");
        var defaults = new Libraries.SmtpOptions(section["Host"]!);
        return defaults with
        {
            Port = Number("Port", 25, 1, 65535),
            From = section["From"] ?? defaults.From,
            Tls = section["Tls"] is { } tls && (bool.TryParse(tls, out bool on) ? on : throw new ServerStartException($"PaperVec:Smtp:Tls must be true or false, not '{tls}'")),
            Poll = TimeSpan.FromSeconds(Number("PollSeconds", (int)defaults.Poll.TotalSeconds, 1, 86400)),
            RetryFirst = TimeSpan.FromSeconds(Number("RetrySeconds", (int)defaults.RetryFirst.TotalSeconds, 1, 86400)),
        };
    }

    /// <summary>One node's collection, opened and recovered now: a data directory held by another process fails start-up at once.</summary>
    static Task<PaperCollection> OpenNodeAsync(ServerOptions options) => PaperCollection.OpenAsync(options.DataPath, options.Storage with
    {
        CheckpointAfterWalBytes = Math.Max(1, (long)options.CheckpointAfterWalMegabytes << 20),
        StoreMemoryBytes = options.StoreMemoryBytes,
        Log = options.Log,
        // The server opens at once and serves meaning-based answers while a damaged lexical index is rebuilt.
        RebuildLexicalInBackground = true,
        RebuildProgress = options.RebuildProgress,
    });

    /// <summary>Problem details for every error, the loopback rule without a key, the URL length limit.</summary>
    static void UseCommon(WebApplication app)
    {
        app.UseMiddleware<ProblemMiddleware>();
        app.UseLoopbackOnlyWithoutKey(app.Services.GetRequiredService<ApiKey>());
        app.UseRequestTargetLimit();
        app.UseStatusCodePages(ProblemMiddleware.WriteStatusProblemAsync); // unknown routes and methods get problem details too
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
