using PaperVec.Api.Hosting;
using PaperVec.Api;

namespace PaperVec.Tests.Api;

/// <summary>The HTTP host knows only the engine's collection interface: one node or a cluster is the command line's choice (issue 27).</summary>
public class ApiSeamTests
{
    [Fact]
    public void The_api_assembly_references_neither_the_cluster_nor_orleans()
    {
        var referenced = typeof(PaperVecServer).Assembly.GetReferencedAssemblies().Select(a => a.Name ?? "").ToList();
        Assert.Contains("PaperVec", referenced);
        Assert.DoesNotContain(referenced, name => name == "PaperVec.Cluster" || name.StartsWith("Orleans", StringComparison.Ordinal)
            || name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal));
    }

    [Fact]
    public void What_the_routes_serve_is_the_engines_collection_interface()
    {
        var collection = typeof(ServedPapers).GetProperty(nameof(ServedPapers.Collection))!;
        Assert.Equal(typeof(PaperVec.Engine.IPaperCollection), collection.PropertyType);
        Assert.True(typeof(PaperVec.Engine.IPaperCollection).IsAssignableFrom(typeof(PaperVec.Engine.PaperCollection)));
        Assert.True(typeof(PaperVec.Engine.IPaperCollection).IsAssignableFrom(typeof(PaperVec.Cluster.ClusterCollection)));
    }
}
