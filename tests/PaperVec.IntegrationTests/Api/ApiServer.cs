using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using PaperVec.Api.Hosting;
using PaperVec.Api;

namespace PaperVec.Tests.Api;

/// <summary>A real PaperVec server (real store, index and model) on an in-memory TestServer over a throwaway data directory.</summary>
public sealed class ApiServer : IAsyncDisposable
{
    public WebApplication App { get; }
    public HttpClient Client { get; }
    public string DataPath { get; }
    public ServedPapers Library => App.Services.GetRequiredService<ServedPapers>();
    /// <summary>The node's storage below the collection, for assertions on what is stored.</summary>
    public PaperVec.Storage.PaperDatabase Database => ((PaperVec.Engine.PaperCollection)Library.Collection).Database;

    ApiServer(WebApplication app, string dataPath)
    {
        App = app;
        DataPath = dataPath;
        Client = app.GetTestClient();
    }

    public static async Task<ApiServer> StartAsync(ServerOptions? options = null, bool waitForModel = true)
    {
        string data = Directory.CreateTempSubdirectory("pv-api-").FullName;
        var app = await PaperVecServer.CreateAsync((options ?? new ServerOptions()) with { DataPath = data, ModelDirectory = RepoPaths.ModelDir },
            builder => builder.WebHost.UseTestServer());
        await app.StartAsync();
        var server = new ApiServer(app, data);
        if (waitForModel) await server.Library.WhenModelLoaded;
        return server;
    }

    /// <summary>Posts one of the sample digests as its text, dated 2025.</summary>
    public async Task<JsonElement> PostSampleDigestAsync(string file)
    {
        var body = new ByteArrayContent(File.ReadAllBytes(Path.Combine(RepoPaths.Digests, file)));
        var response = await Client.PostAsync($"/digests?year=2025&name={Path.GetFileNameWithoutExtension(file)}", body);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        Directory.Delete(DataPath, true);
    }
}

/// <summary>One server with both sample digests ingested (through POST /digests), shared by the API tests.</summary>
public sealed class SampleServerFixture : IAsyncLifetime
{
    public ApiServer Server { get; private set; } = null!;
    public JsonElement Mar11 { get; private set; }
    public JsonElement Mar12 { get; private set; }

    public async Task InitializeAsync()
    {
        Server = await ApiServer.StartAsync();
        Mar11 = await Server.PostSampleDigestAsync("daily-papers-mar-11.txt");
        Mar12 = await Server.PostSampleDigestAsync("daily-papers-mar-12.txt");
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition("sample server")]
public sealed class SampleServerCollection : ICollectionFixture<SampleServerFixture>;

/// <summary>Problem-details checks shared by the API tests.</summary>
static class Problems
{
    /// <summary>Asserts an RFC 7807 answer with the status and a detail mentioning <paramref name="detailPart"/>; returns the detail.</summary>
    public static async Task<string> AssertProblemAsync(HttpResponseMessage response, int status, string detailPart)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(status, json.RootElement.GetProperty("status").GetInt32());
        string detail = json.RootElement.GetProperty("detail").GetString()!;
        Assert.Contains(detailPart, detail);
        return detail;
    }
}
