namespace PaperVec.Tests.Cli;

/// <summary>The cluster verbs' refusals: one line and the exit code, before anything starts.</summary>
public class ClusterCommandTests
{
    [Fact]
    public void ServeClusterWithADataDirectoryIsABadUsage()
    {
        var (exit, _, err) = CliRunner.Run("serve", "--cluster", "--data", Path.Combine(Path.GetTempPath(), "pv-never-made"));
        Assert.Equal(2, exit);
        Assert.Contains("with --cluster the silos hold the data", err);
        Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), "pv-never-made")));
    }

    [Fact]
    public void ServeClusterWithNoSiloAnsweringFailsWithOneLine()
    {
        var (exit, _, err) = CliRunner.Run("serve", "--cluster", "--silos", "2", "--gateway-port-base", "29990", "--urls", "http://127.0.0.1:0");
        Assert.Equal(1, exit);
        Assert.Contains("no silo gateway answers on 127.0.0.1 ports 29990..29991", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("cluster", "status", "--membership", "zookeeper:1")]
    [InlineData("silo", "--data", "pv-silo-never-made", "--silo", "0", "--address", "10.0.0.5")]
    [InlineData("silo", "--data", "pv-silo-never-made", "--silo", "0", "--membership", "zookeeper:1")]
    public void ABadMembershipOrAnAddressWithoutOneIsABadUsageThatWritesNothing(params string[] args)
    {
        var (exit, _, err) = CliRunner.Run(args);
        Assert.Equal(2, exit);
        Assert.Contains("membership", err);
        Assert.False(Directory.Exists("pv-silo-never-made"));
    }
}
