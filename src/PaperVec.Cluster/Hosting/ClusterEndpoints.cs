using System.Net;

namespace PaperVec.Cluster.Hosting;

/// <summary>
/// Where the silos of a loopback (development) cluster listen: silo i on <see cref="SiloPortBase"/> + i
/// for silo-to-silo traffic and <see cref="GatewayPortBase"/> + i for clients. Orleans' development
/// clustering keeps the membership table on silo 0, which the others join.
/// </summary>
public sealed record ClusterEndpoints(int SiloPortBase = 11111, int GatewayPortBase = 30000)
{
    public const string ServiceId = "papervec", ClusterId = "papervec";

    public int SiloPort(int silo) => SiloPortBase + silo;
    public int GatewayPort(int silo) => GatewayPortBase + silo;
    public IPEndPoint PrimarySilo => new(IPAddress.Loopback, SiloPort(0));
    public int[] GatewayPorts(int silos) => Enumerable.Range(0, silos).Select(GatewayPort).ToArray();
}
