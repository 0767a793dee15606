namespace PaperVec.Tests.Cluster;

/// <summary>Ports for a test cluster's silos, gateways and membership store.</summary>
static class FreePorts
{
    /// <summary>
    /// The first of ten consecutive ports that are free now, below Linux's ephemeral range (32768
    /// and up), so no outgoing connection of a test running alongside takes one of them between
    /// here and the silos' start.
    /// </summary>
    public static int Block()
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            int basePort = 10000 + Random.Shared.Next(0, 2200) * 10;
            var listeners = new List<System.Net.Sockets.TcpListener>();
            try
            {
                for (int port = basePort; port < basePort + 10; port++)
                {
                    var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
                    listener.Start();
                    listeners.Add(listener);
                }
                return basePort;
            }
            catch (System.Net.Sockets.SocketException) { }
            finally { foreach (var listener in listeners) listener.Stop(); }
        }
        throw new InvalidOperationException("no ten free consecutive ports below 32000");
    }
}
