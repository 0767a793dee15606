using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using PaperVec.Api.Hosting;
using PaperVec.Api;

namespace PaperVec.Bench.Harness;

/// <summary>
/// The server `bench api` starts when no --url is given: `papervec serve`'s application
/// (PaperVecServer, real Kestrel on a free loopback port) in this process over the prepared data
/// directory, ready (model loaded) before any request is sent. It shares the process, and so the
/// two cores and the garbage collector, with the load generator, as a co-located client would.
/// </summary>
public sealed class BenchServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly string? _scratch;

    public Uri BaseUri { get; }

    BenchServer(WebApplication app, Uri baseUri, string? scratch)
    {
        _app = app;
        BaseUri = baseUri;
        _scratch = scratch;
    }

    /// <param name="scratch">A data directory to delete once the server has stopped (a copy made for writes).</param>
    public static async Task<BenchServer> StartAsync(string dataPath, int queryBatch, string? modelDirectory, string? scratch = null)
    {
        var app = await PaperVecServer.CreateAsync(new ServerOptions
        {
            DataPath = dataPath, Urls = ["http://127.0.0.1:0"], MaxQueryBatch = queryBatch, ModelDirectory = modelDirectory,
        });
        try
        {
            await app.StartAsync().ConfigureAwait(false);
            await app.Services.GetRequiredService<ServedPapers>().WhenModelLoaded.ConfigureAwait(false);
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new BenchServer(app, new Uri(address.TrimEnd('/') + "/"), scratch);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        if (_scratch != null) Directory.Delete(_scratch, true);
    }
}
