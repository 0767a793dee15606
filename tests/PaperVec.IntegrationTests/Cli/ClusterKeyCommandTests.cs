using PaperVec.Cluster.Hosting;

namespace PaperVec.Tests.Cli;

/// <summary>
/// The cluster's certificate and membership at the command line: `cluster cert`, the refusals of a
/// silo listening beyond loopback without it, of a bad certificate, and of `--membership garnet` outside `cluster local`.
/// </summary>
public sealed class ClusterKeyCommandTests : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("papervec-key-cli-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    [Theory]
    [InlineData("cluster.pem")]
    [InlineData("cluster.pfx")]
    public void ClusterCertMakesAnOwnerOnlyCertificateForBothSidesAndNeverOverwritesIt(string name)
    {
        string path = Path.Combine(_root, name);
        var (exit, output, _) = CliRunner.Run("cluster", "cert", "--out", path);
        Assert.Equal(0, exit);
        var certificate = ClusterCertificate.Load(path);
        Assert.True(certificate.Certificate.HasPrivateKey);
        Assert.Contains(certificate.Thumbprint, output);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        byte[] before = File.ReadAllBytes(path);

        (exit, _, var error) = CliRunner.Run("cluster", "cert", "--out", path);
        Assert.Equal(2, exit);
        Assert.Contains("never overwritten", error);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Theory]
    [InlineData("locked.pem")]
    [InlineData("locked.pfx")]
    public void AnEncryptedCertificateOpensOnlyWithItsPassword(string name)
    {
        string path = Path.Combine(_root, name);
        ClusterCertificate.Create(path, "correct horse", days: 30);
        Assert.True(ClusterCertificate.Load(path, "correct horse").Certificate.HasPrivateKey);
        var refused = Assert.Throws<InvalidDataException>(() => ClusterCertificate.Load(path, "wrong"));
        Assert.StartsWith($"cluster certificate {path}: not a readable PFX or PEM", refused.Message);
    }

    [Fact]
    public void ASiloBeyondLoopbackWithoutTheCertificateRefusesToStartAndWritesNothing()
    {
        string data = Path.Combine(_root, "silo");
        var (exit, _, error) = CliRunner.Run("silo", "--data", data, "--silo", "0", "--membership", "redis:127.0.0.1:1", "--address", "10.213.0.9");
        Assert.Equal(2, exit);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("--tls-cert FILE", error);
        Assert.False(Directory.Exists(data));
    }

    [Fact]
    public void ACertificateFileThatIsNotOneIsOneLineNamingIt()
    {
        string path = Path.Combine(_root, "broken.pem");
        File.WriteAllText(path, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
        string data = Path.Combine(_root, "silo");
        var (exit, _, error) = CliRunner.Run("silo", "--data", data, "--silo", "0", "--membership", "redis:127.0.0.1:1", "--address", "10.213.0.9", "--tls-cert", path);
        Assert.Equal(1, exit);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains($"cluster certificate {path}", error);
        Assert.False(Directory.Exists(data));

        (exit, _, error) = CliRunner.Run("cluster", "status", "--tls-cert", Path.Combine(_root, "missing.pfx"));
        Assert.Equal(1, exit);
        Assert.Contains("missing.pfx: no such file", error);
    }

    [Theory]
    [InlineData("cluster", "status", "--membership", "garnet")]
    [InlineData("cluster", "local", "--membership", "garnet:port", "--data", "pv-local-never-made")]
    [InlineData("cluster", "membership-store", "--address", "10.213.0.9")]
    [InlineData("serve", "--tls-cert", "cluster.pem")]
    public void GarnetMembershipOutsideClusterLocalAndAnOpenStoreAreBadUsage(params string[] args)
    {
        Environment.SetEnvironmentVariable("PAPERVEC_MEMBERSHIP_PASSWORD", null);
        var (exit, _, error) = CliRunner.Run(args);
        Assert.Equal(2, exit);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists("pv-local-never-made"));
    }
}
