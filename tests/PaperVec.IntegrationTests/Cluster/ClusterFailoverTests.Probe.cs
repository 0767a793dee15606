using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using PaperVec.Api.Hosting;
using PaperVec.Cluster;
using PaperVec.Cluster.Hosting;
using PaperVec.Tests.Api;

namespace PaperVec.Tests.Cluster;

public sealed partial class ClusterFailoverTests
{
    /// <summary>
    /// The cluster half of the route property (<see cref="RouteProbe"/>): `serve --cluster` over 3 silo
    /// processes (one cluster start), the sample digests posted through it, the same seeded cases as
    /// one node's: no 5xx, every out-of-range value a 4xx naming the parameter, in-range values answered.
    /// </summary>
    [Fact]
    [Trait("Category", "Cluster")]
    public async Task Every_routes_parameters_are_checked_through_serve_cluster_as_on_one_node()
    {
        await WithClusterAsync(ClusterMembership.Development, async (_, _, endpoints) =>
        {
            var app = await PaperVec.Cli.Hosting.ClusterServer.CreateAsync(new ServerOptions { ModelDirectory = RepoPaths.ModelDir }, new PaperVec.Cli.Hosting.ClusterConnection(endpoints, 3, ClusterMembership.Development),
                builder => builder.WebHost.UseTestServer());
            await app.StartAsync();
            try
            {
                await app.Services.GetRequiredService<ServedPapers>().WhenModelLoaded;
                var http = app.GetTestClient();
                foreach (var file in new[] { "daily-papers-mar-11.txt", "daily-papers-mar-12.txt" })
                {
                    var response = await http.PostAsync($"/digests?year=2025&name={Path.GetFileNameWithoutExtension(file)}",
                        new ByteArrayContent(File.ReadAllBytes(Path.Combine(RepoPaths.Digests, file))));
                    Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
                }
                var known = await RouteProbe.PrepareAsync(http);
                // /ready polls every 2 s: wait for the first poll that sees every replica, so the health route's case is fair.
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while ((await http.GetAsync("/ready")).StatusCode != System.Net.HttpStatusCode.OK && DateTime.UtcNow < deadline) await Task.Delay(250);
                var failures = await RouteProbe.RunAsync(http, known, RouteParameterPropertyTests.Seed, RouteParameterPropertyTests.Cases, output.WriteLine);
                Assert.True(failures.Count == 0, $"{failures.Count} cases broke the property through the cluster:\n" + string.Join("\n", failures.Take(40)));
            }
            finally
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
        });
    }
}
