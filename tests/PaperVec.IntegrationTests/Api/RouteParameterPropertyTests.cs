using Xunit.Abstractions;

namespace PaperVec.Tests.Api;

/// <summary>
/// Issue 26, "every route checks the same way": the seeded property of <see cref="RouteProbe"/> over
/// one node's server (its own, with the sample digests); the cluster half is
/// ClusterFailoverTests.Every_routes_parameters_are_checked_through_serve_cluster_as_on_one_node.
/// </summary>
public class RouteParameterPropertyTests(ITestOutputHelper output)
{
    public const int Seed = 26, Cases = 600;

    [Fact]
    public async Task EveryRoutesParametersOnOneNodeNeverGiveA5xxNorAcceptAnOutOfRangeValue()
    {
        await using var server = await ApiServer.StartAsync();
        await server.PostSampleDigestAsync("daily-papers-mar-11.txt");
        await server.PostSampleDigestAsync("daily-papers-mar-12.txt");
        var known = await RouteProbe.PrepareAsync(server.Client);
        var failures = await RouteProbe.RunAsync(server.Client, known, Seed, Cases, output.WriteLine);
        Assert.True(failures.Count == 0, $"{failures.Count} of {Cases} cases broke the property:\n" + string.Join("\n", failures.Take(40)));
    }
}
